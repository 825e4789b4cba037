package web

import (
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"paydesk/store"
	"paydesk/views"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := s.db.Ping(r.Context()); err != nil {
		s.log.Error("health check", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, err := w.Write([]byte("database unavailable\n"))
		return err
	}
	_, err := w.Write([]byte("ok\n"))
	return err
}

func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	if _, ok := userFrom(r.Context()); ok {
		return redirect(w, r, "/")
	}
	return s.render(w, r, http.StatusOK, views.Login(s.page(r, "Sign in", ""), views.LoginForm{Next: safeNext(r.URL.Query().Get("next"))}))
}

// login checks a username and password. Every failure answers the same
// sentence, so that the page does not tell which usernames exist.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		return errStatus(http.StatusBadRequest, "The form could not be read.")
	}
	username := strings.TrimSpace(r.PostForm.Get("username"))
	password := r.PostForm.Get("password")
	next := safeNext(r.PostForm.Get("next"))
	addr := s.clientAddr(r)
	form := views.LoginForm{Username: username, Next: next}
	if !utf8.ValidString(username) || len(username) > 64 {
		form.Username = ""
		username = ""
	}
	fail := func(status int, msg string) error {
		p := s.page(r, "Sign in", "")
		p.Error = msg
		return s.render(w, r, status, views.Login(p, form))
	}
	uKey, aKey := userThrottleKey(username), addrThrottleKey(addr)
	if wait := s.throttle.wait(uKey, aKey); wait > 0 {
		return fail(http.StatusTooManyRequests, "Too many failed sign-ins. Try again in "+waitText(wait)+".")
	}
	if username == "" || password == "" || len(password) > maxPassword {
		return fail(http.StatusUnprocessableEntity, "Wrong username or password.")
	}
	u, err := s.db.UserByName(r.Context(), username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	hash := u.PasswordHash
	if err != nil {
		hash = dummyHash
	}
	ok := CheckPassword(hash, password) && err == nil && !u.Disabled
	if !ok {
		s.throttle.fail(uKey, aKey)
		if aerr := s.db.Audit(r.Context(), store.AuditEntry{Actor: username, Action: "auth.login_failed", Subject: "user:" + username, ClientAddr: addr}); aerr != nil {
			return aerr
		}
		return fail(http.StatusUnprocessableEntity, "Wrong username or password.")
	}
	s.throttle.succeed(uKey)
	if err := s.sessions.RenewToken(r.Context()); err != nil {
		return err
	}
	s.sessions.Put(r.Context(), "user_id", u.ID)
	if err := s.db.Audit(r.Context(), store.AuditEntry{Actor: u.Username, Action: "auth.login", Subject: "user:" + u.Username, ClientAddr: addr}); err != nil {
		return err
	}
	if u.MustChangePassword {
		return redirect(w, r, "/account/password")
	}
	return redirect(w, r, next)
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	u, _ := userFrom(r.Context())
	if err := s.sessions.Destroy(r.Context()); err != nil {
		return err
	}
	if err := s.sessions.RenewToken(r.Context()); err != nil {
		return err
	}
	if err := s.db.Audit(r.Context(), store.AuditEntry{Actor: u.Username, Action: "auth.logout", Subject: "user:" + u.Username, ClientAddr: s.clientAddr(r)}); err != nil {
		return err
	}
	return redirect(w, r, "/login")
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) error {
	if r.URL.Path != "/" {
		return errNotFound
	}
	return s.render(w, r, http.StatusOK, views.Home(s.page(r, "Start", "")))
}

func (s *Server) accountPage(w http.ResponseWriter, r *http.Request) error {
	return redirect(w, r, "/account/password")
}

func (s *Server) passwordPage(w http.ResponseWriter, r *http.Request) error {
	u, _ := userFrom(r.Context())
	return s.render(w, r, http.StatusOK, views.ChangePassword(s.page(r, "Change password", ""), views.PasswordForm{Forced: u.MustChangePassword}))
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	u, _ := userFrom(r.Context())
	if err := r.ParseForm(); err != nil {
		return errStatus(http.StatusBadRequest, "The form could not be read.")
	}
	cur, nw, confirm := r.PostForm.Get("current"), r.PostForm.Get("new"), r.PostForm.Get("confirm")
	fail := func(msg string) error {
		p := s.page(r, "Change password", "")
		p.Error = msg
		return s.render(w, r, http.StatusUnprocessableEntity, views.ChangePassword(p, views.PasswordForm{Forced: u.MustChangePassword}))
	}
	if !CheckPassword(u.PasswordHash, cur) {
		return fail("Your current password is not right.")
	}
	if err := ValidatePassword(nw); err != nil {
		return fail(err.Error())
	}
	if nw != confirm {
		return fail("The two new passwords differ.")
	}
	if nw == cur {
		return fail("Choose a password different from the current one.")
	}
	hash, err := HashPassword(nw)
	if err != nil {
		return err
	}
	if err := s.db.SetPassword(r.Context(), u.ID, hash, false); err != nil {
		return err
	}
	if err := s.sessions.RenewToken(r.Context()); err != nil {
		return err
	}
	if err := s.db.Audit(r.Context(), store.AuditEntry{Actor: u.Username, Action: "user.password_change", Subject: "user:" + u.Username, ClientAddr: s.clientAddr(r)}); err != nil {
		return err
	}
	s.flash(r, "Your password has been changed.")
	return redirect(w, r, "/")
}

// section serves a navigation section whose content is built elsewhere.
func (s *Server) section(section, title, text string) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		p := s.page(r, title, section)
		return s.render(w, r, http.StatusOK, views.Section(p, title, text))
	}
}

func (s *Server) settingsPage(w http.ResponseWriter, r *http.Request) error {
	p := s.page(r, "Settings", "settings")
	return s.render(w, r, http.StatusOK, views.Settings(p))
}
