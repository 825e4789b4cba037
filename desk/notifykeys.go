package desk

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
// short while, so that verifying a callback costs no database read. Every
// change to an account drops it at once (GatewayAccountsChanged).
type keyCache struct {
	d       *Desk
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

func newKeyCache(d *Desk, ttl time.Duration) *keyCache {
	return &keyCache{d: d, ttl: ttl, entries: map[string]keyEntry{}}
}

func (c *keyCache) lookup(ctx context.Context, mchID string) ([]acctKey, error) {
	now := c.d.now()
	c.mu.Lock()
	e, ok := c.entries[mchID]
	c.mu.Unlock()
	if ok && now.Sub(e.at) < c.ttl && now.Sub(e.at) >= 0 {
		return e.accts, nil
	}
	gs, err := c.d.db.GatewayAccountsByMchID(ctx, mchID)
	if err != nil {
		return nil, err
	}
	accts := make([]acctKey, 0, len(gs))
	for _, g := range gs {
		key, err := c.d.merchantKey(g)
		if err != nil {
			c.d.log.Error("open merchant key", "account", g.ID, "err", err)
			continue
		}
		sources, bad := parseSources(g.NotifySources)
		if bad != "" {
			// Checked when saved; a prefix that no longer parses is left out.
			c.d.log.Error("gateway source address", "account", g.ID, "value", bad)
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

// clear drops every cached merchant key.
func (c *keyCache) clear() {
	c.mu.Lock()
	clear(c.entries)
	c.mu.Unlock()
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
