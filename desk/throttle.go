package desk

import (
	"strings"
	"sync"
	"time"
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
type throttle struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[string]*throttleState
}

type throttleState struct {
	failures int       // failed attempts
	pending  int       // attempts counted by reserve whose check has not ended
	until    time.Time // no attempt before this
	last     time.Time // last attempt counted
	refused  int       // attempts refused since the wait began, for the audit log
}

const (
	throttleFree    = 5                // failures allowed before waiting starts
	throttleBase    = 2 * time.Second  // first wait
	throttleMax     = 15 * time.Minute // longest wait
	throttleForgive = time.Hour        // failures older than this are forgotten
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{now: now, keys: map[string]*throttleState{}}
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
// succeed or release.
func (t *throttle) reserve(keys ...string) throttleAttempt {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.forget(now)
	var a throttleAttempt
	for _, k := range keys {
		if st, ok := t.keys[k]; ok {
			a.wait = max(a.wait, st.hold(now))
		}
	}
	if a.wait > 0 {
		a.inFlight = true
		for _, k := range keys {
			if st, ok := t.keys[k]; ok && st.until.After(now) {
				a.inFlight = false
			}
		}
		for _, k := range keys {
			if st, ok := t.keys[k]; ok && st.hold(now) > 0 {
				if st.refused == 0 {
					a.episode = true
				}
				st.refused++
			}
		}
		return a
	}
	for _, k := range keys {
		st := t.state(k)
		// The same refused attempts are usually counted on both keys.
		a.refused = max(a.refused, st.refused)
		st.refused = 0
		st.pending++
		st.last = now
	}
	return a
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

// failed ends attempts counted by reserve as failures.
func (t *throttle) failed(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		st := t.state(k)
		st.pending = max(st.pending-1, 0)
		st.addFailure(now)
	}
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
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		if st, ok := t.keys[k]; ok {
			st.pending = max(st.pending-1, 0)
		}
	}
}

// succeed forgets the failures of the username key and releases the
// attempt on the others (the address keeps its failures, so that one valid
// account cannot be used to reset guessing from an address).
func (t *throttle) succeed(userKey string, others ...string) {
	t.mu.Lock()
	delete(t.keys, userKey)
	t.mu.Unlock()
	t.release(others...)
}

// wait reports how long the caller must still wait before another attempt
// for any of the keys.
func (t *throttle) wait(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var longest time.Duration
	for _, k := range keys {
		if st, ok := t.keys[k]; ok {
			longest = max(longest, st.hold(now))
		}
	}
	return longest
}

// fail records a failed attempt for every key, for checks that were not
// reserved beforehand.
func (t *throttle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	t.forget(now)
	for _, k := range keys {
		t.state(k).addFailure(now)
	}
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
