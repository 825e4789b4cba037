package desk

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"paydesk/internal/dbtest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"paydesk/payments"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// clock is the controllable clock of a test core: the store and the core
// read the same one. It runs with the real time, moved forward by what
// Advance adds, so that tests pass timeouts without waiting while the
// background loops still see time go by.
type clock struct {
	skew atomic.Int64
}

func newClock() *clock { return &clock{} }

func (c *clock) Now() time.Time { return time.Now().Add(time.Duration(c.skew.Load())) }

// Advance moves the clock forward by d.
func (c *clock) Advance(d time.Duration) { c.skew.Add(int64(d)) }

// coreEnv is a core on a real SQLite file, with its loops running.
type coreEnv struct {
	t     *testing.T
	db    *store.DB
	d     *Desk
	clock *clock
	seq   int
	// sb and account are set by withSandbox.
	sb      *sandbox.Sandbox
	sbURL   string
	account store.GatewayAccount
}

var testMasterKey = bytes.Repeat([]byte{42}, 32)

// newCoreEnv starts a core; edit adjusts its Config before start.
func newCoreEnv(t *testing.T, edit ...func(*Config)) *coreEnv {
	t.Helper()
	e := &coreEnv{t: t, clock: newClock()}
	db, err := store.Open(context.Background(), dbtest.URL(t), e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	cfg := Config{MasterKey: testMasterKey, PublicURL: "http://127.0.0.1:1", GatewayTimeout: time.Second}
	for _, f := range edit {
		f(&cfg)
	}
	d, err := New(cfg, db, nil, e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	e.d = d
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return e
}

// Test sandbox merchant.
const (
	testMchID = "20001222"
	testAppID = "0ae8be35ff634e2abe94f5f32f6d5c4f"
	testKey   = "test-key-123"
)

// withSandbox starts a real sandbox gateway over HTTP (its clock 1000×
// faster) and points the "Sandbox" account at it.
func (e *coreEnv) withSandbox(faults sandbox.Faults) *coreEnv {
	e.t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	sb := sandbox.New(sandbox.Config{MchID: testMchID, AppID: testAppID, Key: testKey,
		PublicURL: "http://" + ts.Listener.Addr().String(), TimeScale: 0.001, Faults: faults})
	ts.Config.Handler = sb
	ts.Start()
	e.t.Cleanup(func() {
		sb.Close()
		ts.Close()
	})
	g, err := e.d.EnsureSandboxAccount(context.Background(), SandboxAccount{BaseURL: ts.URL, MchID: testMchID, AppID: testAppID, Key: testKey})
	if err != nil {
		e.t.Fatal(err)
	}
	e.sb, e.sbURL, e.account = sb, ts.URL, g
	return e
}

// admin is an admin actor.
var admin = Actor{UserID: 1, Username: "root", Role: store.RoleAdmin, ClientAddr: "192.0.2.1"}

// account adds an enabled gateway account for mchID with key.
func (e *coreEnv) accountFor(name, mchID, appID, key string) store.GatewayAccount {
	e.t.Helper()
	g, err := e.d.CreateGatewayAccount(context.Background(), admin, GatewayInput{Name: name, BaseURL: "http://127.0.0.1:1",
		NotifyBaseURL: "http://127.0.0.1:1", MchID: mchID, AppID: appID, Key: key})
	if err != nil {
		e.t.Fatal(err)
	}
	return g
}

// payOrder stores a console pay order the gateway has accepted.
func (e *coreEnv) payOrder(acct int64, mchOrderNo, payOrderID string, amount int64, status int) store.PayOrder {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	err := e.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = e.db.InsertPayOrderTx(ctx, tx, store.PayOrder{AccountID: acct, MchOrderNo: mchOrderNo, PayOrderID: payOrderID, ProductID: 8000,
			Amount: amount, Subject: "s", Status: &status, State: store.PayStateOpen, CreatedBy: "tester"})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	o, err := e.db.PayOrderByID(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return o
}

// payout stores a console payout the gateway has.
func (e *coreEnv) payout(acct int64, no, transOrderID string, amount int64, status int) store.Payout {
	e.t.Helper()
	ctx := context.Background()
	var id int64
	err := e.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = e.db.InsertPayoutTx(ctx, tx, store.Payout{AccountID: acct, MchTransOrderNo: no, TransOrderID: transOrderID, Amount: amount,
			AccountName: "张三", AccountNo: "6222000011112222", BankCode: "HPT00001", Status: &status, State: store.PayoutSubmitted, CreatedBy: "tester"})
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := e.db.PayoutByID(ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func payFields(mchID, appID, payOrderID, mchOrderNo string, amount int64, status int) payments.Params {
	return payments.Params{"payOrderId": payOrderID, "mchId": mchID, "appId": appID, "productId": "8000", "mchOrderNo": mchOrderNo,
		"amount": fmt.Sprint(amount), "status": fmt.Sprint(status), "channelOrderNo": "CH" + payOrderID, "paySuccTime": "1764115200000",
		"backType": "2", "param1": "", "param2": ""}
}

func transFields(mchID, transOrderID, no string, amount int64, status int) payments.Params {
	return payments.Params{"transOrderId": transOrderID, "mchId": mchID, "mchTransOrderNo": no, "amount": fmt.Sprint(amount),
		"status": fmt.Sprint(status), "channelOrderNo": "", "transSuccTime": "1764115200000", "backType": "2"}
}

// signedQuery is a callback's fields signed with key, as a query string.
func signedQuery(p payments.Params, key string) string {
	v := url.Values{}
	for k, x := range p {
		v.Set(k, payments.ValueString(x))
	}
	v.Set("sign", payments.Sign(p, key))
	return v.Encode()
}

// notify hands the core a callback as the HTTP side would: a payout's by
// GET, a pay order's by POST form.
func (e *coreEnv) notify(kind payments.NotifyKind, query string) CallbackReply {
	e.t.Helper()
	cb := Callback{Kind: kind, ClientAddr: "203.0.113.9", Header: http.Header{}}
	if kind == payments.NotifyTrans {
		cb.Method, cb.RawQuery = "GET", query
	} else {
		cb.Method, cb.Body, cb.BodyLen = "POST", []byte(query), len(query)
		cb.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return e.d.Notify(context.Background(), cb)
}

// events counts an order's timeline events of a type.
func (e *coreEnv) events(kind string, ref int64, typ string) int {
	e.t.Helper()
	evs, err := e.db.Events(context.Background(), kind, ref)
	if err != nil {
		e.t.Fatal(err)
	}
	n := 0
	for _, ev := range evs {
		if ev.Type == typ {
			n++
		}
	}
	return n
}

// alerts lists the open alerts.
func (e *coreEnv) alerts() []store.Alert {
	e.t.Helper()
	as, err := e.db.Alerts(context.Background(), false, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	return as
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
