package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"paydesk/internal/dbtest"
)

// paydesk backup on PostgreSQL names pg_dump, writes nothing and fails.
func TestBackupCommandOnPostgresSaysPgDump(t *testing.T) {
	file := filepath.Join(t.TempDir(), "copy.db")
	out, err := runCmd(t, t.TempDir(), "", "backup", "-database", "postgres://paydesk@127.0.0.1:1/paydesk", file)
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("backup on PostgreSQL: %v %s, want a refusal naming pg_dump", err, out)
	}
	if _, err := os.Stat(file); err == nil {
		t.Fatal("a refused backup wrote a file")
	}
}

func TestDatabaseFlagTakesOnlyPostgresURLs(t *testing.T) {
	_, err := loadConfig([]string{"-database", "mysql://x@y/z"}, func(string) string { return "" }, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), "PostgreSQL URL") {
		t.Fatalf("-database mysql://…: %v", err)
	}
}

// Two consoles on one PostgreSQL database, each with its own data folder
// and the shared master key: a user added on the command line signs in on
// one and is signed in on the other with the same cookie (sessions live in
// the database), and each keeps its own audit anchor, which audit verify
// checks.
func TestTwoConsolesShareOnePostgresDatabase(t *testing.T) {
	u := dbtest.PostgresURL(t)
	key := strings.Repeat("ab", 32)
	env := map[string]string{"PAYDESK_DATABASE_URL": u, "PAYDESK_MASTER_KEY": key, "PAYDESK_SANDBOX": "off",
		"PAYDESK_ADMIN_PASSWORD": "first-admin-password"}
	a := startConsole(t, "", env)
	b := startConsole(t, "", env)

	getenv := func(dir string) func(string) string {
		return func(k string) string {
			switch k {
			case "PAYDESK_DATA":
				return dir
			case "PAYDESK_DATABASE_URL", "PAYDESK_MASTER_KEY":
				return env[k]
			}
			return ""
		}
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"user", "add", "-username", "olga", "-role", "operator"}, getenv(a.DataDir),
		strings.NewReader("olga-password-1\n"), &out); err != nil {
		t.Fatalf("user add: %v %s", err, out.String())
	}

	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest("POST", a.URL+"/login", strings.NewReader(url.Values{"username": {"olga"}, "password": {"olga-password-1"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", a.URL)
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in on the first console: %d", res.StatusCode)
	}
	// The same cookie, sent to the second console.
	au, _ := url.Parse(a.URL)
	bu, _ := url.Parse(b.URL)
	jar.SetCookies(bu, jar.Cookies(au))
	res, err = client.Get(b.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("the second console answered %d to the first one's session (%s)", res.StatusCode, res.Header.Get("Location"))
	}
	for _, c := range []*console{a, b} {
		out.Reset()
		err := run(context.Background(), []string{"audit", "verify"}, getenv(c.DataDir), strings.NewReader(""), &out)
		if err != nil || !strings.Contains(out.String(), "intact") {
			t.Fatalf("audit verify with the anchor of %s: %v\n%s", c.DataDir, err, out.String())
		}
	}
}
