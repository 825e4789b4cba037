package web

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"paydesk/desk"
	"paydesk/views"
)

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	if _, ok := userFrom(r.Context()); ok {
		return redirect(w, r, "/")
	}
	return s.render(w, r, http.StatusOK, views.Login(s.page(r, "Sign in", ""), views.LoginForm{Next: s.safeNext(r.URL.Query().Get("next"))}))
}

// login checks a username and password. Every failure answers the same
// sentence, so that the page does not tell which usernames exist.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	next := s.safeNext(r.PostForm.Get("next"))
	addr := s.clientAddr(r)
	if !utf8.ValidString(username) || len(username) > desk.MaxUsername {
		// Not a username anyone could have: fail like a wrong password,
		// without echoing or storing the bytes.
		username = strings.ToValidUTF8(username, "?")
		username = truncate(username, desk.MaxUsername)
	}
	form := views.LoginForm{Username: username, Next: next}
	fail := func(status int, msg string) error {
		p := s.page(r, "Sign in", "")
		p.Error = msg
		return s.render(w, r, status, views.Login(p, form))
	}
	if username == "" || password == "" {
		return fail(http.StatusUnprocessableEntity, tr(r).T("Type your username and your password."))
	}
	in, err := s.desk.SignIn(r.Context(), username, password, addr)
	if refusal, ok := desk.AsRefusal(err); ok {
		he := refusalError(refusal)
		return fail(he.status, he.text(r))
	}
	if err != nil {
		return err
	}
	u := in.User
	if in.CodeDue {
		// Not signed in yet: the code is due first (twofactor.go).
		return s.startSecondStep(w, r, u, next)
	}
	if err := s.startSession(r.Context(), u); err != nil {
		return err
	}
	if u.MustChangePassword {
		return redirect(w, r, "/account/password")
	}
	return redirect(w, r, next)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	if err := s.desk.SignOut(r.Context(), s.actor(r)); err != nil {
		return err
	}
	if err := s.endSession(r.Context(), tr(r).T("You have signed out.")); err != nil {
		return err
	}
	return redirect(w, r, "/login")
}

// logoutEverywhere ends every session of the user, on every device,
// including this one.
func (s *Server) logoutEverywhere(w http.ResponseWriter, r *http.Request) error {
	if err := s.desk.SignOutEverywhere(r.Context(), s.actor(r)); err != nil {
		return err
	}
	if err := s.endSession(r.Context(), tr(r).T("You have been signed out everywhere, on every device.")); err != nil {
		return err
	}
	return redirect(w, r, "/login")
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) error {
	u, _ := userFrom(r.Context())
	a := views.Account{
		Username:  u.Username,
		Role:      u.Role,
		Since:     views.Time(u.CreatedAt, s.loc),
		SignedIn:  views.Time(timeFromNanos(s.sessions.GetInt64(r.Context(), sessAuthAt)), s.loc),
		Idle:      durationText(tr(r), s.cfg.IdleTimeout),
		Lifetime:  durationText(tr(r), s.cfg.Lifetime),
		MustReset: u.MustChangePassword,
		TwoFactor: u.TwoFactor,
		Language:  u.Language,
	}
	return s.render(w, r, http.StatusOK, views.AccountPage(s.page(r, "Your account", ""), a))
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) error {
	u, _ := userFrom(r.Context())
	return s.render(w, r, http.StatusOK, views.ChangePassword(s.page(r, "Change password", ""), views.PasswordForm{Forced: u.MustChangePassword}))
}

// changePassword sets the user's own password. Their other sessions end;
// this one continues on a new token.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	u, _ := userFrom(r.Context())
	if err := parseForm(r); err != nil {
		return err
	}
	gen, err := s.desk.ChangePassword(r.Context(), s.actor(r), r.PostForm.Get("current"), r.PostForm.Get("new"), r.PostForm.Get("confirm"))
	if refusal, ok := desk.AsRefusal(err); ok && refusal.Kind == desk.Invalid {
		p := s.page(r, "Change password", "")
		p.Error = tr(r).Msg(refusal.Message())
		return s.render(w, r, http.StatusUnprocessableEntity, views.ChangePassword(p, views.PasswordForm{Forced: u.MustChangePassword}))
	}
	if err != nil {
		return err
	}
	if err := s.sessions.RenewToken(r.Context()); err != nil {
		return err
	}
	s.sessions.Put(r.Context(), sessGen, gen)
	s.flash(r, tr(r).T("Your password has been changed. Your other sessions, if any, have been signed out."))
	return redirect(w, r, "/")
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) error {
	p := s.page(r, "Settings", "settings")
	return s.render(w, r, http.StatusOK, views.Settings(p, string(s.desk.TeamLanguage(r.Context()))))
}
