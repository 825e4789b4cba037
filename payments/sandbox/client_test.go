package sandbox

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"paydesk/payments"
)

func newClient(srv *httptest.Server, key string, timeout time.Duration) *payments.Client {
	return payments.NewClient(payments.Account{BaseURL: srv.URL, MchID: testMchID, AppID: testAppID, Key: key}, nil, timeout)
}

func payRequest(no, notifyURL string) payments.PayOrderRequest {
	return payments.PayOrderRequest{
		ProductID: 8002, MchOrderNo: no, Amount: 1999, NotifyURL: notifyURL,
		Subject: "会员年费", Body: "Paydesk 测试", Param1: "a&b=c", ClientIP: "127.0.0.1",
	}
}

func transRequest(no, accountNo, notifyURL string) payments.TransOrderRequest {
	return payments.TransOrderRequest{
		MchTransOrderNo: no, Amount: 50000, NotifyURL: notifyURL, AccountAttr: "0",
		BankCode: "HPT00005", BankName: "招商银行", AccountType: "1", AccountName: "张三",
		AccountNo: accountNo, Province: "广东", City: "深圳", Param2: "batch 7",
	}
}

func TestClientAgainstSandbox(t *testing.T) {
	ctx := context.Background()
	sb, srv := startSandbox(t, Config{TimeScale: fastScale})
	c := newClient(srv, testKey, 5*time.Second)
	const nowhere = "http://127.0.0.1:1/notify"

	created, err := c.CreatePayOrder(ctx, payRequest("CL-1", nowhere))
	if err != nil {
		t.Fatal(err)
	}
	if !payOrderIDShape.MatchString(created.PayOrderID) || created.PayURL != srv.URL+"/sandbox/pay/"+created.PayOrderID {
		t.Errorf("created: %+v", created)
	}
	o, err := c.QueryPayOrder(ctx, payments.PayQuery{MchOrderNo: "CL-1"})
	if err != nil {
		t.Fatal(err)
	}
	if o.PayOrderID != created.PayOrderID || o.Status != payments.PayCreated || o.Amount != 1999 || o.ProductID != 8002 ||
		o.Currency != "cny" || o.MchID != testMchID || o.AppID != testAppID || o.PaySuccTime != 0 {
		t.Errorf("query before payment: %+v", o)
	}
	if err := sb.Pay(created.PayOrderID); err != nil {
		t.Fatal(err)
	}
	o, err = c.QueryPayOrder(ctx, payments.PayQuery{PayOrderID: created.PayOrderID})
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != payments.PayPaid || o.PaySuccTime <= 0 || o.ChannelOrderNo == "" {
		t.Errorf("query after payment: %+v", o)
	}

	failed, err := c.CreatePayOrder(ctx, payRequest("CL-2", nowhere))
	if err != nil {
		t.Fatal(err)
	}
	_ = sb.Fail(failed.PayOrderID)
	if o, err := c.QueryPayOrder(ctx, payments.PayQuery{PayOrderID: failed.PayOrderID}); err != nil || o.Status != payments.PayFailedAlt {
		t.Errorf("failed order queried: %+v %v", o, err)
	}

	_, err = c.CreatePayOrder(ctx, payRequest("CL-1", nowhere))
	var ge *payments.GatewayError
	if !errors.As(err, &ge) || ge.ErrCode != "0014" || payments.IsUnclear(err) {
		t.Errorf("duplicate create: %v", err)
	}
	bad := payRequest("CL-3", nowhere)
	bad.ProductID = 8020
	if _, err = c.CreatePayOrder(ctx, bad); !errors.As(err, &ge) || !strings.Contains(ge.RetMsg, "8020") {
		t.Errorf("product without channel: %v", err)
	}
	if _, err = c.QueryPayOrder(ctx, payments.PayQuery{MchOrderNo: "never"}); !payments.IsNotFound(err) {
		t.Errorf("unknown pay order: %v", err)
	}

	tr, err := c.CreateTransOrder(ctx, transRequest("CT-1", "6214830000000001", nowhere))
	if err != nil {
		t.Fatal(err)
	}
	if !transOrderIDShape.MatchString(tr.TransOrderID) || tr.Status != payments.TransTransferring || tr.Amount != 50000 || tr.CreateTime <= 0 || tr.MchTransOrderNo != "CT-1" {
		t.Errorf("payout created: %+v", tr)
	}
	trFail, err := c.CreateTransOrder(ctx, transRequest("CT-2", "6214830000000004", nowhere))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "payouts to settle", 5*time.Second, func() bool {
		a, err1 := c.QueryTransOrder(ctx, payments.TransQuery{TransOrderID: tr.TransOrderID})
		b, err2 := c.QueryTransOrder(ctx, payments.TransQuery{MchTransOrderNo: "CT-2"})
		return err1 == nil && err2 == nil && payments.TransFinal(a.Status) && payments.TransFinal(b.Status)
	})
	ok, _ := c.QueryTransOrder(ctx, payments.TransQuery{TransOrderID: tr.TransOrderID})
	if ok.Status != payments.TransSucceeded || ok.TransSuccTime <= 0 || ok.Currency != "cny" {
		t.Errorf("settled payout: %+v", ok)
	}
	ko, _ := c.QueryTransOrder(ctx, payments.TransQuery{TransOrderID: trFail.TransOrderID})
	if ko.Status != payments.TransFailed || !strings.Contains(ko.ChannelErrMsg, "4") {
		t.Errorf("failed payout: %+v", ko)
	}
	if _, err = c.QueryTransOrder(ctx, payments.TransQuery{MchTransOrderNo: "never"}); !payments.IsNotFound(err) {
		t.Errorf("unknown payout: %v", err)
	}
	badBank := transRequest("CT-3", "1", nowhere)
	badBank.BankCode = "HP00001"
	if _, err = c.CreateTransOrder(ctx, badBank); !errors.As(err, &ge) || ge.ErrCode != "0014" {
		t.Errorf("bad bank code: %v", err)
	}

	wrongKey := newClient(srv, "not-the-key", 5*time.Second)
	if _, err := wrongKey.CreatePayOrder(ctx, payRequest("CL-9", nowhere)); !payments.IsBadSignature(err) || payments.IsUnclear(err) {
		t.Errorf("create with a wrong key: %v", err)
	}
	if _, err := wrongKey.QueryPayOrder(ctx, payments.PayQuery{MchOrderNo: "CL-1"}); !payments.IsBadSignature(err) {
		t.Errorf("query with a wrong key: %v", err)
	}
	if _, err := wrongKey.QueryTransOrder(ctx, payments.TransQuery{MchTransOrderNo: "CT-1"}); !payments.IsBadSignature(err) {
		t.Errorf("payout query with a wrong key: %v", err)
	}
}

