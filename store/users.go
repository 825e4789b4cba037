package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Roles, from least to most privileged.
const (
	RoleViewer   = "viewer"
	RoleOperator = "operator"
	RoleApprover = "approver"
	RoleAdmin    = "admin"
)

// Roles lists every role in order of privilege.
func Roles() []string { return []string{RoleViewer, RoleOperator, RoleApprover, RoleAdmin} }

// ValidRole reports whether r names a role.
func ValidRole(r string) bool {
	for _, x := range Roles() {
		if x == r {
			return true
		}
	}
	return false
}

// ErrLastAdmin is returned when a change would leave no enabled admin.
var ErrLastAdmin = errors.New("the last enabled admin cannot be disabled or demoted")

// User is one staff account.
type User struct {
	ID                 int64
	Username           string
	Role               string
	PasswordHash       string
	MustChangePassword bool
	Disabled           bool
	// SessionGen is the user's session generation: sessions signed in
	// under an older generation are signed out.
	SessionGen int64
	// TwoFactor is set while the user signs in with a TOTP code too
	// (store/twofactor.go).
	TwoFactor bool
	// Language is the language the user chose ("zh-CN", "en"), or ""
	// while they chose none.
	Language  string
	CreatedAt time.Time
	UpdatedAt time.Time
}

const userCols = `id, username, role, password_hash, must_change_password, disabled, session_gen, totp_secret IS NOT NULL, language, created_at, updated_at`

func scanUser(row rowScanner) (User, error) {
	var u User
	var created, updated string
	err := row.Scan(&u.ID, &u.Username, &u.Role, &u.PasswordHash, &u.MustChangePassword, &u.Disabled, &u.SessionGen, &u.TwoFactor, &u.Language, &created, &updated)
	u.CreatedAt, u.UpdatedAt = parseTime(created), parseTime(updated)
	return u, err
}

func userByID(ctx context.Context, q querier, id int64) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	return u, err
}

// CreateUser adds a user in its own transaction. A taken username gives ErrConflict.
func (db *DB) CreateUser(ctx context.Context, username, role, passwordHash string, mustChange bool) (User, error) {
	var u User
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = db.CreateUserTx(ctx, tx, username, role, passwordHash, mustChange)
		return err
	})
	return u, err
}

// CreateUserTx adds a user inside tx. A taken username (compared without
// case) or an unknown role gives ErrConflict.
func (db *DB) CreateUserTx(ctx context.Context, tx *sql.Tx, username, role, passwordHash string, mustChange bool) (User, error) {
	username = strings.TrimSpace(username)
	if !ValidRole(role) {
		return User{}, fmt.Errorf("role %q: %w", role, ErrConflict)
	}
	now := timeText(db.now())
	id, err := db.insertID(ctx, tx, `INSERT INTO users (username, role, password_hash, must_change_password, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, username, role, passwordHash, mustChange, now, now)
	if err != nil {
		if isUnique(err) {
			return User{}, fmt.Errorf("username %q is taken: %w", username, ErrConflict)
		}
		return User{}, fmt.Errorf("create user: %w", err)
	}
	return userByID(ctx, tx, id)
}

// UserByID returns the user with id, or ErrNotFound.
func (db *DB) UserByID(ctx context.Context, id int64) (User, error) {
	return userByID(ctx, db, id)
}

// UserByName returns the user with that username (case-insensitive), or ErrNotFound.
func (db *DB) UserByName(ctx context.Context, username string) (User, error) {
	u, err := scanUser(db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE username = ?`, strings.TrimSpace(username)))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %q: %w", username, ErrNotFound)
	}
	return u, err
}

// Users lists every user by username.
func (db *DB) Users(ctx context.Context) ([]User, error) {
	return collect(ctx, db, scanUser, `SELECT `+userCols+` FROM users ORDER BY username COLLATE NOCASE`)
}

// CountUsers counts every user, enabled or not.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, err
}

// SetPassword replaces a user's password in its own transaction; see SetPasswordTx.
func (db *DB) SetPassword(ctx context.Context, id int64, passwordHash string, mustChange bool) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := db.SetPasswordTx(ctx, tx, id, passwordHash, mustChange)
		return err
	})
}

