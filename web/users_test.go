package web

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"paydesk/store"
)

var issuedSecret = regexp.MustCompile(`data-testid="issued-secret">([^<]+)<`)

// issuedPassword reads the password shown once on the users page.
func issuedPassword(t *testing.T, body string) string {
	t.Helper()
	m := issuedSecret.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no generated password on the page: %.500s", body)
	}
	return m[1]
}

func (e *testEnv) userID(name string) string {
	e.t.Helper()
	u, err := e.db.UserByName(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return strconv.FormatInt(u.ID, 10)
}

func TestAdminCreatesUserWithPasswordShownOnce(t *testing.T) {
	env := newTestEnv(t)
	admin, adminName := env.signedIn(store.RoleAdmin)
	page := admin.postForm("/settings/users", url.Values{"username": {"dora"}, "role": {store.RoleOperator}})
	if page.StatusCode != http.StatusOK {
		t.Fatalf("create: %d %s", page.StatusCode, page.body)
	}
	pw := issuedPassword(t, page.body)
	if !strings.Contains(page.body, "User dora created with role operator.") || !strings.Contains(page.body, "It is shown only now.") {
		t.Error("the answer does not say what happened, or that the password is shown only now")
	}
	if cc := page.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("the page showing the password may be stored by the browser: Cache-Control %q", cc)
	}
	if again := admin.get("/settings/users"); strings.Contains(again.body, pw) {
		t.Fatal("the generated password is shown a second time")
	}
	dora := env.browser()
	res := dora.postForm("/login", url.Values{"username": {"dora"}, "password": {pw}})
	if res.Header.Get("Location") != "/account/password" {
		t.Fatalf("new user's first sign-in goes to %q", res.Header.Get("Location"))
	}
	es, _ := env.db.AuditEntries(context.Background(), store.AuditFilter{Action: "user.create"})
	if len(es) != 1 || es[0].Actor != adminName || es[0].Subject != "user:dora" || strings.Contains(es[0].Detail, pw) {
		t.Fatalf("audit: %+v", es)
	}
}

