package web

import (
	"encoding/base64"
	"fmt"
	"net/http"

	"github.com/a-h/templ"

	"paydesk/desk"
	"paydesk/views"
)

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
	e, err := s.desk.TwoFactorState(ctx, s.actor(r))
	if err != nil {
		return err
	}
	if e.Restarted {
		return s.renderTwoFactor(w, r, status, tr(r).T("Setting up two-factor sign-in has to start over. Choose Set up again."), "")
	}
	v := views.TwoFactorView{Username: u.Username, On: e.On, RecoveryLeft: e.RecoveryLeft, Required: e.Required, Error: errMsg, ErrorFor: form}
	if e.On {
		v.Since = views.Time(e.Since, s.loc)
	} else if e.Enrolling {
		png, err := qrPNG(e.URI, 240)
		if err != nil {
			return fmt.Errorf("QR code: %w", err)
		}
		v.Enrolling = true
		v.QR = templ.SafeURL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
		v.Secret = e.Secret
	}
	// The page may carry a secret: no cache keeps it.
	w.Header().Set("Cache-Control", "no-store")
	return s.render(w, r, status, views.TwoFactorPage(s.page(r, "Two-factor sign-in", ""), v))
}

// twoFactorRefused shows the two-factor page again with a refusal of the
// core next to form; it reports false for any other error.
func (s *Server) twoFactorRefused(w http.ResponseWriter, r *http.Request, err error, form string) (error, bool) {
	refusal, ok := desk.AsRefusal(err)
	if !ok || (refusal.Kind != desk.Invalid && refusal.Kind != desk.TooMany) {
		return err, false
	}
	he := refusalError(refusal)
	return s.renderTwoFactor(w, r, he.status, he.text(r), form), true
}

// startEnrolment makes a new secret and keeps it, sealed, until the user
// confirms it with a code.
func (s *Server) startEnrolment(w http.ResponseWriter, r *http.Request) error {
	if err := s.desk.StartEnrolment(r.Context(), s.actor(r)); err != nil {
		return err
	}
	return redirect(w, r, "/account/two-factor")
}

// cancelEnrolment forgets the secret of an enrolment not yet confirmed.
func (s *Server) cancelEnrolment(w http.ResponseWriter, r *http.Request) error {
	if err := s.desk.CancelEnrolment(r.Context(), s.actor(r)); err != nil {
		return err
	}
	s.flash(r, tr(r).T("Setting up two-factor sign-in was cancelled."))
	return redirect(w, r, "/account/two-factor")
}

// confirmEnrolment turns two-factor sign-in on once the user types a
// current code of the pending secret, and shows the recovery codes, once.
func (s *Server) confirmEnrolment(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	codes, err := s.desk.ConfirmEnrolment(r.Context(), s.actor(r), r.PostForm.Get("code"))
	if err, refused := s.twoFactorRefused(w, r, err, formConfirm); refused || err != nil {
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

// disableTwoFactor turns the user's own two-factor sign-in off; it asks for
// the password and a current code (or a recovery code, for a lost phone).
func (s *Server) disableTwoFactor(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	required, err := s.desk.DisableTwoFactor(r.Context(), s.actor(r), r.PostForm.Get("password"), r.PostForm.Get("code"))
	if err, refused := s.twoFactorRefused(w, r, err, formDisable); refused || err != nil {
		return err
	}
	if required {
		s.flash(r, tr(r).T("Two-factor sign-in is off. An admin requires it for everyone: set it up again now, with your new phone if you changed it."))
	} else {
		s.flash(r, tr(r).T("Two-factor sign-in is off: you sign in with your password alone."))
	}
	return redirect(w, r, "/account/two-factor")
}

// newRecoveryCodes replaces the user's recovery codes; it asks for a
// current code of the authenticator app.
func (s *Server) newRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	codes, err := s.desk.NewRecoveryCodes(r.Context(), s.actor(r), r.PostForm.Get("code"))
	if err, refused := s.twoFactorRefused(w, r, err, formRecovery); refused || err != nil {
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
	if err := parseForm(r); err != nil {
		return err
	}
	u, err := s.userParam(r)
	if err != nil {
		return err
	}
	u, err = s.desk.ResetTwoFactor(r.Context(), s.actor(r), u.ID, r.PostForm.Get("confirm") == "yes")
	if err, refused := s.usersRefused(w, r, err); refused || err != nil {
		return err
	}
	s.flash(r, tr(r).T("The two-factor sign-in of %s has been reset and their sessions ended. They sign in with their password alone until they set it up again.", u.Username))
	return redirect(w, r, "/settings/users")
}
