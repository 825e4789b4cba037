package web

import (
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"paydesk/store"
	"paydesk/views"
)

// The pending secret of an enrolment (between "set up" and the confirming
// code) is sealed in the user's row, like the secret in use, rather than
// kept in the session: session data is stored unencrypted, and a pending
// secret becomes the real one the moment it is confirmed.

// Which form of the two-factor page an error belongs to.
const (
	formConfirm  = "confirm"
	formDisable  = "disable"
	formRecovery = "recovery"
)

func (s *Server) twoFactorPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderTwoFactor(w, r, http.StatusOK, "", "")
}

// renderTwoFactor shows the user's two-factor page: how to set it up, the
// QR code and secret of an open enrolment, or, when it is on, the forms to
// make new recovery codes and to turn it off. errMsg belongs to form.
func (s *Server) renderTwoFactor(w http.ResponseWriter, r *http.Request, status int, errMsg, form string) error {
	ctx := r.Context()
	u, _ := userFrom(ctx)
	tf, err := s.db.TwoFactor(ctx, u.ID)
	if err != nil {
		return err
	}
	required, err := s.twoFactorRequired(ctx)
	if err != nil {
		return err
	}
	v := views.TwoFactorView{Username: u.Username, On: tf.On(), RecoveryLeft: tf.RecoveryLeft, Required: required, Error: errMsg, ErrorFor: form}
	if tf.On() {
		v.Since = views.Time(tf.EnabledAt, s.loc)
	} else if tf.Pending != nil {
		secret, err := s.sealer.Open(tf.Pending, totpPendingContext(u.ID))
		if err != nil {
			// Sealed under another master key: the user simply starts over.
			if err := s.db.SetPendingTOTP(ctx, u.ID, nil); err != nil {
				return err
			}
			return s.renderTwoFactor(w, r, status, "Setting up two-factor sign-in has to start over. Choose Set up again.", "")
		}
		uri, err := totpURI(u.Username, secret)
		if err != nil {
			return err
		}
		png, err := qrPNG(uri, 240)
		if err != nil {
			return fmt.Errorf("QR code: %w", err)
		}
		v.Enrolling = true
		v.QR = templ.SafeURL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		v.Secret = groupSecret(secret)
	}
	// The page may carry a secret: no cache keeps it.
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, status, views.TwoFactorPage(s.page(r, "Two-factor sign-in", ""), v))
}

var errTwoFactorOn = errStatus(http.StatusConflict, "Two-factor sign-in is on already. To move it to another phone, turn it off and set it up again.")

// startEnrolment makes a new secret and keeps it, sealed, until the user
// confirms it with a code.
func (s *Server) startEnrolment(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	u, _ := userFrom(ctx)
	if u.TwoFactor {
		return errTwoFactorOn
	}
	secret, err := newTOTPSecret(u.Username)
	if err != nil {
		return err
	}
	err = s.db.SetPendingTOTP(ctx, u.ID, s.sealer.Seal(secret, totpPendingContext(u.ID)))
	if errors.Is(err, store.ErrConflict) {
		return errTwoFactorOn
	}
	if err != nil {
		return err
	}
	return redirect(w, r, "/account/two-factor")
}

// cancelEnrolment forgets the secret of an enrolment not yet confirmed.
func (s *Server) cancelEnrolment(w http.ResponseWriter, r *http.Request) error {
	u, _ := userFrom(r.Context())
	if err := s.db.SetPendingTOTP(r.Context(), u.ID, nil); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	s.flash(r, "Setting up two-factor sign-in was cancelled.")
	return redirect(w, r, "/account/two-factor")
}

