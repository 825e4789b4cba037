package desk

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// hashLimiter bounds how many argon2id evaluations run at once. Each takes
// 19 MiB and a core for tens of milliseconds: unbounded, a burst of
// sign-ins takes the process's memory into gigabytes and starves every
// other request, callbacks included. Every password check and hash the
// console makes goes through it.
type hashLimiter struct {
	slots chan struct{}
	wait  time.Duration // longest wait for a slot before answering busy

	running   atomic.Int64
	peak      atomic.Int64 // most evaluations seen running at once
	evaluated atomic.Int64 // argon2id evaluations made
}

// errHashBusy is returned when no hashing slot came free in time; nothing
// was hashed.
var errHashBusy = refuse(Busy, "The console is busy checking other sign-ins. Try again in a few seconds.")

func newHashLimiter(n int, wait time.Duration) *hashLimiter {
	if wait <= 0 {
		wait = 2 * time.Second
	}
	return &hashLimiter{slots: make(chan struct{}, hashSlots(n)), wait: wait}
}

// hashSlots is how many hashes run at once for Config.HashConcurrency n.
func hashSlots(n int) int {
	if n <= 0 {
		// One core stays free for callbacks and pages during a burst of
		// sign-ins: with every core hashing, callback latency grows
		// several-fold.
		n = max(1, runtime.NumCPU()-1)
	}
	return n
}

// HashMemory is the most memory password hashing holds at once, in bytes,
// for Config.HashConcurrency n: each argon2id hash takes 19 MiB.
func HashMemory(n int) int64 { return int64(hashSlots(n)) * argonMemory * 1024 }

// do runs fn in a hashing slot, waiting at most l.wait for one.
func (l *hashLimiter) do(ctx context.Context, fn func()) error {
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
	case <-t.C:
		return errHashBusy
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-l.slots }()
	n := l.running.Add(1)
	defer l.running.Add(-1)
	for p := l.peak.Load(); n > p && !l.peak.CompareAndSwap(p, n); p = l.peak.Load() {
	}
	l.evaluated.Add(1)
	fn()
	return nil
}

// check reports whether password matches the encoded hash.
func (l *hashLimiter) check(ctx context.Context, encoded, password string) (bool, error) {
	var ok bool
	err := l.do(ctx, func() { ok = CheckPassword(encoded, password) })
	return ok, err
}

// hash returns an encoded argon2id hash of password.
func (l *hashLimiter) hash(ctx context.Context, password string) (string, error) {
	var h string
	var herr error
	if err := l.do(ctx, func() { h, herr = HashPassword(password) }); err != nil {
		return "", err
	}
	return h, herr
}

// HashStats are the counts of password hashing: evaluations running now,
// the most seen running at once, and all made.
func (d *Desk) HashStats() (running, peak, evaluated int64) {
	return d.hasher.running.Load(), d.hasher.peak.Load(), d.hasher.evaluated.Load()
}
