package desk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"paydesk/internal/i18n"
	"paydesk/store"
)

// UserActions says what an admin may do with a user on the users page,
// and why not: the page shows the buttons, the actions enforce the same.
type UserActions struct {
	ChangeRole     bool
	Disable        bool
	Enable         bool
	ResetPassword  bool
	ResetTwoFactor bool
	// Note explains a change the page does not offer; its Key is "" when
	// there is nothing to explain.
	Note i18n.Message
}

// UserActionsFor is what a may do with u; enabledAdmins is how many
// enabled admins there are.
func UserActionsFor(a Actor, u store.User, enabledAdmins int) UserActions {
	if !a.AtLeast(store.RoleAdmin) {
		return UserActions{}
	}
	self := u.ID == a.UserID
	last := lastAdmin(u, enabledAdmins)
	acts := UserActions{
		ChangeRole:     !last,
		Disable:        !self && !u.Disabled && !last,
		Enable:         !self && u.Disabled,
		ResetPassword:  !self,
		ResetTwoFactor: !self && u.TwoFactor,
	}
	if last {
		acts.Note = i18n.M("%s is the last enabled admin: make another user admin first, so that someone can still manage users.", u.Username)
	}
	return acts
}

// lastAdmin reports whether u is the only enabled admin.
func lastAdmin(u store.User, enabledAdmins int) bool {
	return u.Role == store.RoleAdmin && !u.Disabled && enabledAdmins <= 1
}

// errLastAdmin refuses a change that would leave no enabled admin.
func errLastAdmin(u store.User) *Refusal {
	return refuse(Invalid, "%s is the last enabled admin: make another user admin first, so that someone can still manage users.", u.Username)
}

// roleRefusal says which roles there are.
func roleRefusal(role string) *Refusal {
	if !utf8.ValidString(role) || len(role) > 20 {
		return refuseField("role", "Choose one of the roles: %s.", strings.Join(store.Roles(), ", "))
	}
	return refuseField("role", "There is no role %q. Choose one of: %s.", role, strings.Join(store.Roles(), ", "))
}

// usernameRefusal says what is wrong with a new username, or nil.
func usernameRefusal(name string) *Refusal {
	if r, ok := AsRefusal(ValidateUsername(name)); ok {
		r.Field = "username"
		return r
	}
	return nil
}

// CreateUser adds a user with a generated password, which it returns to
// be shown once; the user must change it at first sign-in.
func (d *Desk) CreateUser(ctx context.Context, a Actor, username, role string) (password string, err error) {
	if !a.AtLeast(store.RoleAdmin) {
		return "", errAdminOnly
	}
	username = strings.TrimSpace(username)
	if r := usernameRefusal(username); r != nil {
		return "", r
	}
	if !store.ValidRole(role) {
		return "", roleRefusal(role)
	}
	password = RandomPassword()
	hash, err := d.hasher.hash(ctx, password)
	if err != nil {
		return "", err
	}
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := d.db.CreateUserTx(ctx, tx, username, role, hash, true); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: "user.create", Subject: "user:" + username, Detail: "role " + role, ClientAddr: a.ClientAddr})
	})
	if errors.Is(err, store.ErrConflict) {
		return "", refuseField("username", "The username %s is taken (usernames are compared without case). Choose another.", username)
	}
	return password, err
}

// changeUser runs one admin change on user id, with its audit row, in one
// transaction. change returns the audit action and detail.
func (d *Desk) changeUser(ctx context.Context, a Actor, id int64, change func(tx *sql.Tx, u store.User, acts UserActions) (action, detail string, err error)) (store.User, error) {
	if !a.AtLeast(store.RoleAdmin) {
		return store.User{}, errAdminOnly
	}
	u, err := d.db.UserByID(ctx, id)
	if err != nil {
		return u, err
	}
	admins, err := d.db.CountEnabledAdmins(ctx)
	if err != nil {
		return u, err
	}
	acts := UserActionsFor(a, u, admins)
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		action, detail, err := change(tx, u, acts)
		if err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: action, Subject: "user:" + u.Username, Detail: detail, ClientAddr: a.ClientAddr})
	})
	if errors.Is(err, store.ErrLastAdmin) {
		// Another admin changed meanwhile: the store keeps one anyway.
		return u, errLastAdmin(u)
	}
	return u, err
}

