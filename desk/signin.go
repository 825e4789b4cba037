package desk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"paydesk/store"
)

// SignIn is a username and password found right.
type SignIn struct {
	User store.User
	// CodeDue: the user signs in with a two-factor code too, asked next;
	// nobody is signed in yet.
	CodeDue bool
}

// errWrongPassword answers every sign-in whose name, password or account
// state is not right, with one sentence whatever the reason.
var errWrongPassword = refuse(Invalid, "Wrong username or password.")

// SignIn checks a username and password typed at addr, throttled per
// username and per address and within the bound on concurrent password
// hashing. A refusal does not tell whether the username exists; each
// failure is audited, except refusals while throttled, which are audited
// once per throttling episode. A sign-in without two-factor is audited
// as done: the caller starts the session.
func (d *Desk) SignIn(ctx context.Context, username, password, addr string) (SignIn, error) {
	audit := func(detail string) error {
		return d.db.Audit(ctx, store.AuditEntry{Actor: username, Action: "auth.login_failed", Subject: "user:" + username, Detail: detail, ClientAddr: addr})
	}
	uKey, aKey := userThrottleKey(username), addrThrottleKey(addr)
	at, err := d.throttle.reserve(uKey, aKey)
	if err != nil {
		return SignIn{}, err
	}
	if at.wait > 0 {
		if at.episode {
			why := "too many failed sign-ins"
			if at.inFlight {
				why = "too many sign-ins checked at once"
			}
			if err := audit(fmt.Sprintf("refused: %s; throttled for %s; further refusals are counted on the next attempt", why, waitText(at.wait))); err != nil {
				return SignIn{}, err
			}
		}
		if at.inFlight {
			return SignIn{}, refuse(TooMany, "Too many sign-ins for this name or from this address are being checked at once. Try again in %s.", waitText(at.wait))
		}
		return SignIn{}, refuse(TooMany, "Too many failed sign-ins. Try again in %s.", waitText(at.wait))
	}
	u, err := d.db.UserByName(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		d.throttle.release(uKey, aKey)
		return SignIn{}, err
	}
	known := err == nil
	hash := u.PasswordHash
	if !known {
		hash = dummyHash
	}
	// The hash is always checked, so that unknown names cost the same time.
	good, err := d.hasher.check(ctx, hash, password)
	if err != nil {
		// Nothing was checked: the attempt does not count.
		d.throttle.release(uKey, aKey)
		return SignIn{}, err
	}
	good = good && len(password) <= maxPassword
	if !known || !good || u.Disabled {
		detail := "wrong password"
		switch {
		case !known:
			detail = "no such user"
		case good && u.Disabled:
			detail = "account disabled"
		}
		d.throttle.failed(uKey, aKey)
		if err := audit(detail + refusedNote(at.refused)); err != nil {
			return SignIn{}, err
		}
		return SignIn{}, errWrongPassword
	}
	d.throttle.succeed(uKey, aKey)
	if u.TwoFactor {
		err := d.db.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: "auth.login_password", Subject: "user:" + u.Username,
			Detail: "password right; two-factor code asked", ClientAddr: addr})
		return SignIn{User: u, CodeDue: true}, err
	}
	err = d.db.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: "auth.login", Subject: "user:" + u.Username,
		Detail: strings.TrimPrefix(refusedNote(at.refused), "; "), ClientAddr: addr})
	return SignIn{User: u}, err
}

// refusedNote is added to the audit row of the first attempt let through
// after a throttling episode.
func refusedNote(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf("; %d sign-ins refused while throttled before this one", n)
}

// CodeSignIn is a two-factor code found right.
type CodeSignIn struct {
	// Recovery: a recovery code was spent; Left are the ones left.
	Recovery bool
	Left     int
}

