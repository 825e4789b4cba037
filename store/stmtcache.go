package store

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// stmtCache keeps prepared statements for the hot write paths (callbacks
// and the order updates they cause). database/sql prepares a cached
// statement once per pooled connection and reuses it in every transaction
// on that connection, which spares SQLite from parsing the same SQL for
// every row.
type stmtCache struct {
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// txStmt returns query prepared for use inside tx.
//
// Preparing a statement for the cache takes a second pooled connection
// while tx holds one. Should the pool be exhausted (transactions waiting
// for the write lock hold the other connections), that wait is cut short
// and the statement is prepared on tx's own connection, uncached, so that
// it never becomes a wait on the lock tx itself holds.
func (db *DB) txStmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	db.stmts.mu.Lock()
	st, ok := db.stmts.m[query]
	db.stmts.mu.Unlock()
	if !ok {
		pctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
		prepared, err := db.DB.PrepareContext(pctx, query)
		cancel()
		if err != nil {
			return tx.PrepareContext(ctx, query)
		}
		db.stmts.mu.Lock()
		if st, ok = db.stmts.m[query]; ok {
			prepared.Close() // prepared meanwhile by another transaction
		} else {
			if db.stmts.m == nil {
				db.stmts.m = map[string]*sql.Stmt{}
			}
			db.stmts.m[query] = prepared
			st = prepared
		}
		db.stmts.mu.Unlock()
	}
	return tx.StmtContext(ctx, st), nil
}

// execTx runs a cached statement inside tx.
func (db *DB) execTx(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := db.txStmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// queryRow runs a one-row query on q: a cached statement when q is a
// *sql.Tx, a plain query otherwise.
func (db *DB) queryRow(ctx context.Context, q querier, query string, args ...any) *sql.Row {
	if tx, ok := q.(*sql.Tx); ok {
		if st, err := db.txStmt(ctx, tx, query); err == nil {
			return st.QueryRowContext(ctx, args...)
		}
	}
	return q.QueryRowContext(ctx, query, args...)
}

// Checkpoint copies what it can of the WAL into the database file without
// waiting for readers or writers (a passive checkpoint), and returns the
// WAL's size in frames and how many of them are now copied.
// On PostgreSQL there is no WAL of the store's to copy (the server
// checkpoints by itself): nothing is done and 0, 0 returned.
func (db *DB) Checkpoint(ctx context.Context) (frames, copied int, err error) {
	if db.pg {
		return 0, 0, nil
	}
	var busy int
	err = db.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &frames, &copied)
	return frames, copied, err
}
