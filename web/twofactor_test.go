package web

import (
	"bytes"
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"paydesk/store"
)

var (
	secretOnPage   = regexp.MustCompile(`data-testid="totp-secret">([A-Z2-7 ]+)<`)
	recoveryOnPage = regexp.MustCompile(`<code class="secret">([0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4})</code>`)
)

// code is the current code of secret on the console's clock.
func (e *testEnv) code(secret string) string {
	e.t.Helper()
	c, err := totp.GenerateCode(secret, e.now())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// startEnrol opens an enrolment and returns the secret the page shows.
func (b *browser) startEnrol() string {
	b.t.Helper()
	if res := b.postForm("/account/two-factor/start", nil); res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("start enrolment: %d %s", res.StatusCode, res.body)
	}
	page := b.get("/account/two-factor")
	m := secretOnPage.FindStringSubmatch(page.body)
	if m == nil || !strings.Contains(page.body, `src="data:image/png;base64,`) {
		b.t.Fatalf("enrolment page without secret or QR code: %s", page.body)
	}
	return strings.ReplaceAll(m[1], " ", "")
}

// enrol turns two-factor sign-in on for b's user and returns the secret
// and the recovery codes shown.
func (b *browser) enrol() (string, []string) {
	b.t.Helper()
	secret := b.startEnrol()
	res := b.postForm("/account/two-factor/confirm", url.Values{"code": {b.env.code(secret)}})
	if res.StatusCode != http.StatusOK {
		b.t.Fatalf("confirm enrolment: %d %s", res.StatusCode, res.body)
	}
	var codes []string
	for _, m := range recoveryOnPage.FindAllStringSubmatch(res.body, -1) {
		codes = append(codes, m[1])
	}
	if len(codes) != 10 {
		b.t.Fatalf("%d recovery codes shown, want 10", len(codes))
	}
	return secret, codes
}

// signInPassword posts the password and expects the code page.
func (e *testEnv) signInPassword(name string) *browser {
	e.t.Helper()
	b := e.browser()
	res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login/two-factor" {
		e.t.Fatalf("password of %s: %d %s", name, res.StatusCode, res.Header.Get("Location"))
	}
	return b
}

