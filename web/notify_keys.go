package web

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"time"

	"paydesk/store"
)

// acctKey is an enabled gateway account with its merchant key opened and
// its gateway source addresses parsed (none: any address).
type acctKey struct {
	acct    store.GatewayAccount
	key     string
	sources []netip.Prefix
}

// keyCache keeps the accounts (and opened keys) of each merchant id for a
// short while, so that verifying a callback costs no database read. The
// gateway settings call gatewayAccountsChanged to drop it at once.
type keyCache struct {
	s       *Server
	ttl     time.Duration
	mu      sync.Mutex
	entries map[string]keyEntry
}

type keyEntry struct {
	at    time.Time
	accts []acctKey
}

// maxKeyEntries bounds the cache against callbacks naming random merchant ids.
const maxKeyEntries = 1024

func newKeyCache(s *Server, ttl time.Duration) *keyCache {
	return &keyCache{s: s, ttl: ttl, entries: map[string]keyEntry{}}
}

func (c *keyCache) lookup(ctx context.Context, mchID string) ([]acctKey, error) {
	now := c.s.now()
	c.mu.Lock()
	e, ok := c.entries[mchID]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl && now.Sub(e.at) >= 0 {
		return e.accts, nil
	}
	gs, err := c.s.db.GatewayAccountsByMchID(ctx, mchID)
	if err != nil {
		return nil, err
	}
	accts := make([]acctKey, 0, len(gs))
	for _, g := range gs {
		key, err := c.s.merchantKey(g)
		if err != nil {
			c.s.log.Error("open merchant key", "account", g.ID, "err", err)
			continue
		}
		sources, bad := parseSources(g.NotifySources)
		if bad != "" {
			// Checked when saved; a prefix that no longer parses is left out.
			c.s.log.Error("gateway source address", "account", g.ID, "value", bad)
		}
		accts = append(accts, acctKey{acct: g, key: key, sources: sources})
	}
	c.mu.Lock()
	if len(c.entries) >= maxKeyEntries {
		clear(c.entries)
	}
	c.entries[mchID] = keyEntry{at: now, accts: accts}
	c.mu.Unlock()
	return accts, nil
}

// gatewayAccountsChanged drops every cached merchant key; call it after an
// account is added, changed or disabled.
func (s *Server) gatewayAccountsChanged() {
	s.keys.mu.Lock()
	clear(s.keys.entries)
	s.keys.mu.Unlock()
}

// parseSources reads a gateway account's source addresses: CIDR prefixes
// or single addresses separated by spaces or commas. It returns them
// masked and the first entry that is neither ("" when all are good).
func parseSources(text string) ([]netip.Prefix, string) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' || r == '\r' }) {
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil || a.Zone() != "" {
				return out, f
			}
			a = a.Unmap()
			p = netip.PrefixFrom(a, a.BitLen())
		}
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), max(0, p.Bits()-96))
		}
		out = append(out, p.Masked())
	}
	return out, ""
}