func TestClientSeesFaults(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		f       Faults
		reason  string
		creates int // orders stored by the faulted create
	}{
		{"timeout", Faults{Timeout: true}, payments.ReasonTimeout, 0},
		{"lost answer", Faults{LostAnswer: true}, payments.ReasonTimeout, 1},
		{"HTTP 500", Faults{HTTP500: true}, payments.ReasonHTTPStatus, 0},
		{"garbage", Faults{Garbage: true}, payments.ReasonUnreadable, 0},
		{"system error", Faults{SystemError: true}, payments.ReasonGatewaySystem, 0},
		{"bad sign", Faults{BadSign: true}, payments.ReasonBadlySigned, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := startSandbox(t, Config{TimeScale: 1000, Faults: tt.f})
			c := newClient(srv, testKey, 300*time.Millisecond)
			const nowhere = "http://127.0.0.1:1/notify"

			_, errPay := c.CreatePayOrder(ctx, payRequest("FP-1", nowhere))
			_, errTrans := c.CreateTransOrder(ctx, transRequest("FT-1", "1", nowhere))
			for _, err := range []error{errPay, errTrans} {
				var u *payments.UnclearError
				if !payments.IsUnclear(err) || !errors.As(err, &u) || u.Reason != tt.reason {
					t.Errorf("create: %v, want unclear (%s)", err, tt.reason)
				}
			}
			if a, b := sb.CreateCount("FP-1"), sb.CreateCount("FT-1"); a != tt.creates || b != tt.creates {
				t.Errorf("CreateCount = %d, %d; want %d", a, b, tt.creates)
			}
			if !tt.f.LostAnswer {
				if _, err := c.QueryPayOrder(ctx, payments.PayQuery{MchOrderNo: "FP-1"}); !payments.IsUnclear(err) {
					t.Errorf("query under the fault: %v, want unclear", err)
				}
			}

			// Find out what happened, as the console must.
			sb.SetFaults(Faults{})
			_, errPay = c.QueryPayOrder(ctx, payments.PayQuery{MchOrderNo: "FP-1"})
			_, errTrans = c.QueryTransOrder(ctx, payments.TransQuery{MchTransOrderNo: "FT-1"})
			for _, err := range []error{errPay, errTrans} {
				if tt.creates == 1 && err != nil {
					t.Errorf("query after the fault: %v, want the order", err)
				}
				if tt.creates == 0 && !payments.IsNotFound(err) {
					t.Errorf("query after the fault: %v, want not found", err)
				}
			}
			// Retrying with the same number never makes a second order.
			_, errPay = c.CreatePayOrder(ctx, payRequest("FP-1", nowhere))
			if tt.creates == 1 && (errPay == nil || payments.IsUnclear(errPay)) {
				t.Errorf("retry after a stored create: %v, want a duplicate refusal", errPay)
			}
			if tt.creates == 0 && errPay != nil {
				t.Errorf("retry after a refused create: %v", errPay)
			}
			if n := sb.CreateCount("FP-1"); n != 1 {
				t.Errorf("CreateCount after retry = %d, want 1", n)
			}
		})
	}
}

