package desk

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"paydesk/store"
)

// throttle slows down password guessing, per username and per client
// address: after a few failures each further failure doubles the wait.
//
// An attempt is counted when it starts (reserve), before its password is
// checked, and ends as a failure (failed) or not (succeed, release). While
// attempts are in flight, no more start than could fail without a wait
// beginning. Counting after the check would let a burst of parallel
// guesses all pass the "must wait?" test before the first failure is
// recorded, and each be hashed.
//
// A console alone keeps the counts in memory. Consoles sharing a database
// (PostgreSQL) keep them there, so that guesses spread over several
// consoles are counted together: with counts per console, each would let
// through its own free failures.
type throttle struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[string]*throttleState // the counts, when kept in memory
	db   *store.DB                 // where the counts are kept, when shared
	log  *slog.Logger
	// forgotAt is when counts left idle were last deleted from db.
	forgotAt time.Time
}

type throttleState struct {
	failures int       // failed attempts
	pending  int       // attempts counted by reserve whose check has not ended
	until    time.Time // no attempt before this
	last     time.Time // last attempt counted
	refused  int       // attempts refused since the wait began, for the audit log
}

// empty: nothing is counted, and the key needs no state.
func (st *throttleState) empty() bool { return st.failures == 0 && st.pending == 0 && st.refused == 0 }

const (
	throttleFree    = 5                // failures allowed before waiting starts
	throttleBase    = 2 * time.Second  // first wait
	throttleMax     = 15 * time.Minute // longest wait
	throttleForgive = time.Hour        // failures older than this are forgotten
	// throttleInFlight: an attempt counted in a shared count whose check
	// has not ended this long after the key's last attempt belonged to a
	// console that stopped mid-check, and is no longer counted.
	throttleInFlight = time.Minute
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, keys: map[string]*throttleState{}, log: slog.New(slog.DiscardHandler)}
}

// shared makes t keep its counts in db, shared by every console on it.
func (t *throttle) shared(db *store.DB, log *slog.Logger) {
	t.db, t.log = db, log
}

// with runs f over the states of keys (zero for a key without one) with
// no other attempt on those keys in between, in this console or, when the
// counts are shared, any other; then keeps what f left.
func (t *throttle) with(keys []string, f func(now time.Time, sts []*throttleState)) error {
	if t.db == nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		now := t.now()
		t.forget(now)
		sts := make([]*throttleState, len(keys))
		for i, k := range keys {
			sts[i] = t.state(k)
		}
		f(now, sts)
		for i, k := range keys {
			if sts[i].empty() {
				delete(t.keys, k)
			}
		}
		return nil
	}
	ctx := context.Background()
	now := t.now()
	t.mu.Lock()
	forget := now.Sub(t.forgotAt) > time.Minute
	if forget {
		t.forgotAt = now
	}
	t.mu.Unlock()
	if forget {
		if _, err := t.db.ForgetThrottles(ctx, now.Add(-throttleForgive), now); err != nil {
			t.log.Error("forget sign-in throttle counts", "err", err)
		}
	}
	return t.db.UpdateThrottle(ctx, keys, func(counts []*store.ThrottleCount) {
		// counts are in key order, one per distinct key.
		byKey := map[string]*throttleState{}
		for _, c := range counts {
			byKey[c.Key] = stateOf(*c, now)
		}
		sts := make([]*throttleState, len(keys))
		for i, k := range keys {
			sts[i] = byKey[k]
		}
		f(now, sts)
		for _, c := range counts {
			st := byKey[c.Key]
			*c = store.ThrottleCount{Key: c.Key, Failures: st.failures, Pending: st.pending, Refused: st.refused, Until: st.until, Last: st.last}
		}
	})
}

// stateOf is a shared count as a state at now: attempts still in flight
// long after the key's last attempt are no longer counted, and failures
// long forgiven are forgotten.
func stateOf(c store.ThrottleCount, now time.Time) *throttleState {
	st := &throttleState{failures: c.Failures, pending: c.Pending, until: c.Until, last: c.Last, refused: c.Refused}
	if now.Sub(st.last) > throttleInFlight {
		st.pending = 0
	}
	if st.pending == 0 && now.Sub(st.last) > throttleForgive && !st.until.After(now) {
		*st = throttleState{}
	}
	return st
}

// backoff is the wait that the failures-th failure starts.
func backoff(failures int) time.Duration {
	if failures <= throttleFree {
		return 0
	}
	return min(throttleBase<<min(failures-throttleFree-1, 10), throttleMax)
}

// throttleAttempt is the outcome of reserve.
type throttleAttempt struct {
	// wait, when above zero, refuses the attempt: nothing was counted.
	wait time.Duration
	// episode is set on a refusal that is the first since a key's wait
	// began: the one refusal of the episode that goes into the audit log.
	episode bool
	// inFlight is set on a refusal caused only by attempts still being
	// checked, with no failure yet to wait for.
	inFlight bool
	// refused, on an attempt let through, is how many attempts were refused
	// on its keys while they were throttled since the last one let through.
	refused int
}