func TestAdminChangesUsers(t *testing.T) {
	env := newTestEnv(t)
	admin, adminName := env.signedIn(store.RoleAdmin)
	staff, staffName := env.signedIn(store.RoleViewer)
	id := env.userID(staffName)

	if res := admin.postForm("/settings/users/"+id+"/role", url.Values{"role": {store.RoleApprover}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("change role: %d %s", res.StatusCode, res.body)
	}
	if res := staff.get("/account"); !strings.Contains(res.body, "approver") {
		t.Fatal("the new role does not show on the next request")
	}

	if res := admin.postForm("/settings/users/"+id+"/disable", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable: %d", res.StatusCode)
	}
	if res := staff.get("/account"); !signedOutTo(res) {
		t.Fatalf("disabled user still signed in: %d", res.StatusCode)
	}
	if res := admin.get("/settings/users"); !strings.Contains(res.body, `data-testid="enable-`+staffName+`"`) {
		t.Fatal("no enable button for the disabled user")
	}
	if res := admin.postForm("/settings/users/"+id+"/enable", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("enable: %d", res.StatusCode)
	}
	staff = env.browser()
	if res := staff.postForm("/login", url.Values{"username": {staffName}, "password": {testPassword}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("enabled user signs in: %d", res.StatusCode)
	}

	reset := admin.postForm("/settings/users/"+id+"/reset", nil)
	if reset.StatusCode != http.StatusOK {
		t.Fatalf("reset: %d", reset.StatusCode)
	}
	pw := issuedPassword(t, reset.body)
	if again := admin.get("/settings/users"); strings.Contains(again.body, pw) {
		t.Fatal("the reset password is shown a second time")
	}
	if res := staff.get("/account"); !signedOutTo(res) {
		t.Fatal("a reset did not end the user's sessions")
	}
	res := env.browser().postForm("/login", url.Values{"username": {staffName}, "password": {testPassword}})
	if res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("old password after reset: %d", res.StatusCode)
	}
	res = env.browser().postForm("/login", url.Values{"username": {staffName}, "password": {pw}})
	if res.Header.Get("Location") != "/account/password" {
		t.Fatalf("reset password sign-in goes to %q", res.Header.Get("Location"))
	}

	var actions []string
	es, _ := env.db.AuditEntries(context.Background(), store.AuditFilter{Actor: adminName, Action: "user."})
	for _, e := range es {
		actions = append(actions, e.Action)
	}
	if got, want := strings.Join(actions, " "), "user.password_reset user.enable user.disable user.role"; got != want {
		t.Fatalf("audit actions %q, want %q", got, want)
	}
}

func TestLastAdminCannotBeRemovedFromTheUsersPage(t *testing.T) {
	env := newTestEnv(t)
	admin, adminName := env.signedIn(store.RoleAdmin)
	id := env.userID(adminName)
	res := admin.postForm("/settings/users/"+id+"/role", url.Values{"role": {store.RoleViewer}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "last enabled admin") {
		t.Fatalf("demote the last admin: %d %.300s", res.StatusCode, res.body)
	}
	if u, _ := env.db.UserByName(context.Background(), adminName); u.Role != store.RoleAdmin {
		t.Fatal("the last admin was demoted")
	}
	res = admin.postForm("/settings/users/"+id+"/disable", nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "your own account") {
		t.Fatalf("disable yourself: %d", res.StatusCode)
	}
	// With a second admin, the second can disable the first, but then not
	// demote themselves.
	second, secondName := env.signedIn(store.RoleAdmin)
	if res := second.postForm("/settings/users/"+id+"/disable", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("disable another admin: %d", res.StatusCode)
	}
	res = second.postForm("/settings/users/"+env.userID(secondName)+"/role", url.Values{"role": {store.RoleOperator}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "last enabled admin") {
		t.Fatalf("demote the last enabled admin: %d", res.StatusCode)
	}
	// With two enabled admins again, one may step down and lands on the start page.
	third, thirdName := env.signedIn(store.RoleAdmin)
	res = third.postForm("/settings/users/"+env.userID(secondName)+"/role", url.Values{"role": {store.RoleOperator}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("demote an admin while another remains: %d", res.StatusCode)
	}
	res = third.postForm("/settings/users/"+env.userID(env.addUser(store.RoleAdmin))+"/role", url.Values{"role": {store.RoleViewer}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/settings/users" {
		t.Fatalf("demote another admin: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	env.addUser(store.RoleAdmin)
	res = third.postForm("/settings/users/"+env.userID(thirdName)+"/role", url.Values{"role": {store.RoleApprover}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/" {
		t.Fatalf("step down from admin: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	if es, _ := env.db.AuditEntries(context.Background(), store.AuditFilter{Action: "user.role"}); len(es) != 3 {
		t.Fatalf("refused changes were audited: %+v", es)
	}
}

func TestBadInputGetsASentence(t *testing.T) {
	env := newTestEnv(t)
	admin, _ := env.signedIn(store.RoleAdmin)
	id := env.userID(env.addUser(store.RoleViewer))
	huge := strings.Repeat("x", 10<<20)
	tests := []struct {
		name   string
		b      *browser
		path   string
		form   url.Values
		status int
		want   string
	}{
		{"login empty", env.browser(), "/login", url.Values{"username": {""}, "password": {""}}, 422, "Type your username and your password."},
		{"login no fields", env.browser(), "/login", nil, 422, "Type your username and your password."},
		{"login 10 MB username", env.browser(), "/login", url.Values{"username": {huge}, "password": {"x"}}, 413, "too large"},
		{"login 10 MB password", env.browser(), "/login", url.Values{"username": {"a"}, "password": {huge}}, 413, "too large"},
		{"login long password", env.browser(), "/login", url.Values{"username": {"a"}, "password": {strings.Repeat("p", 5000)}}, 422, "Wrong username or password."},
		{"login non-UTF-8", env.browser(), "/login", url.Values{"username": {"\xff\xfeadmin"}, "password": {"\xc3\x28"}}, 422, "Wrong username or password."},
		{"create empty", admin, "/settings/users", url.Values{"username": {""}, "role": {"viewer"}}, 422, "Type a username."},
		{"create spaces", admin, "/settings/users", url.Values{"username": {"   "}, "role": {"viewer"}}, 422, "Type a username."},
		{"create unknown role", admin, "/settings/users", url.Values{"username": {"erin"}, "role": {"root"}}, 422, "There is no role &#34;root&#34;"},
		{"create no role", admin, "/settings/users", url.Values{"username": {"erin"}}, 422, "Choose one of"},
		{"create non-UTF-8", admin, "/settings/users", url.Values{"username": {"er\xffin"}, "role": {"viewer"}}, 422, "not text"},
		{"create odd characters", admin, "/settings/users", url.Values{"username": {"<script>"}, "role": {"viewer"}}, 422, "may use only letters"},
		{"create too long", admin, "/settings/users", url.Values{"username": {strings.Repeat("u", 65)}, "role": {"viewer"}}, 422, "at most 64"},
		{"create 10 MB", admin, "/settings/users", url.Values{"username": {huge}, "role": {"viewer"}}, 413, "too large"},
		{"role unknown", admin, "/settings/users/" + id + "/role", url.Values{"role": {"\xff"}}, 422, "Choose one of the roles"},
		{"role 10 MB", admin, "/settings/users/" + id + "/role", url.Values{"role": {huge}}, 413, "too large"},
		{"user id not a number", admin, "/settings/users/abc/disable", nil, 404, "nothing at this address"},
		{"user id missing", admin, "/settings/users/424242/reset", nil, 404, "nothing at this address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := tt.b.postForm(tt.path, tt.form)
			if res.StatusCode != tt.status || !strings.Contains(res.body, tt.want) {
				t.Fatalf("%d, want %d with %q: %.400s", res.StatusCode, tt.status, tt.want, res.body)
			}
			if strings.Contains(res.body, "\xff") {
				t.Fatal("the answer echoes bytes that are not UTF-8")
			}
		})
	}
	if res := admin.postForm("/settings/users", url.Values{"username": {"Erin"}, "role": {"viewer"}}); res.StatusCode != http.StatusOK {
		t.Fatalf("create: %d", res.StatusCode)
	}
	res := admin.postForm("/settings/users", url.Values{"username": {"erin"}, "role": {"viewer"}})
	if res.StatusCode != 422 || !strings.Contains(res.body, "is taken") {
		t.Fatalf("duplicate username: %d", res.StatusCode)
	}
}

func TestSecurityHeaders(t *testing.T) {
	env := newTestEnv(t)
	b, _ := env.signedIn(store.RoleViewer)
	want := map[string]string{
		"X-Content-Type-Options":     "nosniff",
		"X-Frame-Options":            "DENY",
		"Referrer-Policy":            "same-origin",
		"Cross-Origin-Opener-Policy": "same-origin",
	}
	for _, path := range []string{"/", "/login", "/healthz", "/no-such-page", "/static/app.css"} {
		res := b.get(path)
		for k, v := range want {
			if got := res.Header.Get(k); got != v {
				t.Errorf("%s: %s = %q, want %q", path, k, got, v)
			}
		}
		csp := res.Header.Get("Content-Security-Policy")
		for _, part := range []string{"default-src 'self'", "script-src 'self'", "frame-ancestors 'none'", "object-src 'none'"} {
			if !strings.Contains(csp, part) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, part)
			}
		}
		if strings.Contains(csp, "unsafe-inline") {
			t.Errorf("%s: CSP allows inline code", path)
		}
	}
	if res := b.get("/"); !strings.Contains(strings.Join(res.Header.Values("Vary"), ","), "HX-Request") {
		t.Error("pages do not vary on HX-Request")
	}
}

func TestHTMXErrorsAreFragments(t *testing.T) {
	env := newTestEnv(t)
	b, _ := env.signedIn(store.RoleViewer)
	req, _ := http.NewRequest("GET", env.ts.URL+"/settings/users", nil)
	req.Header.Set("HX-Request", "true")
	res := b.do(req)
	if res.StatusCode != http.StatusForbidden || strings.Contains(res.body, "<html") || !strings.Contains(res.body, "flash err") {
		t.Fatalf("htmx 403: %d %q", res.StatusCode, res.body)
	}
	anon := env.browser()
	req, _ = http.NewRequest("GET", env.ts.URL+"/payments", nil)
	req.Header.Set("HX-Request", "true")
	if res := anon.do(req); res.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(res.Header.Get("HX-Redirect"), "/login") {
		t.Fatalf("htmx signed out: %d %q", res.StatusCode, res.Header.Get("HX-Redirect"))
	}
}

func TestLayoutShowsSandboxBannerAndAdminOnlyNav(t *testing.T) {
	env := newTestEnv(t, func(c *testConfig) { c.SandboxURL = "http://127.0.0.1:3020" })
	viewerB, viewerName := env.signedIn(store.RoleViewer)
	res := viewerB.get("/")
	for _, want := range []string{`data-testid="sandbox-banner"`, "no real money moves", `data-testid="whoami">` + viewerName, ">viewer<", `href="/payments"`, `href="/payouts"`, `href="/orders"`, `href="/notifications"`, `data-testid="logout"`} {
		if !strings.Contains(res.body, want) {
			t.Errorf("start page lacks %s", want)
		}
	}
	if strings.Contains(res.body, `href="/settings"`) {
		t.Error("a viewer is shown the Settings section")
	}
	adminB, _ := env.signedIn(store.RoleAdmin)
	if res := adminB.get("/"); !strings.Contains(res.body, `href="/settings"`) {
		t.Error("an admin is not shown the Settings section")
	}
	noSandbox := newTestEnv(t)
	b, _ := noSandbox.signedIn(store.RoleViewer)
	if res := b.get("/"); strings.Contains(res.body, "sandbox-banner") {
		t.Error("banner shown without the sandbox")
	}
}

// A generated password is kept nowhere: not in any session (raw session
// data searched right after the answer), not in the log, not in the audit
// log.
func TestIssuedPasswordIsStoredNowhere(t *testing.T) {
	env := newTestEnv(t)
	admin, _ := env.signedIn(store.RoleAdmin)
	_, staffName := env.signedIn(store.RoleViewer)
	for _, path := range []string{"/settings/users", "/settings/users/" + env.userID(staffName) + "/reset"} {
		res := admin.postForm(path, url.Values{"username": {"dora"}, "role": {store.RoleOperator}})
		sessions := env.sessionData()
		if res.StatusCode != http.StatusOK {
			res = admin.get("/settings/users")
		}
		pw := issuedPassword(t, res.body)
		if bytes.Contains(sessions, []byte(pw)) {
			t.Fatalf("POST %s: the generated password is stored in a session", path)
		}
		if strings.Contains(env.logs.String(), pw) {
			t.Fatalf("POST %s: the generated password is in the log", path)
		}
		es, _ := env.db.AuditEntries(context.Background(), store.AuditFilter{})
		for _, a := range es {
			if strings.Contains(a.Detail+a.Subject, pw) {
				t.Fatalf("POST %s: the generated password is in the audit log: %+v", path, a)
			}
		}
	}
}

// sessionData is every stored session's raw data, run together.
func (e *testEnv) sessionData() []byte {
	e.t.Helper()
	rows, err := e.db.Query(`SELECT data FROM sessions`)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var all []byte
	for rows.Next() {
		var data []byte
		if err := rows.Scan(&data); err != nil {
			e.t.Fatal(err)
		}
		all = append(all, data...)
	}
	if len(all) == 0 {
		e.t.Fatal("no session data to search")
	}
	return all
}
