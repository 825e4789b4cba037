package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// TwoFactor is a user's two-factor sign-in as stored. The secrets are
// sealed by the caller; the store never sees them in plain text.
type TwoFactor struct {
	Secret       []byte // sealed TOTP secret; nil while two-factor is off
	Pending      []byte // sealed secret of an enrolment not yet confirmed; nil when none
	LastStep     int64  // last time step whose code was accepted
	EnabledAt    time.Time
	RecoveryLeft int // recovery codes not yet used
}

// On reports whether the user signs in with a code.
func (t TwoFactor) On() bool { return t.Secret != nil }

// TwoFactor returns user id's two-factor state, or ErrNotFound.
func (db *DB) TwoFactor(ctx context.Context, id int64) (TwoFactor, error) {
	var t TwoFactor
	var enabled sql.NullString
	err := db.QueryRowContext(ctx, `SELECT totp_secret, totp_pending, totp_last_step, totp_enabled_at,
		(SELECT count(*) FROM recovery_codes WHERE user_id = users.id AND used_at IS NULL)
		FROM users WHERE id = ?`, id).Scan(&t.Secret, &t.Pending, &t.LastStep, &enabled, &t.RecoveryLeft)
	if errors.Is(err, sql.ErrNoRows) {
		return t, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return t, fmt.Errorf("two-factor of user %d: %w", id, err)
	}
	if enabled.Valid {
		t.EnabledAt = parseTime(enabled.String)
	}
	return t, nil
}

// SetPendingTOTP keeps the sealed secret of an enrolment until the user
// confirms it (nil ends the enrolment). It refuses (ErrConflict) while
// two-factor is on: the secret in use is replaced only by turning it off
// first.
func (db *DB) SetPendingTOTP(ctx context.Context, id int64, sealed []byte) error {
	res, err := db.ExecContext(ctx, `UPDATE users SET totp_pending = ?, updated_at = ? WHERE id = ? AND totp_secret IS NULL`,
		sealed, timeText(db.now()), id)
	if err != nil {
		return fmt.Errorf("pending two-factor of user %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := userByID(ctx, db, id); err != nil {
			return err
		}
		return fmt.Errorf("user %d has two-factor on: %w", id, ErrConflict)
	}
	return nil
}

// EnableTwoFactorTx turns two-factor on with the pending secret the user
// just confirmed (sealed for its new place), remembering the confirming
// code's time step so that the code cannot be used again, and stores the
// hashes of a fresh set of recovery codes. It refuses (ErrConflict) when
// two-factor is already on or no enrolment is open, so that two confirmations
// racing each other turn it on once.
func (db *DB) EnableTwoFactorTx(ctx context.Context, tx *sql.Tx, id int64, sealed []byte, step int64, codeHashes []string) error {
	now := timeText(db.now())
	res, err := tx.ExecContext(ctx, `UPDATE users SET totp_secret = ?, totp_pending = NULL, totp_last_step = ?, totp_enabled_at = ?, updated_at = ?
		WHERE id = ? AND totp_secret IS NULL AND totp_pending IS NOT NULL`, sealed, step, now, now, id)
	if err != nil {
		return fmt.Errorf("enable two-factor of user %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := userByID(ctx, tx, id); err != nil {
			return err
		}
		return fmt.Errorf("user %d: two-factor already on or no enrolment open: %w", id, ErrConflict)
	}
	return db.ReplaceRecoveryCodesTx(ctx, tx, id, codeHashes)
}

// DisableTwoFactorTx turns two-factor off for user id: the secret, any open
// enrolment and every recovery code are deleted.
func (db *DB) DisableTwoFactorTx(ctx context.Context, tx *sql.Tx, id int64) error {
	if _, err := db.updateUserTx(ctx, tx, id, `totp_secret = NULL, totp_pending = NULL, totp_last_step = 0, totp_enabled_at = NULL`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, id); err != nil {
		return fmt.Errorf("delete recovery codes of user %d: %w", id, err)
	}
	return nil
}

// ReplaceRecoveryCodesTx deletes user id's recovery codes, used or not, and
// stores the given hashes instead.
func (db *DB) ReplaceRecoveryCodesTx(ctx context.Context, tx *sql.Tx, id int64, codeHashes []string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM recovery_codes WHERE user_id = ?`, id); err != nil {
		return fmt.Errorf("delete recovery codes of user %d: %w", id, err)
	}
	for _, h := range codeHashes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO recovery_codes (user_id, code_hash) VALUES (?, ?)`, id, h); err != nil {
			return fmt.Errorf("store recovery code of user %d: %w", id, err)
		}
	}
	return nil
}

// UseTOTPStep records that a code of time step step was accepted for user
// id, checked against the sealed secret sealed. It reports false, changing
// nothing, when a code of that step or a later one was taken before (a
// replayed code) or the secret is no longer the one checked against. One
// conditional update, so two requests with the same code cannot both win.
func (db *DB) UseTOTPStep(ctx context.Context, id int64, sealed []byte, step int64) (bool, error) {
	res, err := db.ExecContext(ctx, `UPDATE users SET totp_last_step = ? WHERE id = ? AND totp_secret = ? AND totp_last_step < ?`,
		step, id, sealed, step)
	if err != nil {
		return false, fmt.Errorf("use code of user %d: %w", id, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// UseRecoveryCode spends user id's unused recovery code with hash codeHash
// and reports whether there was one, and how many unused codes remain.
func (db *DB) UseRecoveryCode(ctx context.Context, id int64, codeHash string) (ok bool, left int, err error) {
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE recovery_codes SET used_at = ?
			WHERE user_id = ? AND code_hash = ? AND used_at IS NULL
			AND EXISTS (SELECT 1 FROM users WHERE id = ? AND totp_secret IS NOT NULL)`, timeText(db.now()), id, codeHash, id)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		ok = n == 1
		return tx.QueryRowContext(ctx, `SELECT count(*) FROM recovery_codes WHERE user_id = ? AND used_at IS NULL`, id).Scan(&left)
	})
	if err != nil {
		return false, 0, fmt.Errorf("use recovery code of user %d: %w", id, err)
	}
	return ok, left, nil
}

// CountTwoFactor counts the enabled users, and those of them without
// two-factor sign-in.
func (db *DB) CountTwoFactor(ctx context.Context) (enabled, without int, err error) {
	err = db.QueryRowContext(ctx, `SELECT count(*), coalesce(sum(CASE WHEN totp_secret IS NULL THEN 1 ELSE 0 END), 0) FROM users WHERE disabled = 0`).Scan(&enabled, &without)
	return enabled, without, err
}
