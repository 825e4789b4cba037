package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"paydesk/desk"
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
// flash message. What each row offers is what the core allows.
func (s *Server) renderUsersNotice(w http.ResponseWriter, r *http.Request, status int, m views.UsersPage, errMsg, notice string) error {
	me := s.actor(r)
	users, err := s.db.Users(r.Context())
	if err != nil {
		return err
	}
	admins := 0
	for _, u := range users {
		if u.Role == store.RoleAdmin && !u.Disabled {
			admins++
		}
	}
	for _, u := range users {
		acts := desk.UserActionsFor(me, u, admins)
		m.Users = append(m.Users, views.UserRow{
			ID: u.ID, Username: u.Username, Role: u.Role, Disabled: u.Disabled, MustChange: u.MustChangePassword,
			Self: u.ID == me.UserID, Created: views.Time(u.CreatedAt, s.loc), TwoFactor: u.TwoFactor,
			CanChangeRole: acts.ChangeRole, CanDisable: acts.Disable, CanEnable: acts.Enable,
			CanResetPassword: acts.ResetPassword, CanResetTwoFactor: acts.ResetTwoFactor, Note: acts.Note,
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

// usersRefused shows the users page again with a refusal of the core;
// it reports false for any other error.
func (s *Server) usersRefused(w http.ResponseWriter, r *http.Request, err error) (error, bool) {
	refusal, ok := desk.AsRefusal(err)
	if !ok || refusal.Kind != desk.Invalid {
		return err, false
	}
	return s.renderUsers(w, r, http.StatusUnprocessableEntity, views.UsersPage{Form: views.NewUserForm{Role: store.RoleViewer}}, tr(r).Msg(refusal.Message())), true
}

// createUser adds a user with a generated password, shown once.
func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	form := views.NewUserForm{
		Username: strings.TrimSpace(r.PostForm.Get("username")),
		Role:     r.PostForm.Get("role"),
	}
	password, err := s.desk.CreateUser(r.Context(), s.actor(r), form.Username, form.Role)
	if refusal, ok := desk.AsRefusal(err); ok && refusal.Kind == desk.Invalid {
		// Never echo bytes that are not text, nor a whole oversized field.
		form.Username = truncate(strings.ToValidUTF8(form.Username, "?"), desk.MaxUsername)
		if !store.ValidRole(form.Role) {
			form.Role = store.RoleViewer
		}
		return s.renderUsers(w, r, http.StatusUnprocessableEntity, views.UsersPage{Form: form}, tr(r).Msg(refusal.Message()))
	}
	if err != nil {
		return err
	}
	return s.issue(w, r, form.Username, password, tr(r).T("User %s created with role %s.", form.Username, tr(r).T(views.RoleName(form.Role))))
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

// userParam loads the user named by the {id} in the path; a malformed or
// unknown id is 404.
func (s *Server) userParam(r *http.Request) (store.User, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return store.User{}, errNotFound
	}
	return s.db.UserByID(r.Context(), id)
}

// userChanged answers an admin change of user u: the users page (303),
// or the start page when the admin gave up their own admin role.
func (s *Server) userChanged(w http.ResponseWriter, r *http.Request, u store.User, flash string) error {
	s.flash(r, flash)
	if me, _ := userFrom(r.Context()); u.ID == me.ID {
		// An admin who gave up their own admin role may no longer see the page.
		if now, err := s.db.UserByID(r.Context(), me.ID); err == nil && now.Role != store.RoleAdmin {
			return redirect(w, r, "/")
		}
	}
	return redirect(w, r, "/settings/users")
}

func (s *Server) setUserRole(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	u, err := s.userParam(r)
	if err != nil {
		return err
	}
	role := r.PostForm.Get("role")
	u, err = s.desk.SetUserRole(r.Context(), s.actor(r), u.ID, role)
	if err, refused := s.usersRefused(w, r, err); refused || err != nil {
		return err
	}
	return s.userChanged(w, r, u, tr(r).T("%s now has the role %s.", u.Username, tr(r).T(views.RoleName(role))))
}

func (s *Server) disableUser(w http.ResponseWriter, r *http.Request) error {
	return s.setUserDisabled(w, r, true)
}

func (s *Server) enableUser(w http.ResponseWriter, r *http.Request) error {
	return s.setUserDisabled(w, r, false)
}

func (s *Server) setUserDisabled(w http.ResponseWriter, r *http.Request, disabled bool) error {
	u, err := s.userParam(r)
	if err != nil {
		return err
	}
	u, err = s.desk.SetUserDisabled(r.Context(), s.actor(r), u.ID, disabled)
	if err, refused := s.usersRefused(w, r, err); refused || err != nil {
		return err
	}
	if disabled {
		return s.userChanged(w, r, u, tr(r).T("%s is disabled and signed out everywhere.", u.Username))
	}
	return s.userChanged(w, r, u, tr(r).T("%s is enabled again.", u.Username))
}

// resetPassword gives a user a generated password, shown once to the admin,
// which the user must change at next sign-in; their sessions end.
func (s *Server) resetPassword(w http.ResponseWriter, r *http.Request) error {
	u, err := s.userParam(r)
	if err != nil {
		return err
	}
	password, err := s.desk.ResetPassword(r.Context(), s.actor(r), u.ID)
	if err, refused := s.usersRefused(w, r, err); refused || err != nil {
		return err
	}
	return s.issue(w, r, u.Username, password, tr(r).T("The password of %s has been reset and their sessions ended.", u.Username))
}
