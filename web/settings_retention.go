package web

import (
	"net/http"
)

// setRejectedRetention saves how many days rejected callbacks are kept.
func (s *Server) setRejectedRetention(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	days, err := s.desk.SetRejectedRetention(r.Context(), s.actor(r), r.PostForm.Get("rejected_retention_days"))
	if err != nil {
		return err
	}
	s.flash(r, tr(r).T("Rejected callbacks are now kept for %d days.", days))
	return redirect(w, r, "/settings/gateways")
}
