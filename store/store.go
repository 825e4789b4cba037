// Package store owns Paydesk's SQLite database: opening it with the right
// pragmas, the embedded numbered migrations, and one file per aggregate
// (users, audit log, and the money records) with hand-written SQL. It knows
// nothing of HTTP, views or the gateway protocol.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go, no cgo)
)

// ErrNotFound is returned (wrapped) when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned (wrapped) when a write would break a uniqueness or
// state rule, such as a duplicate username.
var ErrConflict = errors.New("conflict")

// Migrations are kept per dialect, numbered alike: migrations/sqlite and
// migrations/postgres.
//
//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrationFS embed.FS

// DB is Paydesk's database handle.
type DB struct {
	*sql.DB
	path  string
	now   func() time.Time
	stmts stmtCache
	audit *auditChain // nil: audit rows are chained with plain SHA-256
	pg    bool        // on PostgreSQL (see postgres.go), not SQLite
}

// Open opens (creating if needed) the SQLite file at path with WAL, foreign
// keys and a busy timeout, and applies every pending migration. A path that
// is a postgres:// URL opens that PostgreSQL database instead.
func Open(ctx context.Context, path string, now func() time.Time) (*DB, error) {
	if now == nil {
		now = time.Now
	}
	if IsPostgresURL(path) {
		return openPostgres(ctx, path, now)
	}
	if err := ownerOnly(path); err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(NORMAL)")
	// Statement journals and sort spills stay in memory, not in temp files.
	q.Add("_pragma", "temp_store(MEMORY)")
	// The console checkpoints the WAL in the background (Checkpoint), so
	// that no commit waits for the copy and its fsync; this high mark is the
	// safety net should that fall behind.
	q.Add("_pragma", "wal_autocheckpoint(10000)")
	q.Set("_txlock", "immediate")
	q.Set("_time_format", "sqlite")
	sqldb, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	sqldb.SetMaxOpenConns(8)
	sqldb.SetMaxIdleConns(8)
	db := &DB{DB: sqldb, path: path, now: now}
	if err := db.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	if err := db.migrate(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	return db, nil
}

// ownerOnly creates the database file at path when missing and makes it
// and its -wal and -shm files readable by the owner only (0600), whatever
// the umask. SQLite creates -wal and -shm with the database file's mode.
// Files already 0600 or stricter are not touched (they may be read-only).
func ownerOnly(path string) error {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return err
		}
		err = f.Chmod(0o600)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o077 != 0 {
			if err := os.Chmod(p, st.Mode().Perm()&0o700); err != nil {
				return fmt.Errorf("%s can be read by other accounts, and its mode cannot be changed to 0600: %w", p, err)
			}
		}
	}
	return nil
}

// Path is the file the database lives in, or the URL of its PostgreSQL
// database.
func (db *DB) Path() string { return db.path }

// Now is the database's clock, as passed to Open.
func (db *DB) Now() time.Time { return db.now() }

// migrationDir is where the migrations of the database's dialect are.
func (db *DB) migrationDir() string {
	if db.pg {
		return "migrations/postgres"
	}
	return "migrations/sqlite"
}

// migrate applies every migration of the dialect not yet recorded in
// schema_migrations, each in its own transaction.
func (db *DB) migrate(ctx context.Context) error {
	dir := db.migrationDir()
	if _, err := db.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY,
		name TEXT NOT NULL,
		applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	entries, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		num, _, ok := strings.Cut(name, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil {
			return fmt.Errorf("migration %s: name must start with a number and an underscore", name)
		}
		var n int
		if err := db.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, version).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			continue
		}
		body, err := migrationFS.ReadFile(dir + "/" + name)
		if err != nil {
			return err
		}
		err = db.InTx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return err
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
				version, name, db.now().UTC().Format(time.RFC3339Nano))
			return err
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", name, err)
		}
	}
	return nil
}