// SetUserRole gives user id another role. The last enabled admin keeps the
// admin role.
func (d *Desk) SetUserRole(ctx context.Context, a Actor, id int64, role string) (store.User, error) {
	return d.changeUser(ctx, a, id, func(tx *sql.Tx, u store.User, acts UserActions) (string, string, error) {
		switch {
		case !store.ValidRole(role):
			return "", "", roleRefusal(role)
		case role == u.Role:
			return "", "", refuse(Invalid, "%s already has the role %s.", u.Username, role)
		case !acts.ChangeRole:
			return "", "", errLastAdmin(u)
		}
		if err := d.db.SetRoleTx(ctx, tx, u.ID, role); err != nil {
			return "", "", err
		}
		return "user.role", u.Role + " → " + role, nil
	})
}

// SetUserDisabled disables user id (ending their sessions) or enables
// them again. Nobody disables themselves, nor the last enabled admin.
func (d *Desk) SetUserDisabled(ctx context.Context, a Actor, id int64, disabled bool) (store.User, error) {
	return d.changeUser(ctx, a, id, func(tx *sql.Tx, u store.User, acts UserActions) (string, string, error) {
		switch {
		case disabled && u.ID == a.UserID:
			return "", "", refuse(Invalid, "You cannot disable your own account. Another admin can.")
		case disabled && !acts.Disable && !u.Disabled:
			return "", "", errLastAdmin(u)
		}
		if err := d.db.SetDisabledTx(ctx, tx, u.ID, disabled); err != nil {
			return "", "", err
		}
		if disabled {
			return "user.disable", "sessions ended", nil
		}
		return "user.enable", "", nil
	})
}

// ResetPassword gives user id a generated password, returned to be shown
// once to the admin; the user must change it at next sign-in and their
// sessions end. Admins change their own on their account page.
func (d *Desk) ResetPassword(ctx context.Context, a Actor, id int64) (string, error) {
	if id == a.UserID {
		return "", refuse(Invalid, "Change your own password on your account page instead.")
	}
	if !a.AtLeast(store.RoleAdmin) {
		return "", errAdminOnly
	}
	password := RandomPassword()
	hash, err := d.hasher.hash(ctx, password)
	if err != nil {
		return "", err
	}
	_, err = d.changeUser(ctx, a, id, func(tx *sql.Tx, u store.User, _ UserActions) (string, string, error) {
		if _, err := d.db.SetPasswordTx(ctx, tx, u.ID, hash, true); err != nil {
			return "", "", err
		}
		return "user.password_reset", "generated password; must change; sessions ended", nil
	})
	if err != nil {
		return "", err
	}
	return password, nil
}

// ResetTwoFactor turns user id's two-factor sign-in off (a lost phone and
// no recovery codes) and ends their sessions; confirmed says the admin
// confirmed it on its own page.
func (d *Desk) ResetTwoFactor(ctx context.Context, a Actor, id int64, confirmed bool) (store.User, error) {
	return d.changeUser(ctx, a, id, func(tx *sql.Tx, u store.User, _ UserActions) (string, string, error) {
		switch {
		case u.ID == a.UserID:
			return "", "", refuse(Invalid, "Turn your own two-factor sign-in off on your account page instead.")
		case !u.TwoFactor:
			return "", "", refuse(Invalid, "%s does not use two-factor sign-in: there is nothing to reset.", u.Username)
		case !confirmed:
			return "", "", refuse(Invalid, "Nothing was reset: confirm the reset of %s's two-factor sign-in on its own page.", u.Username)
		}
		if err := d.db.DisableTwoFactorTx(ctx, tx, u.ID); err != nil {
			return "", "", err
		}
		if _, err := d.db.EndSessionsTx(ctx, tx, u.ID); err != nil {
			return "", "", err
		}
		return "user.two_factor_reset", "secret and recovery codes deleted; sessions ended", nil
	})
}

// CreateFirstAdmin creates the user admin when no user exists yet, with
// password, or a generated one when it is empty (returned, to be shown
// once; it must be changed at first sign-in). created is false when users
// exist.
func (d *Desk) CreateFirstAdmin(ctx context.Context, password string) (generated string, created bool, err error) {
	n, err := d.db.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", false, err
	}
	if password == "" {
		generated = RandomPassword()
		password = generated
	} else if err := ValidatePassword(password); err != nil {
		return "", false, fmt.Errorf("PAYDESK_ADMIN_PASSWORD: %w", err)
	}
	hash, err := HashPassword(password)
	if err != nil {
		return "", false, err
	}
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := d.db.CreateUserTx(ctx, tx, "admin", store.RoleAdmin, hash, generated != ""); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: System.Username, Action: "user.create", Subject: "user:admin", Detail: "first admin, role admin"})
	})
	return generated, err == nil, err
}
