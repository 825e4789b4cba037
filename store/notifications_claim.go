package store

import (
	"context"
	"database/sql"
	"strings"
)

// StoredReply is what a processed callback was answered.
type StoredReply struct {
	Code int
	Body string
}

// ProcessedNotificationsTx returns, of the notifications ids, those no
// longer pending, with the reply recorded when they were processed; the
// pending ones it locks for tx (FOR UPDATE on PostgreSQL; SQLite's write
// transaction holds them already). With several consoles on one database,
// another's sweep may have processed a row meanwhile: the caller applies
// only the rows still pending, so that none is applied twice.
func (db *DB) ProcessedNotificationsTx(ctx context.Context, tx *sql.Tx, ids []int64) (map[int64]StoredReply, error) {
	done := map[int64]StoredReply{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		args := make([]any, n)
		for i, id := range ids[:n] {
			args[i] = id
		}
		q := `SELECT id, result, coalesce(reply_code, 0), reply_body FROM notifications WHERE id IN (` +
			strings.TrimSuffix(strings.Repeat("?, ", n), ", ") + `)`
		if db.pg {
			q += ` FOR UPDATE`
		}
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var result string
			var r StoredReply
			if err := rows.Scan(&id, &result, &r.Code, &r.Body); err != nil {
				rows.Close()
				return nil, err
			}
			if result != NotifyPending {
				done[id] = r
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		ids = ids[n:]
	}
	return done, nil
}
