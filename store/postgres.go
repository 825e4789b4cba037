package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgreSQL is the second store, for a merchant that runs several consoles
// on one database (see README "Running on PostgreSQL"). It is reached
// through pgx's database/sql driver, so that the store's plain database/sql
// code and its SQL (rewritten for PostgreSQL's parameters in pgDriver) serve
// both.

// Advisory locks of the store on PostgreSQL, as (class, key) pairs whose
// key is the hash of the schema the store lives in: stores in different
// schemas of one database (tests do that) do not wait for each other.
const (
	// pgMigrateLock is held while an instance applies migrations, so that
	// instances started together do not apply one twice.
	pgMigrateLock = 0x50440001
	// pgWriteLock is taken by every InTx transaction and held to its end:
	// write transactions follow one another as under SQLite's BEGIN
	// IMMEDIATE, so that every rule the store checks inside a transaction
	// (the audit chain's head, the last admin, an open alert counted
	// once) holds with several instances as with one.
	pgWriteLock = 0x50440002
)

// IsPostgresURL reports whether database names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsPostgresURL(database string) bool {
	return strings.HasPrefix(database, "postgres://") || strings.HasPrefix(database, "postgresql://")
}

// Postgres reports whether the store is on PostgreSQL.
func (db *DB) Postgres() bool { return db.pg }

// openPostgres opens the PostgreSQL database at dsn and applies every
// pending migration under an advisory lock.
func openPostgres(ctx context.Context, dsn string, now func() time.Time) (*DB, error) {
	u, err := url.Parse(dsn)
	if err == nil {
		_, err = pgx.ParseConfig(dsn)
	}
	if err != nil {
		return nil, errors.New("open database: the PostgreSQL URL cannot be read (postgres://user:password@host:5432/database)")
	}
	// Times read back as text (coalesce(CAST(t AS TEXT), '')) are in UTC.
	q := u.Query()
	q.Set("timezone", "UTC")
	u.RawQuery = q.Encode()
	full := u.String()
	u.User = nil // never shown with its password
	dsn = u.String()
	sqldb, err := sql.Open(pgDriverRegistered(), full)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", dsn, err)
	}
	sqldb.SetMaxOpenConns(16)
	sqldb.SetMaxIdleConns(16)
	// PostgreSQL keeps microseconds: times the store makes are cut to them
	// beforehand, so that what it hashes (the audit chain) or compares is
	// what it reads back.
	clock := now
	now = func() time.Time { return clock().Truncate(time.Microsecond) }
	db := &DB{DB: sqldb, path: full, now: now, pg: true}
	if err := db.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open database %s: %w", dsn, err)
	}
	if err := db.migratePostgres(ctx); err != nil {
		sqldb.Close()
		return nil, err
	}
	return db, nil
}

// migratePostgres applies the PostgreSQL migrations while holding
// pgMigrateLock on one connection.
func (db *DB) migratePostgres(ctx context.Context) error {
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(?, hashtext(current_schema()))`, pgMigrateLock); err != nil {
		return fmt.Errorf("migrations: wait for the migration lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(?, hashtext(current_schema()))`, pgMigrateLock)
	return db.migrate(ctx)
}

// pgWriteTx takes pgWriteLock for tx (see InTx).
func pgWriteTx(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?, hashtext(current_schema()))`, pgWriteLock)
	return err
}

// errPostgresBackup is Backup's answer on PostgreSQL.
var errPostgresBackup = errors.New("backup: on PostgreSQL use pg_dump (for example pg_dump -Fc -f paydesk.dump \"$PAYDESK_DATABASE_URL\"), or the database's own point-in-time recovery; paydesk backup copies SQLite files only")

// indexedBy is SQLite's INDEXED BY name, which pins a query to the index it
// was measured with; PostgreSQL has no such clause and plans for itself.
func (db *DB) indexedBy(name string) string {
	if db.pg {
		return ""
	}
	return "INDEXED BY " + name
}

// bytewise is expr compared byte by byte, as SQLite compares text: on
// PostgreSQL text compares by the database's collation (which may order
// "a-b" after "ab", and put strings that start with a prefix outside the
// prefix's range), so expr is given the "C" collation there, which the
// search and name indexes are built with (migrations 0081, 0082).
func (db *DB) bytewise(expr string) string {
	if !db.pg {
		return expr
	}
	return "(" + expr + ` COLLATE "C")`
}

// pgInsertedIDs runs a multi-row INSERT inside tx with RETURNING id and
// appends the new rows' ids to ids in the order of the rows inserted. A
// sequence numbers the rows of one statement in order, but (unlike
// SQLite's rowids) not necessarily consecutively, nor does RETURNING
// promise an order: hence sorted, not computed from the last id.
func (db *DB) pgInsertedIDs(ctx context.Context, tx *sql.Tx, insert string, args []any, ids []int64) ([]int64, error) {
	stmt, err := db.txStmt(ctx, tx, insert+` RETURNING id`)
	if err != nil {
		return ids, err
	}
	rows, err := stmt.QueryContext(ctx, args...)
	if err != nil {
		return ids, err
	}
	defer rows.Close()
	from := len(ids)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return ids, err
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return ids, err
	}
	slices.Sort(ids[from:])
	return ids, nil
}

// pgFinishNotificationsSQL is finishNotificationsSQL for PostgreSQL, whose
// VALUES list takes untyped parameters as text: each column is cast to the
// type of the column it sets.
func pgFinishNotificationsSQL(rows int) string {
	return `UPDATE notifications SET result = v.column2, reason = v.column3, sig_valid = v.column4, account_id = v.column5,
		order_kind = v.column6, order_ref = v.column7, reply_code = v.column8, reply_body = v.column9, processed_at = ?
		FROM (VALUES ` + strings.TrimSuffix(strings.Repeat("(?::bigint, ?::text, ?::text, ?::bigint, ?::bigint, ?::text, ?::bigint, ?::bigint, ?::text), ", rows), ", ") + `) AS v
		WHERE notifications.id = v.column1 AND notifications.result = 'pending'`
}

// guard runs fn, one statement inside tx whose breaking a unique rule the
// store answers with ErrConflict, so that the caller may go on with tx. On
// PostgreSQL a failed statement aborts the whole transaction: there fn
// runs under a savepoint, rolled back to when fn fails. SQLite leaves the
// transaction usable by itself.
func (db *DB) guard(ctx context.Context, tx *sql.Tx, fn func() error) error {
	if !db.pg {
		return fn()
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT store_guard`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		if _, rerr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT store_guard`); rerr != nil {
			return errors.Join(err, rerr)
		}
		return err
	}
	_, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT store_guard`)
	return err
}

// sealedTime is an audit row's time as read back, in the text the row was
// hashed with (timeText): PostgreSQL gives a timestamptz back in its own
// form of RFC 3339.
func (db *DB) sealedTime(at string) string {
	if !db.pg {
		return at
	}
	return timeText(parseTime(at))
}