// SetPasswordTx replaces a user's password hash and whether they must change
// it at next sign-in, and ends the user's sessions by moving to a new session
// generation, which it returns.
func (db *DB) SetPasswordTx(ctx context.Context, tx *sql.Tx, id int64, passwordHash string, mustChange bool) (int64, error) {
	return db.updateUserTx(ctx, tx, id, `password_hash = ?, must_change_password = ?, session_gen = session_gen + 1`, passwordHash, mustChange)
}

// EndSessionsTx signs the user out everywhere by moving to a new session
// generation, which it returns.
func (db *DB) EndSessionsTx(ctx context.Context, tx *sql.Tx, id int64) (int64, error) {
	return db.updateUserTx(ctx, tx, id, `session_gen = session_gen + 1`)
}

// SetRole changes a user's role in its own transaction; see SetRoleTx.
func (db *DB) SetRole(ctx context.Context, id int64, role string) error {
	return db.InTx(ctx, func(tx *sql.Tx) error { return db.SetRoleTx(ctx, tx, id, role) })
}

// SetRoleTx changes a user's role, refusing (ErrLastAdmin) to demote the
// last enabled admin.
func (db *DB) SetRoleTx(ctx context.Context, tx *sql.Tx, id int64, role string) error {
	if !ValidRole(role) {
		return fmt.Errorf("role %q: %w", role, ErrConflict)
	}
	if err := db.keepAnAdmin(ctx, tx, id, role != RoleAdmin); err != nil {
		return err
	}
	_, err := db.updateUserTx(ctx, tx, id, `role = ?`, role)
	return err
}

// SetDisabled disables or enables a user in its own transaction; see SetDisabledTx.
func (db *DB) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	return db.InTx(ctx, func(tx *sql.Tx) error { return db.SetDisabledTx(ctx, tx, id, disabled) })
}

// SetDisabledTx disables or enables a user, refusing (ErrLastAdmin) to
// disable the last enabled admin. Disabling also ends the user's sessions.
func (db *DB) SetDisabledTx(ctx context.Context, tx *sql.Tx, id int64, disabled bool) error {
	if err := db.keepAnAdmin(ctx, tx, id, disabled); err != nil {
		return err
	}
	_, err := db.updateUserTx(ctx, tx, id, `disabled = ?, session_gen = session_gen + 1`, disabled)
	return err
}

// SetLanguageTx stores the language user id reads the console in ("" for
// none chosen).
func (db *DB) SetLanguageTx(ctx context.Context, tx *sql.Tx, id int64, lang string) error {
	_, err := db.updateUserTx(ctx, tx, id, `language = ?`, lang)
	return err
}

// CountEnabledAdmins counts the enabled admins.
func (db *DB) CountEnabledAdmins(ctx context.Context) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0`).Scan(&n)
	return n, err
}

// keepAnAdmin returns ErrLastAdmin when user id is the last enabled admin
// and the change (losesAdmin) would take that away. It runs inside the write
// transaction, so two admins cannot demote each other at once.
func (db *DB) keepAnAdmin(ctx context.Context, tx *sql.Tx, id int64, losesAdmin bool) error {
	u, err := userByID(ctx, tx, id)
	if err != nil {
		return err
	}
	if !losesAdmin || u.Role != RoleAdmin || u.Disabled {
		return nil
	}
	var others int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?`, id).Scan(&others); err != nil {
		return err
	}
	if others == 0 {
		return ErrLastAdmin
	}
	return nil
}

// updateUserTx applies set to user id and returns the user's session
// generation after the change.
func (db *DB) updateUserTx(ctx context.Context, tx *sql.Tx, id int64, set string, args ...any) (int64, error) {
	args = append(args, timeText(db.now()), id)
	var gen int64
	err := tx.QueryRowContext(ctx, `UPDATE users SET `+set+`, updated_at = ? WHERE id = ? RETURNING session_gen`, args...).Scan(&gen)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return 0, fmt.Errorf("update user %d: %w", id, err)
	}
	return gen, nil
}
