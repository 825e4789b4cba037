package web

import (
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"paydesk/store"
	"paydesk/views"
)

// usersPage lists every user for admins, with the forms that change them.
func (s *Server) usersPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderUsers(w, r, http.StatusOK, views.UsersPage{Form: views.NewUserForm{Role: store.RoleViewer}}, "")
}

func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, m views.UsersPage, errMsg string) error {
	return s.renderUsersNotice(w, r, status, m, errMsg, "")
}

// renderUsersNotice renders the users page with notice in place of the
// flash message.
func (s *Server) renderUsersNotice(w http.ResponseWriter, r *http.Request, status int, m views.UsersPage, errMsg, notice string) error {
	me, _ := userFrom(r.Context())
	users, err := s.db.Users(r.Context())
	if err != nil {
		return err
	}
	for _, u := range users {
		m.Users = append(m.Users, views.UserRow{
			ID: u.ID, Username: u.Username, Role: u.Role, Disabled: u.Disabled, MustChange: u.MustChangePassword,
			Self: u.ID == me.ID, Created: views.Time(u.CreatedAt, s.loc),
			TwoFactor: u.TwoFactor,
		})
	}
	m.Roles = store.Roles()
	p := s.page(r, "Users", "settings")
	p.Error = errMsg
	if notice != "" {
		p.Flash = notice
	}
	return s.render(w, r, status, views.Users(p, m))
}

// createUser adds a user with a generated password, shown once.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	me, _ := userFrom(r.Context())
	if err := parseForm(r); err != nil {
		return err
	}
	form := views.NewUserForm{
		Username: strings.TrimSpace(r.PostForm.Get("username")),
		Role:     r.PostForm.Get("role"),
	}
	fail := func(msg string) error {
		// Never echo bytes that are not text, nor a whole oversized field.
		form.Username = truncate(strings.ToValidUTF8(form.Username, "?"), maxUsername)
		if !store.ValidRole(form.Role) {
			form.Role = store.RoleViewer
		}
		return s.renderUsers(w, r, http.StatusUnprocessableEntity, views.UsersPage{Form: form}, msg)
	}
	if err := ValidateUsername(form.Username); err != nil {
		return fail(err.Error())
	}
	if !store.ValidRole(form.Role) {
		return fail(roleSentence(form.Role))
	}
	password := RandomPassword()
	hash, err := s.hasher.hash(r.Context(), password)
	if err != nil {
		return err
	}
	err = s.db.InTx(r.Context(), func(tx *sql.Tx) error {
		if _, err := s.db.CreateUserTx(r.Context(), tx, form.Username, form.Role, hash, true); err != nil {
			return err
		}
		return s.db.AuditTx(r.Context(), tx, store.AuditEntry{Actor: me.Username, Action: "user.create", Subject: "user:" + form.Username, Detail: "role " + form.Role, ClientAddr: s.clientAddr(r)})
	})
	if errors.Is(err, store.ErrConflict) {
		return fail(fmt.Sprintf("The username %s is taken (usernames are compared without case). Choose another.", form.Username))
	}
	if err != nil {
		return err
	}
	return s.issue(w, r, form.Username, password, fmt.Sprintf("User %s created with role %s.", form.Username, form.Role))
}

// issue answers the request that generated a password with the users page
// showing it, this once. The password is kept nowhere (no session, flash,
// log or audit row), and the answer is not stored by the browser, so
// neither a reload nor the back button shows it again.
func (s *Server) issue(w http.ResponseWriter, r *http.Request, username, password, notice string) error {
	w.Header().Set("Cache-Control", "no-store")
	m := views.UsersPage{Form: views.NewUserForm{Role: store.RoleViewer}, Issued: &views.IssuedPassword{Username: username, Password: password}}
	return s.renderUsersNotice(w, r, http.StatusOK, m, "", notice)
}

func roleSentence(role string) string {
	if !utf8.ValidString(role) || len(role) > 20 {
		return "Choose one of the roles: " + strings.Join(store.Roles(), ", ") + "."
	}
	return fmt.Sprintf("There is no role %q. Choose one of: %s.", role, strings.Join(store.Roles(), ", "))
}

// userParam loads the user named by the {id} in the path; a malformed or
// unknown id is 404.
func (s *Server) userParam(r *http.Request) (store.User, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return store.User{}, errNotFound
	}
	return s.db.UserByID(r.Context(), id)
}

