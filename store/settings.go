package store

import (
	"context"
	"database/sql"
	"errors"
)

// Setting returns the value stored under key, or def when none is stored.
func (db *DB) Setting(ctx context.Context, key, def string) (string, error) {
	var v string
	err := db.QueryRowContext(ctx, `SELECT value FROM settings WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return def, nil
	}
	return v, err
}

// SetSettingTx stores value under key inside tx (so the change and its audit
// row commit together).
func (db *DB) SetSettingTx(ctx context.Context, tx *sql.Tx, key, value string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?)
		ON CONFLICT(key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`, key, value, timeText(db.now()))
	return err
}
