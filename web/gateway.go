package web

import (
	"fmt"
	"net/http"
	"strings"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

// gatewayKeyContext binds a sealed merchant key to its account.
func gatewayKeyContext(id int64) string { return fmt.Sprintf("gateway:%d", id) }

// merchantKey opens an account's sealed merchant key.
func (s *Server) merchantKey(g store.GatewayAccount) (string, error) {
	return s.sealer.Open(g.KeySealed, gatewayKeyContext(g.ID))
}

// gatewayClient is a protocol client for one gateway account.
func (s *Server) gatewayClient(g store.GatewayAccount) (*payments.Client, error) {
	key, err := s.merchantKey(g)
	if err != nil {
		return nil, fmt.Errorf("gateway account %q: %w", g.Name, err)
	}
	return payments.NewClient(payments.Account{BaseURL: g.BaseURL, MchID: g.MchID, AppID: g.AppID, Key: key}, s.gw, s.cfg.GatewayTimeout), nil
}

// notifyURL is where the gateway sends an account's callbacks of a kind
// ("pay" or "trans"). It never has a query string: the reference gateway
// splits notify URLs at the first '?'.
func (s *Server) notifyURL(g store.GatewayAccount, kind string) string {
	base := strings.TrimRight(g.NotifyBaseURL, "/")
	if base == "" {
		base = strings.TrimRight(s.cfg.PublicURL, "/")
	}
	if i := strings.IndexAny(base, "?#"); i >= 0 {
		base = base[:i]
	}
	return base + "/notify/" + kind
}

func newGatewayHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t}
}
