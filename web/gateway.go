package web

// Placeholder until the shared gateway helpers land in main.

import (
	"fmt"
	"net/http"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

func keyContext(g store.GatewayAccount) string { return fmt.Sprintf("gateway_account:%d", g.ID) }

func (s *Server) merchantKey(g store.GatewayAccount) (string, error) {
	return s.sealer.Open(g.KeySealed, keyContext(g))
}

func (s *Server) gatewayClient(g store.GatewayAccount) (*payments.Client, error) {
	key, err := s.merchantKey(g)
	if err != nil {
		return nil, err
	}
	return payments.NewClient(payments.Account{BaseURL: g.BaseURL, MchID: g.MchID, AppID: g.AppID, Key: key}, &http.Client{Timeout: 15 * time.Second}, 15*time.Second), nil
}

func (s *Server) notifyURL(g store.GatewayAccount, kind string) string {
	return g.NotifyBaseURL + "/notify/" + kind
}
