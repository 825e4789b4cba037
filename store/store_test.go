package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"paydesk/internal/dbtest"
	"strings"
	"testing"
	"time"
)

func TestOpenSetsPragmas(t *testing.T) {
	dbtest.SQLiteOnly(t, "pragmas are SQLite's")
	db := openTest(t)
	ctx := context.Background()
	// Every connection of the pool must carry the pragmas, so ask on
	// several connections held at once.
	var conns []*sql.Conn
	for range 3 {
		c, err := db.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	for i, c := range conns {
		var mode string
		var fk, busy int
		if err := c.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA foreign_keys`).Scan(&fk); err != nil {
			t.Fatal(err)
		}
		if err := c.QueryRowContext(ctx, `PRAGMA busy_timeout`).Scan(&busy); err != nil {
			t.Fatal(err)
		}
		if mode != "wal" || fk != 1 || busy < 1000 {
			t.Errorf("connection %d: journal_mode=%s foreign_keys=%d busy_timeout=%d", i, mode, fk, busy)
		}
	}
	for _, c := range conns {
		c.Close()
	}
}

func TestMigrationsRecordedOnceAndReopen(t *testing.T) {
	ctx := context.Background()
	path := dbtest.URL(t)
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	entries, _ := migrationFS.ReadDir(db.migrationDir())
	if n != len(entries) || n == 0 {
		t.Fatalf("%d migrations recorded, %d embedded", n, len(entries))
	}
	for _, table := range []string{"sessions", "users", "audit_log", "settings"} {
		var name string
		if err := db.QueryRowContext(ctx, `SELECT '`+table+`' FROM `+table+` LIMIT 1`).Scan(&name); err != nil && !errors.Is(err, sql.ErrNoRows) {
			t.Errorf("table %s: %v", table, err)
		}
	}
	if _, err := db.CreateUser(ctx, "alice", RoleViewer, "hash", false); err != nil {
		t.Fatal(err)
	}
	db.Close()

	// Reopening applies nothing twice and keeps the data.
	db, err = Open(ctx, path, nil)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer db.Close()
	var again int
	db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&again)
	if again != n {
		t.Fatalf("after reopen %d migrations recorded, want %d", again, n)
	}
	if _, err := db.UserByName(ctx, "alice"); err != nil {
		t.Fatalf("user lost on reopen: %v", err)
	}
}

func TestForeignKeysEnforced(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE fk_parent (id BIGINT PRIMARY KEY)`,
		`CREATE TABLE fk_child (id BIGINT PRIMARY KEY, parent BIGINT NOT NULL REFERENCES fk_parent(id))`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	_, err := db.ExecContext(ctx, `INSERT INTO fk_child (id, parent) VALUES (1, 999)`)
	if err == nil || !strings.Contains(strings.ToUpper(err.Error()), "FOREIGN KEY") {
		t.Fatalf("a row pointing at a missing parent: %v", err)
	}
}

func TestBackupHasTheSameRows(t *testing.T) {
	dbtest.SQLiteOnly(t, "paydesk backup copies SQLite files; see TestBackupOnPostgresSaysPgDump")
	ctx := context.Background()
	db := openTest(t)
	for _, name := range []string{"alice", "bob", "carol"} {
		if _, err := db.CreateUser(ctx, name, RoleOperator, "hash-"+name, false); err != nil {
			t.Fatal(err)
		}
		if err := db.Audit(ctx, AuditEntry{Actor: "system", Action: "user.create", Subject: "user:" + name}); err != nil {
			t.Fatal(err)
		}
	}
	file := filepath.Join(t.TempDir(), "backup.db")
	if err := db.Backup(ctx, file); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, file); err == nil {
		t.Error("a backup overwrote an existing file")
	}
	copyDB, err := Open(ctx, file, nil)
	if err != nil {
		t.Fatalf("open backup: %v", err)
	}
	defer copyDB.Close()
	want, _ := db.Users(ctx)
	got, err := copyDB.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) != 3 {
		t.Fatalf("backup has %d users, live database %d", len(got), len(want))
	}
	for i := range want {
		if got[i].Username != want[i].Username || got[i].PasswordHash != want[i].PasswordHash {
			t.Errorf("user %d: backup %+v, live %+v", i, got[i], want[i])
		}
	}
	rep, err := copyDB.VerifyAudit(ctx)
	if err != nil || !rep.Intact() || rep.Rows != 3 {
		t.Fatalf("backup audit log: %+v %v", rep, err)
	}
}

func TestPingFailsOnClosedDB(t *testing.T) {
	db := openTest(t)
	if err := db.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := db.Ping(context.Background()); err == nil {
		t.Fatal("ping of a closed database succeeded")
	}
}

func TestInTxRollsBack(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	boom := errors.New("boom")
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.CreateUserTx(ctx, tx, "ghost", RoleViewer, "h", false); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx returned %v", err)
	}
	if _, err := db.UserByName(ctx, "ghost"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rolled-back user exists: %v", err)
	}
}

func TestTimeTextRoundTrips(t *testing.T) {
	in := time.Date(2026, 11, 26, 8, 30, 1, 123456789, time.FixedZone("CST", 8*3600))
	if got := parseTime(timeText(in)); !got.Equal(in) {
		t.Fatalf("round trip %v → %v", in, got)
	}
}

// On PostgreSQL, paydesk backup refuses and names pg_dump.
func TestBackupOnPostgresSaysPgDump(t *testing.T) {
	if !dbtest.Postgres() {
		t.Skip("PostgreSQL only: on SQLite paydesk backup copies the file (TestBackupHasTheSameRows)")
	}
	db := openTest(t)
	file := filepath.Join(t.TempDir(), "backup.db")
	err := db.Backup(context.Background(), file)
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("backup on PostgreSQL: %v, want a refusal that names pg_dump", err)
	}
	if _, err := os.Stat(file); err == nil {
		t.Error("a refused backup left a file behind")
	}
}
