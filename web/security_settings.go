package web

import (
	"database/sql"
	"fmt"
	"net/http"

	"paydesk/store"
	"paydesk/views"
)

// securitySettings are the admin's sign-in security settings.
type securitySettings struct {
	RequireTwoFactor bool
}

func (s *Server) securitySettings(r *http.Request) (securitySettings, error) {
	var out securitySettings
	var err error
	out.RequireTwoFactor, err = s.twoFactorRequired(r.Context())
	return out, err
}

func (s *Server) securitySettingsPage(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.securitySettings(r)
	if err != nil {
		return err
	}
	f := views.SecuritySettingsForm{RequireTwoFactor: cur.RequireTwoFactor}
	return s.renderSecuritySettings(w, r, http.StatusOK, f)
}

func (s *Server) renderSecuritySettings(w http.ResponseWriter, r *http.Request, status int, f views.SecuritySettingsForm) error {
	var err error
	if f.Enabled, f.Without, err = s.db.CountTwoFactor(r.Context()); err != nil {
		return err
	}
	return s.render(w, r, status, views.SecuritySettings(s.page(r, "Security settings", "settings"), f))
}

// saveSecuritySettings stores the settings with one audit row.
func (s *Server) saveSecuritySettings(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	ctx := r.Context()
	u, _ := userFrom(ctx)
	f := views.SecuritySettingsForm{
		RequireTwoFactor: r.PostForm.Get("require_two_factor") == "1",
	}
	old, err := s.securitySettings(r)
	if err != nil {
		return err
	}
	require := "0"
	if f.RequireTwoFactor {
		require = "1"
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := s.db.SetSettingTx(ctx, tx, settingRequireTwoFactor, require); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "settings.security", Subject: "settings:security",
			Detail: fmt.Sprintf("two-factor required for everyone %v → %v", old.RequireTwoFactor, f.RequireTwoFactor), ClientAddr: s.clientAddr(r)})
	})
	if err != nil {
		return err
	}
	s.flash(r, "Security settings saved.")
	return redirect(w, r, "/settings/security")
}
