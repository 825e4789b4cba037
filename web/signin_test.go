package web

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"paydesk/desk"
	"paydesk/store"
)

// signInFrom posts the sign-in form as a browser behind the console's
// proxy at client address addr would (the test server's peer is loopback,
// a trusted proxy). Safe to call from many goroutines.
func (e *testEnv) signInFrom(addr, username, password string) (int, string, error) {
	req, _ := http.NewRequest("POST", e.ts.URL+"/login", strings.NewReader(url.Values{"username": {username}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", addr)
	req.Header.Set("Accept-Language", "en")
	res, err := e.browser().c.Do(req)
	if err != nil {
		return 0, "", err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, string(body), err
}

// auditDetails lists the details of the audit rows with action, oldest first.
func (e *testEnv) auditDetails(action string) []string {
	e.t.Helper()
	es, err := e.db.AuditEntries(context.Background(), store.AuditFilter{Action: action})
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for i := len(es) - 1; i >= 0; i-- {
		if es[i].Action == action {
			out = append(out, es[i].Detail)
		}
	}
	return out
}

func countPrefix(list []string, prefix string) int {
	n := 0
	for _, s := range list {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// Sixty wrong passwords for one username sent at once, each from another
// address, must not all be checked: the attempt is counted before its hash.
func TestParallelGuessesAreCountedBeforeHashing(t *testing.T) {
	// A long HashWait: on a loaded machine no guess may be answered busy.
	env := newTestEnv(t, func(c *testConfig) { c.TrustProxy = true; c.Core.HashWait = time.Minute })
	env.freeze()
	name := env.addUser(store.RoleViewer)
	const guesses = 60
	statuses := make([]int, guesses)
	var wg sync.WaitGroup
	for i := range guesses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, err := env.signInFrom(fmt.Sprintf("203.0.113.%d", i+1), name, fmt.Sprintf("wrong-guess-%02d", i))
			if err != nil {
				t.Error(err)
			}
			statuses[i] = code
		}()
	}
	wg.Wait()
	code, body, err := env.signInFrom("198.51.100.9", name, testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins.") {
		t.Fatalf("right password after %d parallel guesses: %d, want 429", guesses, code)
	}
	_, _, evaluated := env.desk.HashStats()
	if evaluated > throttleFree+1 {
		t.Fatalf("%d of %d parallel guesses were hashed; at most %d may be", evaluated, guesses, throttleFree+1)
	}
	wrong := 0
	for _, c := range statuses {
		switch c {
		case http.StatusUnprocessableEntity:
			wrong++
		case http.StatusTooManyRequests:
		default:
			t.Errorf("a guess was answered %d", c)
		}
	}
	if int64(wrong) != evaluated {
		t.Errorf("%d guesses answered wrong password, %d hashes evaluated", wrong, evaluated)
	}

	// One audit row for the whole throttling episode, not one per refusal;
	// the next attempt let through carries the count.
	failed := env.auditDetails("auth.login_failed")
	if n := countPrefix(failed, "refused:"); n != 1 {
		t.Fatalf("%d audit rows for refused sign-ins, want 1: %q", n, failed)
	}
	if n := countPrefix(failed, "wrong password"); n != wrong {
		t.Fatalf("%d audit rows for wrong passwords, want %d", n, wrong)
	}
	env.advance(throttleMax)
	if code, _, _ := env.signInFrom("198.51.100.9", name, testPassword); code != http.StatusSeeOther {
		t.Fatalf("right password after the wait: %d", code)
	}
	want := fmt.Sprintf("%d sign-ins refused while throttled", guesses-wrong+1)
	if logins := env.auditDetails("auth.login"); len(logins) != 1 || !strings.Contains(logins[0], want) {
		t.Fatalf("sign-in audit rows %q, want one saying %q", logins, want)
	}
}

// Each throttling episode writes one audit row, however many attempts it
// refuses; a new episode writes a new one.
func TestThrottleAuditsOneRowPerEpisode(t *testing.T) {
	env := newTestEnv(t)
	env.freeze()
	name := env.addUser(store.RoleViewer)
	b := env.browser()
	wrong := url.Values{"username": {name}, "password": {"wrong-password-1"}}
	for range throttleFree + 1 {
		if res := b.postForm("/login", wrong); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("failure: %d", res.StatusCode)
		}
	}
	for range 10 {
		if res := b.postForm("/login", wrong); res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("while throttled: %d", res.StatusCode)
		}
	}
	failed := env.auditDetails("auth.login_failed")
	if n := countPrefix(failed, "refused:"); n != 1 {
		t.Fatalf("%d audit rows for 10 refused sign-ins, want 1: %q", n, failed)
	}
	env.advance(throttleBase)
	if res := b.postForm("/login", wrong); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("after the wait: %d", res.StatusCode)
	}
	failed = env.auditDetails("auth.login_failed")
	if last := failed[len(failed)-1]; !strings.Contains(last, "10 sign-ins refused while throttled") {
		t.Fatalf("the attempt after the episode says %q", last)
	}
	for range 3 {
		b.postForm("/login", wrong)
	}
	if n := countPrefix(env.auditDetails("auth.login_failed"), "refused:"); n != 2 {
		t.Fatalf("%d refusal rows after a second episode, want 2", n)
	}
}

// Parallel sign-ins never run more password hashes at once than the limit.
func TestSignInHashesStayWithinTheLimit(t *testing.T) {
	const limit, users = 2, 24
	env := newTestEnv(t, func(c *testConfig) {
		c.TrustProxy = true
		c.Core.HashConcurrency = limit
		c.Core.HashWait = time.Minute
	})
	hash, err := desk.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	for i := range users {
		if _, err := env.db.CreateUser(context.Background(), fmt.Sprintf("staff%02d", i), store.RoleViewer, hash, false); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			code, _, err := env.signInFrom(fmt.Sprintf("203.0.113.%d", i+1), fmt.Sprintf("staff%02d", i), testPassword)
			if err != nil || code != http.StatusSeeOther {
				t.Errorf("sign-in %d: %d %v", i, code, err)
			}
		}()
	}
	wg.Wait()
	_, peak, evaluated := env.desk.HashStats()
	if peak > limit || peak < 1 {
		t.Fatalf("%d hashes ran at once, limit %d", peak, limit)
	}
	if evaluated != users {
		t.Fatalf("%d hashes for %d sign-ins", evaluated, users)
	}
}

// The throttle's published rules: five failures free, then a wait of 2 s
// doubling with each further failure, up to 15 minutes.
const (
	throttleFree = 5
	throttleBase = 2 * time.Second
	throttleMax  = 15 * time.Minute
)
