package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"paydesk/desk"
	"paydesk/payments"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// Test sandbox merchant.
const (
	testMchID = "20001222"
	testAppID = "0ae8be35ff634e2abe94f5f32f6d5c4f"
	testKey   = "test-key-123"
)

// newSandboxEnv is a console talking over real HTTP to a real sandbox
// gateway (retry schedule and payout settling 1000× faster), with the
// sandbox's gateway account in env.account.
func newSandboxEnv(t *testing.T, faults sandbox.Faults, edit ...func(*testConfig)) *testEnv {
	t.Helper()
	sbts := httptest.NewUnstartedServer(nil)
	sb := sandbox.New(sandbox.Config{
		MchID: testMchID, AppID: testAppID, Key: testKey,
		PublicURL: "http://" + sbts.Listener.Addr().String(),
		TimeScale: 0.001,
		Faults:    faults,
	})
	sbts.Config.Handler = sb
	sbts.Start()
	edit = append([]func(*testConfig){func(c *testConfig) { c.SandboxURL = sbts.URL }}, edit...)
	env := newTestEnv(t, edit...)
	// Registered after newTestEnv's cleanups, so it runs before them: the
	// sandbox stops sending before the console goes away.
	t.Cleanup(func() {
		sb.Close()
		sbts.Close()
	})
	acct, err := env.desk.EnsureSandboxAccount(context.Background(), desk.SandboxAccount{BaseURL: sbts.URL, MchID: testMchID, AppID: testAppID, Key: testKey})
	if err != nil {
		t.Fatal(err)
	}
	env.sb, env.sbURL, env.account = sb, sbts.URL, acct
	return env
}

// sandboxFields are the testEnv fields newSandboxEnv fills.
type sandboxFields struct {
	sb      *sandbox.Sandbox
	sbURL   string
	account store.GatewayAccount
}

// gatewayClient is a protocol client of the sandbox's merchant, for tests
// that act as the merchant's other systems.
func (e *testEnv) gatewayClient() (*payments.Client, error) {
	return payments.NewClient(payments.Account{BaseURL: e.sbURL, MchID: testMchID, AppID: testAppID, Key: testKey}, http.DefaultClient, 5*time.Second), nil
}

func TestSandboxEnvClientRoundTrip(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	c, err := env.gatewayClient()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueryPayOrder(context.Background(), payments.PayQuery{MchOrderNo: "no-such-order"}); !payments.IsNotFound(err) {
		t.Fatalf("query of an unknown order: want a definite not-found, got %v", err)
	}
}
