// Package dbtest gives store and core tests the database they run on: a
// SQLite file of their own always, and, when PAYDESK_TEST_DATABASE_URL
// names a PostgreSQL database, the same tests once more on PostgreSQL,
// each test in a schema of its own, created and dropped here.
//
// A package opts in with
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
// and opens its store with store.Open(ctx, dbtest.URL(t), now).
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver, to make and drop schemas
)

// URLEnv names the PostgreSQL database the tests may use
// (postgres://user:password@host/db; the role needs CREATE on it).
// "required" makes a run without one fail instead of skipping PostgreSQL.
const URLEnv = "PAYDESK_TEST_DATABASE_URL"

// storeEnv is set to "postgres" in the process that runs the tests on
// PostgreSQL.
const storeEnv = "PAYDESK_TEST_STORE"

// Postgres reports whether this process runs the tests on PostgreSQL.
func Postgres() bool { return os.Getenv(storeEnv) == "postgres" }

// Name is the store the tests run on, for messages.
func Name() string {
	if Postgres() {
		return "PostgreSQL"
	}
	return "SQLite"
}

// SQLiteOnly skips t on PostgreSQL, saying why: for tests of what only
// SQLite has (pragmas, files, VACUUM INTO backups, the WAL).
func SQLiteOnly(t testing.TB, why string) {
	t.Helper()
	if Postgres() {
		t.Skipf("SQLite only: %s", why)
	}
}

// Main runs the package's tests on SQLite, then, when URLEnv names a
// database, runs them again in a child process on PostgreSQL; it exits
// non-zero when either run fails.
func Main(m *testing.M) {
	code := m.Run()
	if Postgres() {
		os.Exit(code)
	}
	u := os.Getenv(URLEnv)
	switch u {
	case "":
		fmt.Printf("dbtest: the tests ran on SQLite only; set %s=postgres://… to run them on PostgreSQL too\n", URLEnv)
		os.Exit(code)
	case "required":
		fmt.Printf("dbtest: %s=required, but no PostgreSQL database is named: set it to postgres://…\n", URLEnv)
		os.Exit(1)
	}
	fmt.Println("dbtest: the same tests on PostgreSQL")
	// The child runs the same tests with the same flags, but leaves go
	// test's record of what the tests read (for its cache) to this process.
	var args []string
	for _, a := range os.Args[1:] {
		if !strings.HasPrefix(a, "-test.testlogfile=") {
			args = append(args, a)
		}
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), storeEnv+"=postgres")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		fmt.Printf("dbtest: on PostgreSQL: %v\n", err)
		code = 1
	}
	os.Exit(code)
}

var (
	adminOnce sync.Once
	admin     *sql.DB
	adminErr  error
)

// URL returns a database of t's own for store.Open: a file in t.TempDir()
// on SQLite; on PostgreSQL a new schema, dropped when t ends (after the
// cleanups registered later, such as closing the store).
func URL(t testing.TB) string {
	t.Helper()
	if !Postgres() {
		return filepath.Join(t.TempDir(), "paydesk.db")
	}
	return Schema(t)
}

// Schema makes a new schema on the PostgreSQL database and returns the URL
// that opens it; the schema is dropped when t ends.
func Schema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(URLEnv)
	adminOnce.Do(func() {
		admin, adminErr = sql.Open("pgx", base)
		if adminErr == nil {
			adminErr = admin.Ping()
		}
	})
	if adminErr != nil {
		t.Fatalf("PostgreSQL at %s: %v", URLEnv, adminErr)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "test_" + hex.EncodeToString(b[:])
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		// A test that failed inside a transaction may leave it open (its
		// store closes after this): do not wait for it for ever.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Logf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// PostgresURL returns a new schema's URL for a test that needs PostgreSQL
// itself (several consoles on one database): it skips t, saying so, when
// URLEnv is not set, and fails it when URLEnv is "required".
func PostgresURL(t testing.TB) string {
	t.Helper()
	switch os.Getenv(URLEnv) {
	case "":
		t.Skipf("needs PostgreSQL: set %s=postgres://… to run it", URLEnv)
	case "required":
		t.Fatalf("%s=required, but no PostgreSQL database is named", URLEnv)
	}
	return Schema(t)
}