// InTx runs fn in one write transaction (BEGIN IMMEDIATE; on PostgreSQL one
// holding pgWriteLock), committing when fn returns nil and rolling back
// otherwise. When fn appended sealed audit rows, the audit anchor moves to
// the newest once the commit is done.
func (db *DB) InTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if db.pg {
		if err := pgWriteTx(ctx, tx); err != nil {
			tx.Rollback()
			return fmt.Errorf("begin: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		db.audit.take(tx)
		return err
	}
	err = tx.Commit()
	head, appended := db.audit.take(tx)
	if err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	if appended {
		// Only now may the anchor name the row; a request that ends
		// meanwhile must not leave it behind.
		db.audit.advance(context.WithoutCancel(ctx), db, head)
	}
	return nil
}

// Backup writes a consistent copy of the live database to file, without
// its sessions, readable by the owner only (0600). The file must not exist
// yet. The copy is first made (VACUUM INTO) in a folder only the owner can
// open next to file, the sessions deleted there, and the result written
// (VACUUM INTO again) into file, created empty with mode 0600 beforehand:
// no session row ever reaches file, not even in its free pages.
func (db *DB) Backup(ctx context.Context, file string) (err error) {
	if db.pg {
		return errPostgresBackup
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup to %s: %w", file, err)
	}
	err = f.Chmod(0o600)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	defer func() {
		if err != nil {
			os.Remove(file)
			err = fmt.Errorf("backup to %s: %w", file, err)
		}
	}()
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp(filepath.Dir(file), ".paydesk-backup-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	tmp := filepath.Join(dir, "copy.db")
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return err
	}
	cp, err := sql.Open("sqlite", "file:"+tmp)
	if err != nil {
		return err
	}
	defer cp.Close()
	cp.SetMaxOpenConns(1)
	if _, err := cp.ExecContext(ctx, `DELETE FROM sessions`); err != nil {
		return err
	}
	if _, err := cp.ExecContext(ctx, `VACUUM INTO ?`, file); err != nil {
		return err
	}
	return cp.Close()
}

// Ping reports whether the database answers a trivial query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.QueryRowContext(ctx, `SELECT 1`).Scan(&one)
}

// rowScanner is what the scan functions read from: *sql.Row or *sql.Rows.
type rowScanner = interface{ Scan(...any) error }

// collect runs a query and scans every row it returns with scan.
func collect[T any](ctx context.Context, db *DB, scan func(rowScanner) (T, error), q string, args ...any) ([]T, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// countUpTo counts the rows of table matching where, but stops at
// limit+1: enough to tell few from many without reading all of them.
func (db *DB) countUpTo(ctx context.Context, table, where string, limit int, args ...any) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM `+table+` WHERE `+where+` LIMIT `+strconv.Itoa(limit+1)+`) AS m`, args...).Scan(&n)
	return n, err
}

// timeText is the one text form times are stored in: UTC, RFC 3339 with
// nanoseconds, which sorts correctly as text.
func timeText(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }

// parseTime reads a time as the store gets it back: timeText's form (and
// the RFC 3339 of a PostgreSQL timestamptz scanned into a string), or
// PostgreSQL's own text form where a query casts one to text.
func parseTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil && s != "" {
		t, _ = time.Parse("2006-01-02 15:04:05.999999999Z07", s)
	}
	return t
}

// insertID runs an INSERT of one row inside tx and returns the row's id
// (RETURNING id: PostgreSQL's driver has no LastInsertId). A row that
// breaks a unique rule leaves tx usable, on PostgreSQL too (see guard).
// insert is a constant of its caller's: the statement is prepared once
// (txStmt), as an external order's insert runs for every callback naming
// an order the console does not know.
func (db *DB) insertID(ctx context.Context, tx *sql.Tx, insert string, args ...any) (int64, error) {
	var id int64
	err := db.guard(ctx, tx, func() error {
		return db.queryRow(ctx, tx, insert+` RETURNING id`, args...).Scan(&id)
	})
	return id, err
}
