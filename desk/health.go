package desk

import (
	"context"
	"sync"
	"time"

	"paydesk/store"
)

// healthTTL is how long a health check's answer is kept: /healthz is
// public and writes to the database, so a flood of it must not become a
// flood of commits competing with the callbacks' writer.
const healthTTL = time.Second

// healthCache keeps the last health check.
type healthCache struct {
	mu sync.Mutex
	at time.Time
	h  store.Health
	ok bool
}

// Health proves that the database takes writes (a commit of the time, no
// audit row) and counts the callbacks waiting to be applied; ok is false
// when the write failed (logged). The answer is kept for a second.
func (d *Desk) Health(ctx context.Context) (h store.Health, ok bool) {
	c := &d.health
	c.mu.Lock()
	defer c.mu.Unlock()
	now := d.now()
	if age := now.Sub(c.at); !c.at.IsZero() && age >= 0 && age < healthTTL {
		return c.h, c.ok
	}
	h, err := d.db.CheckHealth(ctx)
	if err != nil {
		d.log.Error("health check: the database does not take writes", "err", err)
	}
	c.at, c.h, c.ok = now, h, err == nil
	return h, c.ok
}
