package web

import (
	"context"
	"database/sql"
	"errors"
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

// SandboxAccount describes the built-in sandbox gateway's merchant.
type SandboxAccount struct {
	BaseURL, MchID, AppID, Key string
}

// EnsureSandboxAccount makes sure a gateway account named "Sandbox" points
// at the built-in sandbox with its current merchant and key, and is enabled,
// so that a newcomer can create a payment at once. (The sandbox runs only
// while no real account exists, so it is then the console's only gateway.)
func (s *Server) EnsureSandboxAccount(ctx context.Context, sb SandboxAccount) (store.GatewayAccount, error) {
	existing, err := s.db.SandboxAccount(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.GatewayAccount{}, err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		g := store.GatewayAccount{
			Name: "Sandbox", BaseURL: sb.BaseURL, MchID: sb.MchID, AppID: sb.AppID,
			NotifyBaseURL: s.cfg.PublicURL, MerchantName: "Paydesk Sandbox Shop", IsSandbox: true,
		}
		action := "gateway.update"
		if existing.ID == 0 {
			id, err := s.db.CreateGatewayAccountTx(ctx, tx, store.GatewayAccount{
				Name: g.Name, BaseURL: g.BaseURL, MchID: g.MchID, AppID: g.AppID, KeySealed: []byte{0}, // replaced below, once the id is known
				NotifyBaseURL: g.NotifyBaseURL, MerchantName: g.MerchantName, IsSandbox: true,
			})
			if err != nil {
				return err
			}
			existing.ID = id
			action = "gateway.create"
		} else {
			g.Name, g.MerchantName = existing.Name, existing.MerchantName
		}
		g.ID = existing.ID
		g.KeySealed = s.sealer.Seal(sb.Key, gatewayKeyContext(g.ID))
		if err := s.db.UpdateGatewayAccountTx(ctx, tx, g); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: "system", Action: action, Subject: fmt.Sprintf("gateway:%d", g.ID),
			Detail: fmt.Sprintf("built-in sandbox at %s, mchId %s, enabled", sb.BaseURL, sb.MchID)})
	})
	if err != nil {
		return store.GatewayAccount{}, fmt.Errorf("sandbox account: %w", err)
	}
	s.gatewayAccountsChanged()
	return s.db.SandboxAccount(ctx)
}

// RetireSandboxAccount disables the "Sandbox" gateway account when the
// built-in sandbox no longer runs because a real account exists, so that
// nobody picks an account whose gateway is gone. Its orders stay, for the
// record.
func (s *Server) RetireSandboxAccount(ctx context.Context, why string) error {
	g, err := s.db.SandboxAccount(ctx)
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.Disabled) {
		return nil
	} else if err != nil {
		return err
	}
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		g.Disabled, g.KeySealed = true, nil
		if err := s.db.UpdateGatewayAccountTx(ctx, tx, g); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: "system", Action: "gateway.disable", Subject: fmt.Sprintf("gateway:%d", g.ID),
			Detail: "the built-in sandbox is not running: " + why})
	})
	if err != nil {
		return fmt.Errorf("sandbox account: %w", err)
	}
	s.gatewayAccountsChanged()
	return nil
}
