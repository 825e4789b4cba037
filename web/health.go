package web

import (
	"fmt"
	"net/http"
)

// healthz answers 200 "ok" with the figures a monitor wants when the
// database takes writes, and 503 with a sentence when it does not.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	h, ok := s.desk.Health(r.Context())
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, err := fmt.Fprint(w, "The database does not take writes: payments, payouts and callbacks cannot be recorded. See the console's log.\n")
		return err
	}
	_, err := fmt.Fprintf(w, "ok\ndatabase: takes writes\ncallbacks waiting: %d\n", h.PendingCallbacks)
	return err
}
