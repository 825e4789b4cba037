package store

import (
	"context"
	"database/sql"
	"fmt"
)

// heartbeatKey is the settings row the health check rewrites.
const heartbeatKey = "health.heartbeat"

// Health is the database's state as the health check reports it.
type Health struct {
	PendingCallbacks int // callbacks stored raw and not applied yet
}

// CheckHealth proves that the database takes writes by committing the time
// to one settings row (no audit row: a monitor polling every few seconds
// must not fill the audit log), so that a read-only file or a database
// locked for longer than the busy timeout shows; then it counts the
// callbacks waiting to be applied.
func (db *DB) CheckHealth(ctx context.Context) (Health, error) {
	var h Health
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		return db.SetSettingTx(ctx, tx, heartbeatKey, timeText(db.now()))
	})
	if err != nil {
		return h, fmt.Errorf("write: %w", err)
	}
	// The partial index on rare results makes this a short index walk.
	err = db.QueryRowContext(ctx, `SELECT count(*) FROM notifications WHERE result = 'pending'`).Scan(&h.PendingCallbacks)
	return h, err
}
