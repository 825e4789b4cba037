package desk

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"paydesk/store"
)

func sharedThrottle(c *Config) { c.SharedThrottle = true }

// Two consoles on one database count sign-in failures together: guesses
// sent to them in turn start the wait after the same number of failures
// as guesses sent to one, and the wait holds on both. With counts per
// console, each would let through its own free failures.
func TestSignInThrottleSharedByConsoles(t *testing.T) {
	e := newCoreEnv(t, sharedThrottle)
	ctx := context.Background()
	other, _ := e.instance(sharedThrottle)
	name := e.addUser("vera", store.RoleViewer).Username
	consoles := []*Desk{e.d, other}
	for i := range throttleFree + 1 {
		// Each guess from its own address: only the username's count
		// stops them.
		if _, err := consoles[i%2].SignIn(ctx, name, "wrong-password-1", fmt.Sprintf("198.51.100.%d", i)); err != errWrongPassword {
			t.Fatalf("guess %d: %v, want the wrong-password answer", i, err)
		}
	}
	for i, d := range consoles {
		if _, err := d.SignIn(ctx, name, "test-password-123", "203.0.113.7"); !isKind(err, TooMany) {
			t.Fatalf("console %d after %d failures on both: %v, want a wait", i, throttleFree+1, err)
		}
	}
	if w := other.throttle.wait(userThrottleKey(name)); w <= 0 || w > throttleBase {
		t.Fatalf("wait seen by the other console: %s", w)
	}
	e.clock.Advance(throttleBase + time.Second)
	if in, err := other.SignIn(ctx, name, "test-password-123", "203.0.113.7"); err != nil || in.User.Username != name {
		t.Fatalf("after the wait: %+v %v", in, err)
	}
	// The right password forgave the username on both consoles.
	if w := e.d.throttle.wait(userThrottleKey(name)); w != 0 {
		t.Fatalf("wait after a right password: %s", w)
	}
	var rows int
	if err := e.db.QueryRowContext(ctx, `SELECT count(*) FROM signin_throttle WHERE key = ?`, userThrottleKey(name)).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("the username's count is still stored: %d %v", rows, err)
	}
}

// Parallel guesses spread over two consoles, each from its own address,
// are counted before they are hashed against one shared count: no more are
// hashed than one console alone would hash.
func TestParallelGuessesOnTwoConsolesHashOnce(t *testing.T) {
	e := newCoreEnv(t, sharedThrottle)
	ctx := context.Background()
	other, _ := e.instance(sharedThrottle)
	name := e.addUser("vera", store.RoleViewer).Username
	consoles := []*Desk{e.d, other}
	var before int64
	for _, d := range consoles {
		_, _, n := d.HashStats()
		before += n
	}
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := consoles[i%2].SignIn(ctx, name, fmt.Sprintf("guess-%d", i), fmt.Sprintf("198.51.100.%d", i))
			if err != errWrongPassword && !isKind(err, TooMany) {
				t.Errorf("guess %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	var after int64
	for _, d := range consoles {
		_, _, n := d.HashStats()
		after += n
	}
	if hashed := after - before; hashed > throttleFree+1 || hashed < 1 {
		t.Fatalf("%d guesses hashed on two consoles, want 1–%d", hashed, throttleFree+1)
	}
	if _, err := other.SignIn(ctx, name, "test-password-123", "203.0.113.7"); !isKind(err, TooMany) {
		t.Fatalf("right password right after the storm: %v, want a wait", err)
	}
}

// An attempt counted as being checked by a console that then stopped holds
// the key no longer than throttleInFlight after its last attempt; counts
// idle for throttleForgive are deleted.
func TestSharedThrottleOutlivesAStoppedConsole(t *testing.T) {
	e := newCoreEnv(t, sharedThrottle)
	th := e.d.throttle
	key := userThrottleKey("vera")
	for i := range throttleFree + 1 {
		if a, err := th.reserve(key); err != nil || a.wait != 0 {
			t.Fatalf("attempt %d: %+v %v", i, a, err)
		}
	}
	// Six attempts in flight, none ended (their console stopped).
	if a, err := th.reserve(key); err != nil || a.wait == 0 || !a.inFlight {
		t.Fatalf("seventh attempt while six are checked: %+v %v", a, err)
	}
	e.clock.Advance(throttleInFlight + time.Second)
	if a, err := th.reserve(key); err != nil || a.wait != 0 {
		t.Fatalf("attempt after the stopped console's are dropped: %+v %v", a, err)
	}
	th.failed(key)
	e.clock.Advance(throttleForgive + time.Minute)
	th.wait(key)
	th.reserve(userThrottleKey("someone")) // deletes idle counts
	var rows int
	if err := e.db.QueryRowContext(context.Background(), `SELECT count(*) FROM signin_throttle WHERE key = ?`, key).Scan(&rows); err != nil || rows != 0 {
		t.Fatalf("an idle count is kept: %d %v", rows, err)
	}
}

// The shared count and the count in memory decide alike, attempt by
// attempt, over a run of failures, refusals, waits and a success.
func TestSharedThrottleDecidesAsInMemory(t *testing.T) {
	e := newCoreEnv(t, sharedThrottle)
	at := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	now := func() time.Time { return at }
	mem := newThrottle(now)
	shared := e.d.throttle
	shared.now = now
	keys := []string{userThrottleKey("vera"), addrThrottleKey("192.0.2.1")}
	for step := range 40 {
		a1, err1 := mem.reserve(keys...)
		a2, err2 := shared.reserve(keys...)
		if err1 != nil || err2 != nil || a1 != a2 {
			t.Fatalf("step %d: in memory %+v %v, shared %+v %v", step, a1, err1, a2, err2)
		}
		if a1.wait == 0 {
			if step == 25 {
				mem.succeed(keys[0], keys[1])
				shared.succeed(keys[0], keys[1])
			} else {
				mem.failed(keys...)
				shared.failed(keys...)
			}
		}
		if w1, w2 := mem.wait(keys...), shared.wait(keys...); w1 != w2 {
			t.Fatalf("step %d: wait in memory %s, shared %s", step, w1, w2)
		}
		at = at.Add(time.Duration(step%7) * time.Second)
	}
}
