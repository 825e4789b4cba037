package web

import (
	"database/sql"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"paydesk/payments"
	"paydesk/store"
	"paydesk/views"
)

// securitySettings are the admin's sign-in and approval security settings.
type securitySettings struct {
	RequireTwoFactor bool
	StepUpLimit      int64 // fen; 0: approving never asks again
}

func (s *Server) securitySettings(r *http.Request) (securitySettings, error) {
	var out securitySettings
	var err error
	if out.RequireTwoFactor, err = s.twoFactorRequired(r.Context()); err != nil {
		return out, err
	}
	out.StepUpLimit, err = s.stepUpLimit(r.Context())
	return out, err
}

func (s *Server) securitySettingsPage(w http.ResponseWriter, r *http.Request) error {
	cur, err := s.securitySettings(r)
	if err != nil {
		return err
	}
	f := views.SecuritySettingsForm{RequireTwoFactor: cur.RequireTwoFactor}
	if cur.StepUpLimit > 0 {
		f.StepUpLimit = views.YuanPlain(cur.StepUpLimit)
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
	ctx := r.Context()
	u, _ := userFrom(ctx)
	f := views.SecuritySettingsForm{
		RequireTwoFactor: r.PostForm.Get("require_two_factor") == "1",
		StepUpLimit:      truncate(strings.TrimSpace(r.PostForm.Get("step_up_limit")), 40),
		Errors:           map[string]string{},
	}
	var limit int64
	if f.StepUpLimit != "" {
		var err error
		if limit, err = payments.ParseYuan(f.StepUpLimit); err != nil {
			f.Errors["step_up_limit"] = "The limit " + err.Error() + "."
		}
	}
	if len(f.Errors) > 0 {
		f.StepUpLimit = strings.ToValidUTF8(f.StepUpLimit, "?")
		return s.renderSecuritySettings(w, r, http.StatusUnprocessableEntity, f)
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
		if err := s.db.SetSettingTx(ctx, tx, settingStepUpLimit, strconv.FormatInt(limit, 10)); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: u.Username, Action: "settings.security", Subject: "settings:security",
			Detail: fmt.Sprintf("two-factor required for everyone %v → %v; step-up when approving above %s → %s",
				old.RequireTwoFactor, f.RequireTwoFactor, limitText(old.StepUpLimit), limitText(limit)), ClientAddr: s.clientAddr(r)})
	})
	if err != nil {
		return err
	}
	s.flash(r, "Security settings saved.")
	return redirect(w, r, "/settings/security")
}
