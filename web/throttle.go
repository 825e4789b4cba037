package web

import (
	"strings"
	"sync"
	"time"
)

// throttle slows down password guessing, per username and per client
// address: after a few failures each further failure doubles the wait.
type throttle struct {
	mu   sync.Mutex
	now  func() time.Time
	keys map[string]*throttleState
}

type throttleState struct {
	failures int
	until    time.Time
	last     time.Time
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

// wait reports how long the caller must still wait before another attempt
// for any of the keys.
func (t *throttle) wait(keys ...string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	var longest time.Duration
	for _, k := range keys {
		if st, ok := t.keys[k]; ok {
			if d := st.until.Sub(now); d > longest {
				longest = d
			}
		}
	}
	return longest
}

// fail records a failed attempt for every key.
func (t *throttle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for k, st := range t.keys {
		if now.Sub(st.last) > throttleForgive {
			delete(t.keys, k)
		}
	}
	for _, k := range keys {
		st := t.keys[k]
		if st == nil {
			st = &throttleState{}
			t.keys[k] = st
		}
		st.failures++
		st.last = now
		if st.failures > throttleFree {
			d := throttleBase << min(st.failures-throttleFree-1, 10)
			st.until = now.Add(min(d, throttleMax))
		}
	}
}

// succeed forgets the failures of the username key (not of the address, so
// that one valid account cannot be used to reset guessing from an address).
func (t *throttle) succeed(userKey string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.keys, userKey)
}

func userThrottleKey(username string) string {
	return "u:" + strings.ToLower(strings.TrimSpace(username))
}
func addrThrottleKey(addr string) string { return "a:" + addr }