func (e *testEnv) auditCount(action, detailLike string) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRow(`SELECT count(*) FROM audit_log WHERE action = ? AND detail LIKE ?`, action, detailLike).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestTwoFactorEnrol(t *testing.T) {
	env := newTestEnv(t)
	b, name := env.signedIn(store.RoleViewer)
	if page := b.get("/account"); !strings.Contains(page.body, "Set up two-factor sign-in") {
		t.Fatal("the account page does not offer two-factor sign-in")
	}
	// Confirming before starting, and a wrong code, change nothing.
	if res := b.postForm("/account/two-factor/confirm", url.Values{"code": {"123456"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("confirm without enrolment: %d", res.StatusCode)
	}
	secret := b.startEnrol()
	page := b.get("/account/two-factor")
	if page.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("enrolment page Cache-Control %q", page.Header.Get("Cache-Control"))
	}
	wrong := fmt.Sprintf("%06d", (atoi(env.code(secret))+1)%1000000)
	for _, typed := range []string{wrong, "", "abcdef", strings.Repeat("1", 5000)} {
		res := b.postForm("/account/two-factor/confirm", url.Values{"code": {typed}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "That code is not right") {
			t.Fatalf("wrong code %.20q: %d", typed, res.StatusCode)
		}
	}
	u, _ := env.db.UserByName(context.Background(), name)
	if u.TwoFactor {
		t.Fatal("a wrong code turned two-factor on")
	}
	// The same secret is shown again until confirmed.
	if again := secretOnPage.FindStringSubmatch(b.get("/account/two-factor").body); again == nil || strings.ReplaceAll(again[1], " ", "") != secret {
		t.Fatal("the pending secret changed")
	}
	res := b.postForm("/account/two-factor/confirm", url.Values{"code": {" " + env.code(secret)[:3] + " " + env.code(secret)[3:]}})
	if res.StatusCode != http.StatusOK || len(recoveryOnPage.FindAllString(res.body, -1)) != 10 || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("right code: %d %s", res.StatusCode, res.body)
	}
	if u, _ := env.db.UserByName(context.Background(), name); !u.TwoFactor {
		t.Fatal("the right code did not turn two-factor on")
	}
	if env.auditCount("user.two_factor_enable", "%10 recovery codes%") != 1 {
		t.Error("enrolment not audited")
	}
	// Shown once: the page afterwards shows neither the secret nor the codes.
	page = b.get("/account/two-factor")
	if strings.Contains(page.body, secret[:8]) || recoveryOnPage.MatchString(page.body) || !strings.Contains(page.body, "10 unused recovery codes") {
		t.Fatalf("two-factor page after enrolment: %s", page.body)
	}
	if res := b.postForm("/account/two-factor/start", nil); res.StatusCode != http.StatusConflict {
		t.Fatalf("new enrolment while on: %d", res.StatusCode)
	}
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestTwoFactorSignInNeedsCode(t *testing.T) {
	env := newTestEnv(t)
	first, name := env.signedIn(store.RoleOperator)
	secret, _ := first.enrol()
	env.advance(30 * time.Second)

	b := env.browser()
	res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}, "next": {"/payments"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login/two-factor" {
		t.Fatalf("password: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	// Half signed in is signed out: no page, no fragment, no action.
	for _, path := range []string{"/", "/account", "/payments", "/account/two-factor"} {
		if res := b.get(path); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
			t.Errorf("GET %s half signed in: %d %s", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	req, _ := http.NewRequest("GET", env.ts.URL+"/payments", nil)
	req.Header.Set("HX-Request", "true")
	if res := b.do(req); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("htmx request half signed in: %d", res.StatusCode)
	}
	if res := b.postForm("/account/two-factor/disable", url.Values{"password": {testPassword}, "code": {env.code(secret)}}); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Errorf("disable half signed in: %d", res.StatusCode)
	}
	page := b.get("/login/two-factor")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, `data-testid="code-form"`) || !strings.Contains(page.body, name) {
		t.Fatalf("code page: %d", page.StatusCode)
	}
	res = b.postForm("/login/two-factor", url.Values{"code": {env.code(secret)}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/payments" {
		t.Fatalf("code: %d %s %s", res.StatusCode, res.Header.Get("Location"), res.body)
	}
	if res := b.get("/payments"); res.StatusCode != http.StatusOK {
		t.Fatalf("signed in: %d", res.StatusCode)
	}
	if env.auditCount("auth.login", "password and two-factor code") != 1 {
		t.Error("sign-in with two-factor not audited")
	}
	// A code without a password first goes nowhere.
	other := env.browser()
	if res := other.postForm("/login/two-factor", url.Values{"code": {env.code(secret)}}); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("code without password: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := other.get("/"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("code without password signed in: %d", res.StatusCode)
	}
}

func TestTwoFactorWrongCodeRefusedAndThrottled(t *testing.T) {
	env := newTestEnv(t, func(c *testConfig) { c.TrustProxy = true })
	first, name := env.signedIn(store.RoleViewer)
	secret, _ := first.enrol()
	env.advance(30 * time.Second)
	b := env.signInPassword(name)
	right := env.code(secret)
	wrong := fmt.Sprintf("%06d", (atoi(right)+500000)%1000000)
	for i := range throttleFree + 1 {
		res := b.postForm("/login/two-factor", url.Values{"code": {wrong}})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "That code is not right") {
			t.Fatalf("wrong code %d: %d", i, res.StatusCode)
		}
	}
	// Now even the right code waits.
	res := b.postForm("/login/two-factor", url.Values{"code": {right}})
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(res.body, "Too many wrong codes") {
		t.Fatalf("right code while throttled: %d", res.StatusCode)
	}
	if res := b.get("/"); res.StatusCode != http.StatusSeeOther {
		t.Fatal("signed in while throttled")
	}
	if n := env.auditCount("auth.two_factor_failed", "wrong code"); n != throttleFree+1 {
		t.Errorf("%d failed codes audited, want %d", n, throttleFree+1)
	}
	// From another address, after a right password: still waiting, for
	// the user's codes are counted apart from their password.
	elsewhere := env.browser()
	elsewhere.header = http.Header{"X-Forwarded-For": {"203.0.113.9"}}
	if res := elsewhere.postForm("/login", url.Values{"username": {name}, "password": {testPassword}}); res.Header.Get("Location") != "/login/two-factor" {
		t.Fatalf("password from another address: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := elsewhere.postForm("/login/two-factor", url.Values{"code": {right}}); res.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("code from another address: %d", res.StatusCode)
	}
	env.advance(3 * time.Second)
	if res := elsewhere.postForm("/login/two-factor", url.Values{"code": {env.code(secret)}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("after the wait: %d %s", res.StatusCode, res.body)
	}
}

func TestTwoFactorCodeReplayRefused(t *testing.T) {
	env := newTestEnv(t)
	first, name := env.signedIn(store.RoleViewer)
	secret, _ := first.enrol()
	// The code that confirmed enrolment does not sign in.
	b := env.signInPassword(name)
	res := b.postForm("/login/two-factor", url.Values{"code": {env.code(secret)}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "has been used already") {
		t.Fatalf("enrolment code reused: %d %s", res.StatusCode, res.body)
	}
	env.advance(30 * time.Second)
	code := env.code(secret)
	if res := b.postForm("/login/two-factor", url.Values{"code": {code}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("fresh code: %d", res.StatusCode)
	}
	// Seen over a shoulder and typed within its 30 s on another browser.
	thief := env.signInPassword(name)
	res = thief.postForm("/login/two-factor", url.Values{"code": {code}})
	if res.StatusCode != http.StatusUnprocessableEntity || thief.get("/").StatusCode != http.StatusSeeOther {
		t.Fatalf("replayed code: %d", res.StatusCode)
	}
	// Nor the code before it, though within the clock skew allowed.
	prev, _ := totp.GenerateCode(secret, env.now().Add(-30*time.Second))
	if res := thief.postForm("/login/two-factor", url.Values{"code": {prev}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("older code: %d", res.StatusCode)
	}
	if env.auditCount("auth.two_factor_failed", "code already used") != 3 {
		t.Error("replays not audited")
	}
	// The next step's code is taken (a phone clock 30 s ahead).
	next, _ := totp.GenerateCode(secret, env.now().Add(30*time.Second))
	if res := thief.postForm("/login/two-factor", url.Values{"code": {next}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("code of the next step: %d", res.StatusCode)
	}
}

// TestTwoFactorSameCodeAtOnce sends one code from several browsers at the
// same moment: exactly one of them signs in.
func TestTwoFactorSameCodeAtOnce(t *testing.T) {
	env := newTestEnv(t)
	first, name := env.signedIn(store.RoleViewer)
	secret, _ := first.enrol()
	env.advance(30 * time.Second)
	var bs []*browser
	for range 4 {
		bs = append(bs, env.signInPassword(name))
	}
	code := env.code(secret)
	statuses := make([]int, len(bs))
	var wg sync.WaitGroup
	for i, b := range bs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = b.postForm("/login/two-factor", url.Values{"code": {code}}).StatusCode
		}()
	}
	wg.Wait()
	in := 0
	for i, b := range bs {
		if b.get("/").StatusCode == http.StatusOK {
			in++
			if statuses[i] != http.StatusSeeOther {
				t.Errorf("signed in after status %d", statuses[i])
			}
		} else if statuses[i] != http.StatusUnprocessableEntity {
			t.Errorf("refused with status %d", statuses[i])
		}
	}
	if in != 1 {
		t.Fatalf("one code signed in %d browsers", in)
	}
}

func TestRecoveryCodeWorksOnce(t *testing.T) {
	env := newTestEnv(t)
	first, name := env.signedIn(store.RoleViewer)
	_, codes := first.enrol()
	b := env.signInPassword(name)
	// Typed in capitals, without dashes.
	res := b.postForm("/login/two-factor", url.Values{"code": {strings.ToUpper(strings.ReplaceAll(codes[3], "-", ""))}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("recovery code: %d %s", res.StatusCode, res.body)
	}
	if page := b.get("/"); page.StatusCode != http.StatusOK || !strings.Contains(page.body, "9 are left") {
		t.Fatalf("after a recovery code: %d", page.StatusCode)
	}
	if env.auditCount("auth.recovery_code_used", "9 recovery codes left") != 1 || env.auditCount("auth.login", "password and recovery code") != 1 {
		t.Error("recovery code sign-in not audited")
	}
	again := env.signInPassword(name)
	res = again.postForm("/login/two-factor", url.Values{"code": {codes[3]}})
	if res.StatusCode != http.StatusUnprocessableEntity || again.get("/").StatusCode != http.StatusSeeOther {
		t.Fatalf("recovery code used twice: %d", res.StatusCode)
	}
	// Another user's code is no use either.
	other, otherName := env.signedIn(store.RoleViewer)
	_, otherCodes := other.enrol()
	if res := again.postForm("/login/two-factor", url.Values{"code": {otherCodes[0]}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("%s's code for %s: %d", otherName, name, res.StatusCode)
	}
	if res := again.postForm("/login/two-factor", url.Values{"code": {codes[4]}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("another recovery code: %d", res.StatusCode)
	}
}

func TestTwoFactorSecondStepExpires(t *testing.T) {
	env := newTestEnv(t)
	first, name := env.signedIn(store.RoleViewer)
	secret, _ := first.enrol()
	b := env.signInPassword(name)
	env.advance(secondStepTime + time.Second)
	res := b.postForm("/login/two-factor", url.Values{"code": {env.code(secret)}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("late code: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if page := b.get("/login"); !strings.Contains(page.body, "was not typed within 5 min.") {
		t.Errorf("sign-in page after a late code: %s", page.body)
	}
	if b.get("/").StatusCode != http.StatusSeeOther {
		t.Fatal("signed in by a late code")
	}
	// Signing out everywhere between password and code also ends the step.
	b = env.signInPassword(name)
	if res := first.postForm("/account/logout-everywhere", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatal(res.StatusCode)
	}
	env.advance(30 * time.Second)
	if res := b.postForm("/login/two-factor", url.Values{"code": {env.code(secret)}}); res.Header.Get("Location") != "/login" {
		t.Fatalf("code after sign-out everywhere: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestTwoFactorRequiredForEveryone(t *testing.T) {
	env := newTestEnv(t)
	adm, _ := env.signedIn(store.RoleAdmin)
	adm.enrol()
	op, _ := env.signedIn(store.RoleOperator) // signed in before the change
	res := adm.postForm("/settings/security", url.Values{"require_two_factor": {"1"}, "step_up_limit": {"50,000"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d %s", res.StatusCode, res.body)
	}
	if env.auditCount("settings.security", "two-factor required for everyone false → true%") != 1 {
		t.Error("setting not audited")
	}
	if res := adm.get("/payments"); res.StatusCode != http.StatusOK {
		t.Fatalf("the enrolled admin is held up: %d", res.StatusCode)
	}
	for _, path := range []string{"/", "/payments", "/account", "/settings/users"} {
		if res := op.get(path); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account/two-factor" {
			t.Errorf("GET %s without two-factor: %d %s", path, res.StatusCode, res.Header.Get("Location"))
		}
	}
	if res := op.postForm("/payments", url.Values{"amount": {"1"}}); res.Header.Get("Location") != "/account/two-factor" {
		t.Errorf("POST without two-factor: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	req, _ := http.NewRequest("GET", env.ts.URL+"/notifications", nil)
	req.Header.Set("HX-Request", "true")
	if res := op.do(req); res.Header.Get("HX-Redirect") != "/account/two-factor" {
		t.Errorf("htmx without two-factor: %d %q", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
	page := op.get("/account/two-factor")
	if page.StatusCode != http.StatusOK || !strings.Contains(page.body, "requires two-factor sign-in for everyone") {
		t.Fatalf("enrolment page: %d", page.StatusCode)
	}
	// A new sign-in lands on enrolment too.
	viewer := env.addUser(store.RoleViewer)
	b := env.browser()
	res = b.postForm("/login", url.Values{"username": {viewer}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatal(res.StatusCode)
	}
	if res := b.get(res.Header.Get("Location")); res.Header.Get("Location") != "/account/two-factor" {
		t.Fatalf("after sign-in: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	b.enrol()
	if res := b.get("/payments"); res.StatusCode != http.StatusOK {
		t.Fatalf("after enrolment: %d", res.StatusCode)
	}
	// Signing out stays possible.
	if res := op.postForm("/logout", nil); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("logout while enrolment is due: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
}

func TestAdminResetsTwoFactor(t *testing.T) {
	env := newTestEnv(t)
	adm, _ := env.signedIn(store.RoleAdmin)
	user, name := env.signedIn(store.RoleOperator)
	user.enrol()
	u, _ := env.db.UserByName(context.Background(), name)
	users := adm.get("/settings/users")
	if !strings.Contains(users.body, fmt.Sprintf(`href="/settings/users/%d/two-factor-reset"`, u.ID)) {
		t.Fatal("the users page offers no two-factor reset")
	}
	confirm := adm.get(fmt.Sprintf("/settings/users/%d/two-factor-reset", u.ID))
	if confirm.StatusCode != http.StatusOK || !strings.Contains(confirm.body, `data-testid="reset-two-factor-submit"`) {
		t.Fatalf("confirmation page: %d", confirm.StatusCode)
	}
	// Without the confirmation nothing happens.
	if res := adm.postForm(fmt.Sprintf("/settings/users/%d/two-factor-reset", u.ID), nil); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("unconfirmed reset: %d", res.StatusCode)
	}
	if u, _ := env.db.UserByName(context.Background(), name); !u.TwoFactor || user.get("/").StatusCode != http.StatusOK {
		t.Fatal("an unconfirmed reset changed something")
	}
	// Not by a non-admin, not of oneself.
	if res := user.postForm(fmt.Sprintf("/settings/users/%d/two-factor-reset", u.ID), url.Values{"confirm": {"yes"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("operator resets: %d", res.StatusCode)
	}
	res := adm.postForm(fmt.Sprintf("/settings/users/%d/two-factor-reset", u.ID), url.Values{"confirm": {"yes"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d %s", res.StatusCode, res.body)
	}
	tf, _ := env.db.TwoFactor(context.Background(), u.ID)
	if tf.On() || tf.RecoveryLeft != 0 {
		t.Fatalf("after reset: %+v", tf)
	}
	if res := user.get("/"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("the user's session lives on: %d", res.StatusCode)
	}
	if env.auditCount("user.two_factor_reset", "%sessions ended") != 1 {
		t.Error("reset not audited")
	}
	// The password alone signs in now; the old secret is nothing.
	b := env.browser()
	if res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}}); res.Header.Get("Location") != "/" {
		t.Fatalf("sign in after reset: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if res := adm.postForm(fmt.Sprintf("/settings/users/%d/two-factor-reset", u.ID), url.Values{"confirm": {"yes"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("reset of a user without two-factor: %d", res.StatusCode)
	}
}

func TestTwoFactorDisableAndNewRecoveryCodes(t *testing.T) {
	env := newTestEnv(t)
	b, name := env.signedIn(store.RoleViewer)
	secret, codes := b.enrol()
	env.advance(30 * time.Second)
	// New recovery codes need a current code; the old ones stop working.
	if res := b.postForm("/account/two-factor/recovery-codes", url.Values{"code": {codes[0]}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("new codes with a recovery code: %d", res.StatusCode)
	}
	res := b.postForm("/account/two-factor/recovery-codes", url.Values{"code": {env.code(secret)}})
	fresh := recoveryOnPage.FindAllStringSubmatch(res.body, -1)
	if res.StatusCode != http.StatusOK || len(fresh) != 10 {
		t.Fatalf("new codes: %d", res.StatusCode)
	}
	login := env.signInPassword(name)
	if res := login.postForm("/login/two-factor", url.Values{"code": {codes[1]}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("old recovery code after new ones: %d", res.StatusCode)
	}
	// Off needs the password and a code.
	env.advance(30 * time.Second)
	for _, tt := range []struct{ pw, code string }{
		{"wrong-password-1", env.code(secret)},
		{testPassword, "000000"},
		{testPassword, ""},
	} {
		if res := b.postForm("/account/two-factor/disable", url.Values{"password": {tt.pw}, "code": {tt.code}}); res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("disable with %q/%q: %d", tt.pw, tt.code, res.StatusCode)
		}
	}
	if u, _ := env.db.UserByName(context.Background(), name); !u.TwoFactor {
		t.Fatal("turned off by a wrong password or code")
	}
	res = b.postForm("/account/two-factor/disable", url.Values{"password": {testPassword}, "code": {fresh[0][1]}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable with a recovery code: %d %s", res.StatusCode, res.body)
	}
	if u, _ := env.db.UserByName(context.Background(), name); u.TwoFactor {
		t.Fatal("still on")
	}
	if env.auditCount("user.two_factor_disable", "%recovery code%") != 1 {
		t.Error("disable not audited")
	}
	if res := env.browser().postForm("/login", url.Values{"username": {name}, "password": {testPassword}}); res.Header.Get("Location") != "/" {
		t.Fatalf("password alone after turning off: %s", res.Header.Get("Location"))
	}
}

// TestTwoFactorSecretsNotStoredInPlaintext searches the database file and
// its write-ahead log for the secret and the recovery codes in every form
// they are shown or typed in.
func TestTwoFactorSecretsNotStoredInPlaintext(t *testing.T) {
	env := newTestEnv(t)
	b, name := env.signedIn(store.RoleViewer)
	pending := b.startEnrol()
	b.postForm("/account/two-factor/cancel", nil)
	secret, codes := b.enrol()
	var data []byte
	for _, suffix := range []string{"", "-wal"} {
		d, err := os.ReadFile(env.db.Path() + suffix)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		data = append(data, d...)
	}
	if len(data) == 0 {
		t.Fatal("read nothing")
	}
	for _, s := range []string{pending, secret, strings.ToLower(secret), strings.Join(regexp.MustCompile(`.{1,4}`).FindAllString(secret, -1), " "), secret[:16]} {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("the database holds the secret as %q", s)
		}
	}
	for _, c := range codes {
		for _, form := range []string{c, strings.ReplaceAll(c, "-", ""), strings.ToUpper(c)} {
			if bytes.Contains(data, []byte(form)) {
				t.Errorf("the database holds recovery code %q", form)
			}
		}
	}
	// The sealed secret opens only for its user.
	u, _ := env.db.UserByName(context.Background(), name)
	tf, _ := env.db.TwoFactor(context.Background(), u.ID)
	if got, err := testOpen(testMasterKey, fmt.Sprintf("user:%d:totp", u.ID), tf.Secret); err != nil || got != secret {
		t.Fatalf("open sealed secret: %v", err)
	}
	if _, err := testOpen(testMasterKey, fmt.Sprintf("user:%d:totp", u.ID+1), tf.Secret); err == nil {
		t.Fatal("the sealed secret opens for another user")
	}
	if !strings.Contains(html.UnescapeString(b.get("/account").body), "Recovery codes, or turn it off") {
		t.Error("the account page does not show two-factor as on")
	}
}
