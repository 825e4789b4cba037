package web

import (
	"net/http"

	"paydesk/desk"
)

// setRejectedRetention saves how many days rejected callbacks are kept.
func (s *Server) setRejectedRetention(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	typed := r.PostForm.Get("rejected_retention_days")
	days, err := s.desk.SetRejectedRetention(r.Context(), s.actor(r), typed)
	if refusal, ok := desk.AsRefusal(err); ok && refusal.Kind == desk.Invalid {
		return s.renderGateways(w, r, http.StatusUnprocessableEntity, tr(r).Msg(refusal.Message()), "", typed)
	}
	if err != nil {
		return err
	}
	s.flash(r, tr(r).T("Rejected callbacks are now kept for %d days.", days))
	return redirect(w, r, "/settings/gateways")
}
