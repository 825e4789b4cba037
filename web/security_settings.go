package web

import (
	"net/http"
	"strings"

	"paydesk/desk"
	"paydesk/internal/money"
	"paydesk/views"
)

func (s *Server) securitySettingsPage(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.desk.Security(r.Context())
	if err != nil {
		return err
	}
	f := views.SecuritySettingsForm{RequireTwoFactor: cur.RequireTwoFactor}
	if cur.StepUpLimit > 0 {
		f.StepUpLimit = money.Plain(cur.StepUpLimit)
	}
	return s.renderSecuritySettings(w, r, http.StatusOK, f)
}

func (s *Server) renderSecuritySettings(w http.ResponseWriter, r *http.Request, status int, f views.SecuritySettingsForm) error {
	var err error
	if f.Enabled, f.Without, err = s.db.CountTwoFactor(r.Context()); err != nil {
		return err
	}
	return s.render(w, r, status, views.SecuritySettings(s.page(r, "Security settings", "settings"), f))
}

// saveSecuritySettings stores both settings with one audit row.
func (s *Server) saveSecuritySettings(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	f := views.SecuritySettingsForm{
		RequireTwoFactor: r.PostForm.Get("require_two_factor") == "1",
		StepUpLimit:      truncate(strings.TrimSpace(r.PostForm.Get("step_up_limit")), 40),
	}
	err := s.desk.SetSecurity(r.Context(), s.actor(r), f.RequireTwoFactor, f.StepUpLimit)
	if refusal, ok := desk.AsRefusal(err); ok && refusal.Kind == desk.Invalid {
		f.Errors = fieldErrors(tr(r), refusal)
		f.StepUpLimit = strings.ToValidUTF8(f.StepUpLimit, "?")
		return s.renderSecuritySettings(w, r, http.StatusUnprocessableEntity, f)
	}
	if err != nil {
		return err
	}
	s.flash(r, tr(r).T("Security settings saved."))
	return redirect(w, r, "/settings/security")
}
