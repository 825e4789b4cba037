package web

import (
	"context"
	"errors"
	"net/http"
	"time"

	"paydesk/desk"
	"paydesk/internal/i18n"
	"paydesk/store"
	"paydesk/views"
)

// The second step of a sign-in with two-factor (the rules are the
// core's: desk.SignInCode): after the right password the session holds
// who is signing in, and for how long the code page waits.
const secondStepTime = 5 * time.Minute

// Session keys of a sign-in whose password was right and whose code is
// still due. The session holds no sessUserID meanwhile, so it counts as
// signed out everywhere but on the code page.
const (
	sessPendingUser  = "2fa_user"
	sessPendingGen   = "2fa_gen"   // the user's session generation when the password was checked
	sessPendingUntil = "2fa_until" // unix nanoseconds
	sessPendingNext  = "2fa_next"
)

// startSecondStep is where a right password leads when the user signs in
// with a code too: the browser gets a new session token holding only who
// is signing in, until when, and where to go after; nobody is signed in.
func (s *Server) startSecondStep(w http.ResponseWriter, r *http.Request, u store.User, next string) error {
	ctx := r.Context()
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	for _, k := range []string{sessUserID, sessGen, sessAuthAt, sessSeen} {
		s.sessions.Remove(ctx, k)
	}
	s.sessions.Put(ctx, sessPendingUser, u.ID)
	s.sessions.Put(ctx, sessPendingGen, u.SessionGen)
	s.sessions.Put(ctx, sessPendingUntil, s.now().Add(secondStepTime).UnixNano())
	s.sessions.Put(ctx, sessPendingNext, next)
	return redirect(w, r, "/login/two-factor")
}

// endSecondStep forgets a pending sign-in.
func (s *Server) endSecondStep(ctx context.Context) {
	for _, k := range []string{sessPendingUser, sessPendingGen, sessPendingUntil, sessPendingNext} {
		s.sessions.Remove(ctx, k)
	}
}

// pendingUser is the user whose password was right and whose code is due;
// why says, when there is none, what the sign-in page should tell.
func (s *Server) pendingUser(ctx context.Context) (u store.User, why string, err error) {
	id := s.sessions.GetInt64(ctx, sessPendingUser)
	if id == 0 {
		return u, i18n.FromContext(ctx).T("Sign in with your username and password first."), nil
	}
	if !s.now().Before(time.Unix(0, s.sessions.GetInt64(ctx, sessPendingUntil))) {
		return u, i18n.FromContext(ctx).T("The code was not typed within %s. Sign in again.", durationText(i18n.FromContext(ctx), secondStepTime)), nil
	}
	u, err = s.db.UserByID(ctx, id)
	if err != nil {
		return u, i18n.FromContext(ctx).T("Sign in again."), ignoreNotFound(err)
	}
	if u.Disabled || !u.TwoFactor || u.SessionGen != s.sessions.GetInt64(ctx, sessPendingGen) {
		return u, i18n.FromContext(ctx).T("Your account changed while you were signing in. Sign in again."), nil
	}
	return u, "", nil
}

func ignoreNotFound(err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	return err
}

// loginCodePage asks for the code after a right password.
func (s *Server) loginCodePage(w http.ResponseWriter, r *http.Request) error {
	if _, ok := userFrom(r.Context()); ok {
		return redirect(w, r, "/")
	}
	u, why, err := s.pendingUser(r.Context())
	if err != nil {
		return err
	}
	if why != "" {
		return s.backToLogin(w, r, why)
	}
	return s.renderLoginCode(w, r, http.StatusOK, u, "")
}

func (s *Server) renderLoginCode(w http.ResponseWriter, r *http.Request, status int, u store.User, msg string) error {
	p := s.page(r, "Two-factor code", "")
	p.Error = msg
	return s.render(w, r, status, views.LoginCode(p, views.LoginCodeForm{Username: u.Username}))
}

func (s *Server) backToLogin(w http.ResponseWriter, r *http.Request, why string) error {
	s.endSecondStep(r.Context())
	s.flash(r, why)
	return redirect(w, r, "/login")
}

// loginCode checks the code typed after a right password and, when it is
// right, signs the user in.
func (s *Server) loginCode(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	if _, ok := userFrom(ctx); ok {
		return redirect(w, r, "/")
	}
	u, why, err := s.pendingUser(ctx)
	if err != nil {
		return err
	}
	if why != "" {
		return s.backToLogin(w, r, why)
	}
	f, err := s.desk.SignInCode(ctx, u, r.PostForm.Get("code"), s.clientAddr(r))
	if refusal, ok := desk.AsRefusal(err); ok {
		he := refusalError(refusal)
		return s.renderLoginCode(w, r, he.status, u, he.text(r))
	}
	if err != nil {
		return err
	}
	next := s.safeNext(s.sessions.GetString(ctx, sessPendingNext))
	s.endSecondStep(ctx)
	if err := s.startSession(ctx, u); err != nil {
		return err
	}
	if f.Recovery {
		s.flash(r, tr(r).T("You signed in with a recovery code, which now no longer works; %d are left. If you lost your phone, set up two-factor sign-in again on your account page.", f.Left))
	}
	if u.MustChangePassword {
		return redirect(w, r, "/account/password")
	}
	return redirect(w, r, next)
}

// enrolmentPath reports whether a user who must set up two-factor sign-in
// may still reach path.
func enrolmentPath(path string) bool {
	switch path {
	case "/account/two-factor", "/account/two-factor/start", "/account/two-factor/confirm", "/account/two-factor/cancel", "/logout":
		return true
	}
	return false
}

// enrolFirst sends a user who must set up two-factor sign-in to do that,
// and reports whether it did.
func (s *Server) enrolFirst(w http.ResponseWriter, r *http.Request, u store.User) bool {
	if enrolmentPath(r.URL.Path) || !s.desk.MustEnrol(r.Context(), u) {
		return false
	}
	redirect(w, r, "/account/two-factor")
	return true
}