// SignInCode checks the code u typed at addr after a right password: a
// code of their authenticator or one of their recovery codes, throttled
// per user and per address (a right password does not forgive wrong
// codes). When it is right the sign-in is audited as done.
func (d *Desk) SignInCode(ctx context.Context, u store.User, typed, addr string) (CodeSignIn, error) {
	typed = strings.TrimSpace(typed)
	if typed == "" {
		return CodeSignIn{}, refuse(Invalid, "Type the 6-digit code from your authenticator app, or one of your recovery codes.")
	}
	tKey, aKey := codeThrottleKey(u.Username), addrThrottleKey(addr)
	at, err := d.throttle.reserve(tKey, aKey)
	if err != nil {
		return CodeSignIn{}, err
	}
	if at.wait > 0 {
		if err := d.auditThrottled(ctx, u, at, addr); err != nil {
			return CodeSignIn{}, err
		}
		return CodeSignIn{}, refuse(TooMany, "Too many wrong codes. Try again in %s.", waitText(at.wait))
	}
	f, err := d.checkCode(ctx, u, typed, true)
	if err != nil {
		d.throttle.release(tKey, aKey)
		return CodeSignIn{}, err
	}
	if !f.ok {
		d.throttle.failed(tKey, aKey)
		detail, refusal := "wrong code", refuse(Invalid, "That code is not right. Type the code your authenticator app shows now, or one of your recovery codes.")
		if f.replayed {
			detail, refusal = "code already used", refuse(Invalid, "That code has been used already. Wait for the next code in your authenticator app and type it.")
		}
		if err := d.db.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: "auth.two_factor_failed", Subject: "user:" + u.Username, Detail: detail, ClientAddr: addr}); err != nil {
			return CodeSignIn{}, err
		}
		return CodeSignIn{}, refusal
	}
	d.throttle.succeed(tKey, aKey)
	detail := "password and two-factor code"
	if f.recovery {
		detail = "password and recovery code"
		if err := d.db.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: "auth.recovery_code_used", Subject: "user:" + u.Username,
			Detail: fmt.Sprintf("%d recovery codes left", f.left), ClientAddr: addr}); err != nil {
			return CodeSignIn{}, err
		}
	}
	err = d.db.Audit(ctx, store.AuditEntry{Actor: u.Username, Action: "auth.login", Subject: "user:" + u.Username, Detail: detail, ClientAddr: addr})
	return CodeSignIn{Recovery: f.recovery, Left: f.left}, err
}

// SignOut records that a signed out.
func (d *Desk) SignOut(ctx context.Context, a Actor) error {
	return d.db.Audit(ctx, store.AuditEntry{Actor: a.Username, Action: "auth.logout", Subject: "user:" + a.Username, ClientAddr: a.ClientAddr})
}

// SignOutEverywhere ends every session of a, on every device.
func (d *Desk) SignOutEverywhere(ctx context.Context, a Actor) error {
	return d.db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := d.db.EndSessionsTx(ctx, tx, a.UserID); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: "auth.logout_everywhere", Subject: "user:" + a.Username, ClientAddr: a.ClientAddr})
	})
}

// ChangePassword sets a's own password, given the current one; their
// other sessions end. It returns the user's new session generation, for
// the session that goes on.
func (d *Desk) ChangePassword(ctx context.Context, a Actor, current, password, confirm string) (int64, error) {
	u, err := d.db.UserByID(ctx, a.UserID)
	if err != nil {
		return 0, err
	}
	if len(current) > maxPassword {
		return 0, refuse(Invalid, "Your current password is not right.")
	}
	if ok, err := d.hasher.check(ctx, u.PasswordHash, current); err != nil {
		return 0, err
	} else if !ok {
		return 0, refuse(Invalid, "Your current password is not right.")
	}
	if err := ValidatePassword(password); err != nil {
		return 0, err
	}
	if password != confirm {
		return 0, refuse(Invalid, "The two new passwords differ.")
	}
	if password == current {
		return 0, refuse(Invalid, "Choose a password different from the current one.")
	}
	hash, err := d.hasher.hash(ctx, password)
	if err != nil {
		return 0, err
	}
	var gen int64
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		if gen, err = d.db.SetPasswordTx(ctx, tx, u.ID, hash, false); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "user.password_change", Subject: "user:" + u.Username, Detail: "own password; other sessions ended", ClientAddr: a.ClientAddr})
	})
	return gen, err
}