// The console parses the sandbox's notifications with payments.ParseNotification.
func TestNotificationsParseWithPayments(t *testing.T) {
	var mu sync.Mutex
	var got []*payments.Notification
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		kind := payments.NotifyPay
		if strings.HasSuffix(r.URL.Path, "/trans") {
			kind = payments.NotifyTrans
		}
		body, _ := io.ReadAll(r.Body)
		n, err := payments.ParseNotification(kind, r.Method, r.URL.RawQuery, r.Header.Get("Content-Type"), body)
		if err != nil || !n.Verify(testKey) {
			t.Errorf("notification %s %s: %v (verified: %v)", r.Method, r.URL, err, err == nil && n.Verify(testKey))
			_, _ = io.WriteString(w, "fail")
			return
		}
		mu.Lock()
		got = append(got, n)
		mu.Unlock()
		_, _ = io.WriteString(w, payments.NotifyReply)
	}))
	defer rcv.Close()

	ctx := context.Background()
	sb, srv := startSandbox(t, Config{TimeScale: fastScale})
	c := newClient(srv, testKey, 5*time.Second)
	po, err := c.CreatePayOrder(ctx, payRequest("NP-1", rcv.URL+"/pay"))
	if err != nil {
		t.Fatal(err)
	}
	_ = sb.Pay(po.PayOrderID)
	tr, err := c.CreateTransOrder(ctx, transRequest("NT-1", "6214830000000001", rcv.URL+"/trans"))
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "both notifications", 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 2
	})
	for _, n := range got {
		switch n.Kind {
		case payments.NotifyPay:
			if n.Encoding != "form" || n.OrderID != po.PayOrderID || n.MchOrderNo != "NP-1" || n.Amount != 1999 || n.Status != 2 ||
				n.ProductID != 8002 || n.SuccTime <= 0 || n.BackType != 2 || n.Param1 != "a&b=c" || n.MchID != testMchID || n.AppID != testAppID {
				t.Errorf("pay notification: %+v", n)
			}
		case payments.NotifyTrans:
			if n.Encoding != "query" || n.OrderID != tr.TransOrderID || n.MchOrderNo != "NT-1" || n.Amount != 50000 || n.Status != 2 ||
				n.SuccTime <= 0 || n.Param2 != "batch 7" {
				t.Errorf("payout notification: %+v", n)
			}
		}
	}

	// executeNotify through the client.
	if _, err := c.QueryPayOrder(ctx, payments.PayQuery{PayOrderID: po.PayOrderID, ExecuteNotify: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.QueryTransOrder(ctx, payments.TransQuery{TransOrderID: tr.TransOrderID, ExecuteNotify: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "re-notifications", 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(got) == 4
	})
}
