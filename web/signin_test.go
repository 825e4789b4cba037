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

	"paydesk/store"
)

// signInFrom posts the sign-in form as a browser behind the console's
// proxy at client address addr would (the test server's peer is loopback,
// a trusted proxy). Safe to call from many goroutines.
func (e *testEnv) signInFrom(addr, username, password string) (int, string, error) {
	req, _ := http.NewRequest("POST", e.ts.URL+"/login", strings.NewReader(url.Values{"username": {username}, "password": {password}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", addr)
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
	env := newTestEnv(t, func(c *testConfig) { c.TrustProxy = true; c.HashWait = time.Minute })
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
	evaluated := env.srv.hasher.evaluated.Load()
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
	env := newTestEnv(t, func(c *testConfig) { c.TrustProxy = true; c.HashConcurrency = limit; c.HashWait = time.Minute })
	hash, err := HashPassword(testPassword)
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
	if peak := env.srv.hasher.peak.Load(); peak > limit || peak < 1 {
		t.Fatalf("%d hashes ran at once, limit %d", peak, limit)
	}
	if n := env.srv.hasher.evaluated.Load(); n != users {
		t.Fatalf("%d hashes for %d sign-ins", n, users)
	}
}

// When no hashing slot comes free in time, sign-in, password change and
// user creation answer busy with a sentence, hash nothing, and the sign-in
// attempt does not count against the throttle.
func TestBusyHashingAnswersWithoutHashing(t *testing.T) {
	env := newTestEnv(t, func(c *testConfig) { c.HashConcurrency = 1; c.HashWait = 20 * time.Millisecond })
	admin, _ := env.signedIn(store.RoleAdmin)
	name := env.addUser(store.RoleViewer)
	before := env.srv.hasher.evaluated.Load()
	env.srv.hasher.slots <- struct{}{} // every slot taken
	const busy = "The console is busy checking other sign-ins. Try again in a few seconds."
	b := env.browser()
	for i := range throttleFree + 3 {
		res := b.postForm("/login", url.Values{"username": {name}, "password": {"wrong-password-1"}})
		if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(res.body, busy) {
			t.Fatalf("sign-in %d while busy: %d %.300s", i, res.StatusCode, res.body)
		}
	}
	res := admin.postForm("/account/password", url.Values{"current": {testPassword}, "new": {"another-password-9"}, "confirm": {"another-password-9"}})
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(res.body, busy) {
		t.Fatalf("password change while busy: %d", res.StatusCode)
	}
	res = admin.postForm("/settings/users", url.Values{"username": {"dora"}, "role": {store.RoleViewer}})
	if res.StatusCode != http.StatusServiceUnavailable || !strings.Contains(res.body, busy) {
		t.Fatalf("user creation while busy: %d", res.StatusCode)
	}
	if n := env.srv.hasher.evaluated.Load() - before; n != 0 {
		t.Fatalf("%d hashes evaluated while busy", n)
	}
	if _, err := env.db.UserByName(context.Background(), "dora"); err == nil {
		t.Fatal("a user was created while hashing was busy")
	}
	<-env.srv.hasher.slots
	// The refused attempts were not counted: the right password goes through.
	if res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in once free: %d %.300s", res.StatusCode, res.body)
	}
}