// changeUser runs one admin change on a user, with its audit row in the
// same transaction, and answers with the users page (303) or, when the
// change is refused, the page with a sentence (422).
// done, when not nil, answers instead after the commit.
func (s *Server) changeUser(w http.ResponseWriter, r *http.Request, change func(tx *sql.Tx, me, u store.User) (action, detail, flash string, err error), done func(u store.User, flash string) error) error {
	me, _ := userFrom(r.Context())
	if err := parseForm(r); err != nil {
		return err
	}
	u, err := s.userParam(r)
	if err != nil {
		return err
	}
	var flash string
	err = s.db.InTx(r.Context(), func(tx *sql.Tx) error {
		action, detail, f, err := change(tx, me, u)
		if err != nil {
			return err
		}
		flash = f
		return s.db.AuditTx(r.Context(), tx, store.AuditEntry{Actor: me.Username, Action: action, Subject: "user:" + u.Username, Detail: detail, ClientAddr: s.clientAddr(r)})
	})
	var he *httpError
	switch {
	case errors.Is(err, store.ErrLastAdmin):
		return s.renderUsers(w, r, http.StatusUnprocessableEntity, views.UsersPage{Form: views.NewUserForm{Role: store.RoleViewer}},
			fmt.Sprintf("%s is the last enabled admin: make another user admin first, so that someone can still manage users.", u.Username))
	case errors.As(err, &he) && he.status == http.StatusUnprocessableEntity:
		return s.renderUsers(w, r, he.status, views.UsersPage{Form: views.NewUserForm{Role: store.RoleViewer}}, he.msg)
	case err != nil:
		return err
	}
	if done != nil {
		return done(u, flash)
	}
	s.flash(r, flash)
	if u.ID == me.ID {
		// An admin who gave up their own admin role may no longer see the page.
		if now, err := s.db.UserByID(r.Context(), me.ID); err == nil && now.Role != store.RoleAdmin {
			return redirect(w, r, "/")
		}
	}
	return redirect(w, r, "/settings/users")
}

func (s *Server) setUserRole(w http.ResponseWriter, r *http.Request) error {
	return s.changeUser(w, r, func(tx *sql.Tx, me, u store.User) (string, string, string, error) {
		role := r.PostForm.Get("role")
		if !store.ValidRole(role) {
			return "", "", "", errStatus(http.StatusUnprocessableEntity, "%s", roleSentence(role))
		}
		if role == u.Role {
			return "", "", "", errStatus(http.StatusUnprocessableEntity, "%s already has the role %s.", u.Username, role)
		}
		if err := s.db.SetRoleTx(r.Context(), tx, u.ID, role); err != nil {
			return "", "", "", err
		}
		return "user.role", u.Role + " → " + role, fmt.Sprintf("%s now has the role %s.", u.Username, role), nil
	}, nil)
}

func (s *Server) disableUser(w http.ResponseWriter, r *http.Request) error {
	return s.setUserDisabled(w, r, true)
}

func (s *Server) enableUser(w http.ResponseWriter, r *http.Request) error {
	return s.setUserDisabled(w, r, false)
}

func (s *Server) setUserDisabled(w http.ResponseWriter, r *http.Request, disabled bool) error {
	return s.changeUser(w, r, func(tx *sql.Tx, me, u store.User) (string, string, string, error) {
		if disabled && u.ID == me.ID {
			return "", "", "", errStatus(http.StatusUnprocessableEntity, "You cannot disable your own account. Another admin can.")
		}
		if err := s.db.SetDisabledTx(r.Context(), tx, u.ID, disabled); err != nil {
			return "", "", "", err
		}
		if disabled {
			return "user.disable", "sessions ended", fmt.Sprintf("%s is disabled and signed out everywhere.", u.Username), nil
		}
		return "user.enable", "", fmt.Sprintf("%s is enabled again.", u.Username), nil
	}, nil)
}

// resetPassword gives a user a generated password, shown once to the admin,
// which the user must change at next sign-in; their sessions end.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	password := RandomPassword()
	hash, err := s.hasher.hash(r.Context(), password)
	if err != nil {
		return err
	}
	return s.changeUser(w, r, func(tx *sql.Tx, me, u store.User) (string, string, string, error) {
		if u.ID == me.ID {
			return "", "", "", errStatus(http.StatusUnprocessableEntity, "Change your own password on your account page instead.")
		}
		if _, err := s.db.SetPasswordTx(r.Context(), tx, u.ID, hash, true); err != nil {
			return "", "", "", err
		}
		return "user.password_reset", "generated password; must change; sessions ended",
			fmt.Sprintf("The password of %s has been reset and their sessions ended.", u.Username), nil
	}, func(u store.User, flash string) error { return s.issue(w, r, u.Username, password, flash) })
}