// confirmEnrolment turns two-factor sign-in on once the user types a
// current code of the pending secret, and shows the recovery codes, once.
func (s *Server) confirmEnrolment(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	u, _ := userFrom(ctx)
	tf, err := s.db.TwoFactor(ctx, u.ID)
	if err != nil {
		return err
	}
	if tf.On() {
		return errTwoFactorOn
	}
	if tf.Pending == nil {
		return s.renderTwoFactor(w, r, http.StatusUnprocessableEntity, "Choose Set up first: your authenticator app needs the QR code.", "")
	}
	secret, err := s.sealer.Open(tf.Pending, totpPendingContext(u.ID))
	if err != nil {
		return s.renderTwoFactor(w, r, http.StatusUnprocessableEntity, "", "")
	}
	code := strings.Join(strings.Fields(truncate(r.PostForm.Get("code"), 64)), "")
	step, ok := totpStep(secret, code, s.now())
	if !ok {
		return s.renderTwoFactor(w, r, http.StatusUnprocessableEntity,
			"That code is not right. Type the 6-digit code your authenticator app shows now for Paydesk; if it still fails, check that the phone sets its clock automatically.", formConfirm)
	}
	codes, hashes := makeRecoveryCodes(u.ID)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.db.EnableTwoFactorTx(ctx, tx, u.ID, s.sealer.Seal(secret, totpContext(u.ID)), step, hashes); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "user.two_factor_enable", Subject: "user:" + u.Username,
			Detail: fmt.Sprintf("authenticator app confirmed; %d recovery codes made", len(codes)), ClientAddr: s.clientAddr(r)})
	})
	if errors.Is(err, store.ErrConflict) {
		return errTwoFactorOn
	}
	if err != nil {
		return err
	}
	return s.renderRecoveryCodes(w, r, codes, true)
}

// renderRecoveryCodes shows new recovery codes: in this answer only, never
// stored but as hashes.
func (s *Server) renderRecoveryCodes(w http.ResponseWriter, r *http.Request, codes []string, enrolled bool) error {
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, http.StatusOK, views.RecoveryCodesPage(s.page(r, "Recovery codes", ""), views.RecoveryCodesView{Codes: codes, Enrolled: enrolled}))
}

// codeRefused ends an attempt reserved on key and the address as a failure,
// and audits it.
func (s *Server) codeRefused(r *http.Request, u store.User, key, detail string) error {
	addr := s.clientAddr(r)
	s.throttle.failed(key, addrThrottleKey(addr))
	return s.db.Audit(r.Context(), store.AuditEntry{Actor: u.Username, Action: "auth.two_factor_failed", Subject: "user:" + u.Username, Detail: detail, ClientAddr: addr})
}

// disableTwoFactor turns the user's own two-factor sign-in off; it asks for
// the password and a current code (or a recovery code, for a lost phone).
func (s *Server) disableTwoFactor(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	u, _ := userFrom(ctx)
	if !u.TwoFactor {
		return errStatus(http.StatusConflict, "Two-factor sign-in is off already.")
	}
	uKey, tKey, aKey := userThrottleKey(u.Username), codeThrottleKey(u.Username), addrThrottleKey(s.clientAddr(r))
	if at := s.throttle.reserve(uKey, tKey, aKey); at.wait > 0 {
		if err := s.auditThrottled(ctx, u, at, s.clientAddr(r)); err != nil {
			return err
		}
		return s.renderTwoFactor(w, r, http.StatusTooManyRequests, "Too many wrong passwords or codes. Try again in "+waitText(at.wait)+".", formDisable)
	}
	pw := r.PostForm.Get("password")
	good, err := s.hasher.check(ctx, u.PasswordHash, pw)
	if err != nil {
		s.throttle.release(uKey, tKey, aKey)
		if errors.Is(err, errHashBusy) {
			return errBusy
		}
		return err
	}
	if len(pw) > maxPassword || !good {
		s.throttle.release(tKey)
		if err := s.codeRefused(r, u, uKey, "turning two-factor off: wrong password"); err != nil {
			return err
		}
		return s.renderTwoFactor(w, r, http.StatusUnprocessableEntity, "Your password is not right. Two-factor sign-in stays on.", formDisable)
	}
	f, err := s.checkCode(ctx, u, truncate(r.PostForm.Get("code"), 64), true)
	if err != nil {
		s.throttle.release(uKey, tKey, aKey)
		return err
	}
	if !f.ok {
		s.throttle.release(uKey)
		if err := s.codeRefused(r, u, tKey, "turning two-factor off: wrong code"); err != nil {
			return err
		}
		return s.renderTwoFactor(w, r, http.StatusUnprocessableEntity, "That code is not right (or was used already). Two-factor sign-in stays on.", formDisable)
	}
	s.throttle.succeed(tKey, uKey, aKey)
	how := "password and code"
	if f.recovery {
		how = "password and recovery code"
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.db.DisableTwoFactorTx(ctx, tx, u.ID); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "user.two_factor_disable", Subject: "user:" + u.Username,
			Detail: "own, confirmed with " + how + "; secret and recovery codes deleted", ClientAddr: s.clientAddr(r)})
	})
	if err != nil {
		return err
	}
	if required, err := s.twoFactorRequired(ctx); err == nil && required {
		s.flash(r, "Two-factor sign-in is off. An admin requires it for everyone: set it up again now, with your new phone if you changed it.")
	} else {
		s.flash(r, "Two-factor sign-in is off: you sign in with your password alone.")
	}
	return redirect(w, r, "/account/two-factor")
}

