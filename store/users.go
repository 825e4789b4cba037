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
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

const userCols = `id, username, role, password_hash, must_change_password, disabled, created_at, updated_at`

func scanUser(row interface{ Scan(...any) error }) (User, error) {
	var u User
	var created, updated string
	err := row.Scan(&u.ID, &u.Username, &u.Role, &u.PasswordHash, &u.MustChangePassword, &u.Disabled, &created, &updated)
	u.CreatedAt, u.UpdatedAt = parseTime(created), parseTime(updated)
	return u, err
}

// CreateUser adds a user. A taken username gives ErrConflict.
func (db *DB) CreateUser(ctx context.Context, username, role, passwordHash string, mustChange bool) (User, error) {
	username = strings.TrimSpace(username)
	if !ValidRole(role) {
		return User{}, fmt.Errorf("role %q: %w", role, ErrConflict)
	}
	now := timeText(db.now())
	res, err := db.ExecContext(ctx, `INSERT INTO users (username, role, password_hash, must_change_password, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?)`, username, role, passwordHash, mustChange, now, now)
	if err != nil {
		if strings.Contains(err.Error(), "UNIQUE") {
			return User{}, fmt.Errorf("username %q is taken: %w", username, ErrConflict)
		}
		return User{}, fmt.Errorf("create user: %w", err)
	}
	id, _ := res.LastInsertId()
	return db.UserByID(ctx, id)
}

// UserByID returns the user with id, or ErrNotFound.
func (db *DB) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(db.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	return u, err
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
	rows, err := db.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY username`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// CountUsers counts every user, enabled or not.
func (db *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, err
}

// SetPassword replaces a user's password hash and whether they must change it at next sign-in.
func (db *DB) SetPassword(ctx context.Context, id int64, passwordHash string, mustChange bool) error {
	return db.updateUser(ctx, id, `password_hash = ?, must_change_password = ?`, passwordHash, mustChange)
}

// SetRole changes a user's role, refusing to demote the last enabled admin.
func (db *DB) SetRole(ctx context.Context, id int64, role string) error {
	if !ValidRole(role) {
		return fmt.Errorf("role %q: %w", role, ErrConflict)
	}
	return db.guardedUserChange(ctx, id, role != RoleAdmin, `role = ?`, role)
}

// SetDisabled disables or enables a user, refusing to disable the last enabled admin.
func (db *DB) SetDisabled(ctx context.Context, id int64, disabled bool) error {
	return db.guardedUserChange(ctx, id, disabled, `disabled = ?`, disabled)
}

// guardedUserChange applies set to user id in one transaction; when
// losesAdmin, it first checks that another enabled admin remains.
func (db *DB) guardedUserChange(ctx context.Context, id int64, losesAdmin bool, set string, arg any) error {
	return db.InTx(ctx, func(tx *sql.Tx) error {
		u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("user %d: %w", id, ErrNotFound)
		} else if err != nil {
			return err
		}
		if losesAdmin && u.Role == RoleAdmin && !u.Disabled {
			var others int
			if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'admin' AND disabled = 0 AND id <> ?`, id).Scan(&others); err != nil {
				return err
			}
			if others == 0 {
				return ErrLastAdmin
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET `+set+`, updated_at = ? WHERE id = ?`, arg, timeText(db.now()), id)
		return err
	})
}

func (db *DB) updateUser(ctx context.Context, id int64, set string, args ...any) error {
	args = append(args, timeText(db.now()), id)
	res, err := db.ExecContext(ctx, `UPDATE users SET `+set+`, updated_at = ? WHERE id = ?`, args...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("user %d: %w", id, ErrNotFound)
	}
	return nil
}
