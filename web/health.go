package web

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"paydesk/store"
)

// healthCache keeps the last health check for a second: /healthz is
// public and writes to the database, so a flood of it must not become a
// flood of commits competing with the callbacks' writer.
type healthCache struct {
	mu sync.Mutex
	at time.Time
	h  store.Health
	ok bool
}

const healthTTL = time.Second

func (s *Server) checkHealth(ctx context.Context) (store.Health, bool) {
	c := &s.health
	c.mu.Lock()
	defer c.mu.Unlock()
	now := s.now()
	if d := now.Sub(c.at); !c.at.IsZero() && d >= 0 && d < healthTTL {
		return c.h, c.ok
	}
	h, err := s.db.CheckHealth(ctx)
	if err != nil {
		s.log.Error("health check: the database does not take writes", "err", err)
	}
	c.at, c.h, c.ok = now, h, err == nil
	return h, c.ok
}

// healthz answers 200 "ok" with the figures a monitor wants when the
// database takes writes, and 503 with a sentence when it does not.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	h, ok := s.checkHealth(r.Context())
	if !ok {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, err := fmt.Fprint(w, "The database does not take writes: payments, payouts and callbacks cannot be recorded. See the console's log.\n")
		return err
	}
	_, err := fmt.Fprintf(w, "ok\ndatabase: takes writes\ncallbacks waiting: %d\n", h.PendingCallbacks)
	return err
}
