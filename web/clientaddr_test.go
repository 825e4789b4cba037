package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"paydesk/store"
)

// The client address is the right-most X-Forwarded-For entry that is not a
// trusted proxy, read only when the direct peer is a trusted proxy.
func TestClientAddrFromForwardedChain(t *testing.T) {
	lan := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		trust   bool
		proxies []netip.Prefix
		peer    string
		xff     []string
		want    string
	}{
		{"proxy off: header ignored", false, nil, "192.0.2.10:5000", []string{"203.0.113.9"}, "192.0.2.10"},
		{"loopback proxy by default", true, nil, "127.0.0.1:5000", []string{"203.0.113.9"}, "203.0.113.9"},
		{"spoofed first entry ignored", true, nil, "127.0.0.1:5000", []string{"6.6.6.6, 203.0.113.9"}, "203.0.113.9"},
		{"spoofed loopback on the left", true, nil, "127.0.0.1:5000", []string{"6.6.6.6, 127.0.0.1, 203.0.113.9"}, "203.0.113.9"},
		{"untrusted peer: header ignored", true, nil, "192.0.2.10:5000", []string{"203.0.113.9"}, "192.0.2.10"},
		{"no header", true, nil, "127.0.0.1:5000", nil, "127.0.0.1"},
		{"empty header", true, nil, "127.0.0.1:5000", []string{""}, "127.0.0.1"},
		{"chain of proxies", true, lan, "10.0.0.5:443", []string{"6.6.6.6, 203.0.113.9, 10.0.0.7"}, "203.0.113.9"},
		{"two header lines", true, lan, "10.0.0.5:443", []string{"6.6.6.6", "203.0.113.9, 10.0.0.7"}, "203.0.113.9"},
		{"peer outside the given ranges", true, lan, "127.0.0.1:443", []string{"203.0.113.9"}, "127.0.0.1"},
		{"malformed entry stops the walk", true, lan, "10.0.0.5:443", []string{"6.6.6.6, not-an-address, 10.0.0.7"}, "10.0.0.7"},
		{"malformed last entry", true, lan, "10.0.0.5:443", []string{"6.6.6.6, 203.0.113.9:x"}, "10.0.0.5"},
		{"every entry trusted", true, lan, "10.0.0.5:443", []string{"10.0.0.9, 10.0.0.7"}, "10.0.0.9"},
		{"entry with a port", true, lan, "10.0.0.5:443", []string{"203.0.113.9:4711"}, "203.0.113.9"},
		{"IPv6 client", true, lan, "[fd00::5]:443", []string{"6.6.6.6, 2001:db8::1"}, "2001:db8::1"},
		{"IPv6 client with a port", true, lan, "10.0.0.5:443", []string{"[2001:db8::1]:80"}, "2001:db8::1"},
		{"IPv4-mapped proxy", true, lan, "10.0.0.5:443", []string{"203.0.113.9, ::ffff:10.0.0.7"}, "203.0.113.9"},
		{"comma soup", true, lan, "10.0.0.5:443", []string{",,203.0.113.9"}, "203.0.113.9"},
		{"huge forged list", true, nil, "127.0.0.1:5000", []string{strings.Repeat("6.6.6.6, ", 1000) + "203.0.113.9"}, "203.0.113.9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{TrustProxy: tt.trust, TrustedProxies: tt.proxies}
			cfg.defaults()
			s := &Server{cfg: cfg}
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.peer
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := s.clientAddr(r); got != tt.want {
				t.Fatalf("peer %s, X-Forwarded-For %q: %s, want %s", tt.peer, tt.xff, got, tt.want)
			}
		})
	}
}

// Through a real sign-in: the audit log and the throttle see the address
// the proxy appended, not the one the client wrote.
func TestSpoofedForwardedForDoesNotChooseTheAddress(t *testing.T) {
	env := newTestEnv(t, func(c *testConfig) { c.TrustProxy = true })
	name := env.addUser(store.RoleViewer)
	req, _ := http.NewRequest("POST", env.ts.URL+"/login", strings.NewReader(url.Values{"username": {name}, "password": {testPassword}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Forwarded-For", "6.6.6.6, 203.0.113.50")
	if res := env.browser().do(req); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.StatusCode)
	}
	es, _ := env.db.AuditEntries(context.Background(), store.AuditFilter{Action: "auth.login"})
	if len(es) != 1 || es[0].ClientAddr != "203.0.113.50" {
		t.Fatalf("audit rows %+v, want one from 203.0.113.50", es)
	}
}