// hold is how long a key holds further attempts off now: until its wait
// ends, and while attempts in flight could, all failing, use up the free
// failures (or, once waiting has begun, while one is in flight).
func (st *throttleState) hold(now time.Time) time.Duration {
	d := st.until.Sub(now)
	if st.pending > 0 && st.failures+st.pending > throttleFree {
		d = max(d, backoff(st.failures+st.pending))
	}
	return d
}

// reserve counts an attempt for every key before its password is checked,
// unless one of them must wait. The caller ends the attempt with failed,
// succeed or release. An error (the shared counts could not be read)
// counts nothing, and the attempt must not go on.
func (t *throttle) reserve(keys ...string) (throttleAttempt, error) {
	var a throttleAttempt
	err := t.with(keys, func(now time.Time, sts []*throttleState) {
		a = throttleAttempt{}
		for _, st := range sts {
			a.wait = max(a.wait, st.hold(now))
		}
		if a.wait > 0 {
			a.inFlight = true
			for _, st := range sts {
				if st.until.After(now) {
					a.inFlight = false
				}
			}
			for _, st := range sts {
				if st.hold(now) > 0 {
					if st.refused == 0 {
						a.episode = true
					}
					st.refused++
				}
			}
			return
		}
		for _, st := range sts {
			// The same refused attempts are usually counted on both keys.
			a.refused = max(a.refused, st.refused)
			st.refused = 0
			st.pending++
			st.last = now
		}
	})
	if err != nil {
		return throttleAttempt{}, fmt.Errorf("sign-in throttle: %w", err)
	}
	return a, nil
}

// state returns the state of key k, creating it. t.mu is held.
func (t *throttle) state(k string) *throttleState {
	st := t.keys[k]
	if st == nil {
		st = &throttleState{}
		t.keys[k] = st
	}
	return st
}

// end runs f over the states of keys for an attempt's end. Its count is
// kept whatever the caller does next, so an error is logged here (the
// attempt stays counted as in flight until throttleInFlight passes).
func (t *throttle) end(keys []string, f func(now time.Time, sts []*throttleState)) {
	if err := t.with(keys, f); err != nil {
		t.log.Error("sign-in throttle", "err", err)
	}
}

// failed ends attempts counted by reserve as failures.
func (t *throttle) failed(keys ...string) {
	t.end(keys, func(now time.Time, sts []*throttleState) {
		for _, st := range sts {
			st.pending = max(st.pending-1, 0)
			st.addFailure(now)
		}
	})
}

func (st *throttleState) addFailure(now time.Time) {
	st.failures++
	st.last = now
	if d := backoff(st.failures); d > 0 {
		st.until = now.Add(d)
	}
}

// release ends attempts counted by reserve that were not failures: the
// password was right, or it was never checked.
func (t *throttle) release(keys ...string) {
	t.end(keys, func(_ time.Time, sts []*throttleState) {
		for _, st := range sts {
			st.pending = max(st.pending-1, 0)
		}
	})
}

// succeed forgets the failures of the username key and releases the
// attempt on the others (the address keeps its failures, so that one valid
// account cannot be used to reset guessing from an address).
func (t *throttle) succeed(userKey string, others ...string) {
	t.end(append([]string{userKey}, others...), func(_ time.Time, sts []*throttleState) {
		*sts[0] = throttleState{}
		for _, st := range sts[1:] {
			st.pending = max(st.pending-1, 0)
		}
	})
}

// wait reports how long the caller must still wait before another attempt
// for any of the keys.
func (t *throttle) wait(keys ...string) time.Duration {
	now := t.now()
	var longest time.Duration
	if t.db == nil {
		t.mu.Lock()
		defer t.mu.Unlock()
		for _, k := range keys {
			if st, ok := t.keys[k]; ok {
				longest = max(longest, st.hold(now))
			}
		}
		return longest
	}
	counts, err := t.db.ThrottleCounts(context.Background(), keys)
	if err != nil {
		t.log.Error("sign-in throttle", "err", err)
		return 0
	}
	for _, c := range counts {
		longest = max(longest, stateOf(c, now).hold(now))
	}
	return longest
}

// fail records a failed attempt for every key, for checks that were not
// reserved beforehand.
func (t *throttle) fail(keys ...string) {
	t.end(keys, func(now time.Time, sts []*throttleState) {
		for _, st := range sts {
			st.addFailure(now)
		}
	})
}

// forget drops keys with nothing in flight whose last attempt is older than
// throttleForgive. t.mu is held.
func (t *throttle) forget(now time.Time) {
	for k, st := range t.keys {
		if st.pending == 0 && now.Sub(st.last) > throttleForgive && !st.until.After(now) {
			delete(t.keys, k)
		}
	}
}

func userThrottleKey(username string) string {
	return "u:" + strings.ToLower(strings.TrimSpace(username))
}
func addrThrottleKey(addr string) string { return "a:" + addr }