// newRecoveryCodes replaces the user's recovery codes; it asks for a
// current code of the authenticator app.
func (s *Server) newRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	u, _ := userFrom(ctx)
	if !u.TwoFactor {
		return errStatus(http.StatusConflict, "Set up two-factor sign-in first; recovery codes come with it.")
	}
	tKey, aKey := codeThrottleKey(u.Username), addrThrottleKey(s.clientAddr(r))
	if at := s.throttle.reserve(tKey, aKey); at.wait > 0 {
		if err := s.auditThrottled(ctx, u, at, s.clientAddr(r)); err != nil {
			return err
		}
		return s.renderTwoFactor(w, r, http.StatusTooManyRequests, "Too many wrong codes. Try again in "+waitText(at.wait)+".", formRecovery)
	}
	f, err := s.checkCode(ctx, u, truncate(r.PostForm.Get("code"), 64), false)
	if err != nil {
		s.throttle.release(tKey, aKey)
		return err
	}
	if !f.ok {
		if err := s.codeRefused(r, u, tKey, "new recovery codes: wrong code"); err != nil {
			return err
		}
		return s.renderTwoFactor(w, r, http.StatusUnprocessableEntity, "That code is not right (or was used already). Type the code your authenticator app shows now; your recovery codes are unchanged.", formRecovery)
	}
	s.throttle.succeed(tKey, aKey)
	codes, hashes := makeRecoveryCodes(u.ID)
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.db.ReplaceRecoveryCodesTx(ctx, tx, u.ID, hashes); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "user.two_factor_recovery_codes", Subject: "user:" + u.Username,
			Detail: fmt.Sprintf("%d new recovery codes; the old ones no longer work", len(codes)), ClientAddr: s.clientAddr(r)})
	})
	if err != nil {
		return err
	}
	return s.renderRecoveryCodes(w, r, codes, false)
}

// resetTwoFactorPage asks an admin to confirm resetting a user's
// two-factor sign-in.
func (s *Server) resetTwoFactorPage(w http.ResponseWriter, r *http.Request) error {
	u, err := s.userParam(r)
	if err != nil {
		return err
	}
	p := s.page(r, "Reset two-factor sign-in", "settings")
	return s.render(w, r, http.StatusOK, views.ResetTwoFactor(p, views.ResetTwoFactorView{ID: u.ID, Username: u.Username, On: u.TwoFactor}))
}

// resetTwoFactor turns a user's two-factor sign-in off (a lost phone and
// no recovery codes) and ends their sessions; they sign in with their
// password and, when it is required, set it up again.
func (s *Server) resetTwoFactor(w http.ResponseWriter, r *http.Request) error {
	return s.changeUser(w, r, func(tx *sql.Tx, me, u store.User) (string, string, string, error) {
		switch {
		case u.ID == me.ID:
			return "", "", "", errStatus(http.StatusUnprocessableEntity, "Turn your own two-factor sign-in off on your account page instead.")
		case !u.TwoFactor:
			return "", "", "", errStatus(http.StatusUnprocessableEntity, "%s does not use two-factor sign-in: there is nothing to reset.", u.Username)
		case r.PostForm.Get("confirm") != "yes":
			return "", "", "", errStatus(http.StatusUnprocessableEntity, "Nothing was reset: confirm the reset of %s's two-factor sign-in on its own page.", u.Username)
		}
		if err := s.db.DisableTwoFactorTx(r.Context(), tx, u.ID); err != nil {
			return "", "", "", err
		}
		if _, err := s.db.EndSessionsTx(r.Context(), tx, u.ID); err != nil {
			return "", "", "", err
		}
		return "user.two_factor_reset", "secret and recovery codes deleted; sessions ended",
			fmt.Sprintf("The two-factor sign-in of %s has been reset and their sessions ended. They sign in with their password alone until they set it up again.", u.Username), nil
	}, nil)
}
