package payments

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const testKey = "test-key-123"

var testAccount = Account{MchID: "20001222", AppID: "0ae8be35ff634e2abe94f5f32f6d5c4f", Key: testKey}

// gateway is a small HTTP peer for the client: it checks that every request
// is a signed params form POST and answers with what the test sets.
type gateway struct {
	t      *testing.T
	mu     sync.Mutex
	path   string
	got    Params
	rawGot string
	answer func(w http.ResponseWriter, r *http.Request)
}

func newGateway(t *testing.T, answer func(w http.ResponseWriter, r *http.Request)) (*gateway, *Client) {
	t.Helper()
	g := &gateway{t: t, answer: answer}
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	acct := testAccount
	acct.BaseURL = srv.URL + "/"
	return g, NewClient(acct, srv.Client(), 2*time.Second)
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		g.t.Errorf("method %s, want POST", r.Method)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/x-www-form-urlencoded") {
		g.t.Errorf("Content-Type %q", ct)
	}
	if err := r.ParseForm(); err != nil {
		g.t.Errorf("ParseForm: %v", err)
	}
	if len(r.PostForm) != 1 {
		g.t.Errorf("form fields %v, want only params", r.PostForm)
	}
	raw := r.PostForm.Get("params")
	p, err := DecodeParams([]byte(raw))
	if err != nil {
		g.t.Errorf("params %q: %v", raw, err)
	}
	if !Verify(p, testKey) {
		g.t.Errorf("request signature does not verify: %s", raw)
	}
	g.mu.Lock()
	g.path, g.got, g.rawGot = r.URL.Path, p, raw
	g.mu.Unlock()
	g.answer(w, r)
}

func (g *gateway) received() (string, Params) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.path, g.got
}

func reply(body string) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		io.WriteString(w, body)
	}
}

func signedBody(t *testing.T, p Params) string {
	t.Helper()
	p["sign"] = Sign(p, testKey)
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCreatePayOrder(t *testing.T) {
	body := `{"payOrderId":"P01000020181013115051810","sign":"E035A91578C1A16BE4A4A361229A30CB","payParams":{"payMethod":"formJump","payUrl":"https://openapi.alipay.com/gateway.do?a=1&b=2"},"retCode":"SUCCESS"}`
	g, c := newGateway(t, reply(body))
	got, err := c.CreatePayOrder(context.Background(), PayOrderRequest{
		ProductID: 8002, MchOrderNo: "A&B=1", Amount: 990, NotifyURL: "http://domain/notify.htm",
		Subject: "A&B=C+D E%20F", Body: "50% off & more <b>", Param2: "=&%+",
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.PayOrderID != "P01000020181013115051810" || got.PayURL != "https://openapi.alipay.com/gateway.do?a=1&b=2" || got.PayMethod != "formJump" {
		t.Errorf("got %+v", got)
	}
	path, p := g.received()
	if path != PathPayCreate {
		t.Errorf("path %s", path)
	}
	want := Params{
		"mchId": "20001222", "appId": testAccount.AppID, "productId": json.Number("8002"),
		"mchOrderNo": "A&B=1", "currency": "cny", "amount": json.Number("990"),
		"notifyUrl": "http://domain/notify.htm", "subject": "A&B=C+D E%20F",
		"body": "50% off & more <b>", "param2": "=&%+", "sign": p["sign"],
	}
	if diff := cmp.Diff(want, p); diff != "" {
		t.Errorf("request params (-want +got):\n%s", diff)
	}
}

func TestCreatePayOrderPayParamsVariants(t *testing.T) {
	tests := []struct {
		name, body, url string
	}{
		{"vector body", `{"payOrderId":"P01000020181013115051810","sign":"F8015699555DEBC3FA3C4B0CE9F72B99","payParams":{"payUrl":"http://127.0.0.1:3020/api/qrcode/create_qrcode?params=https://qr.alipay.com/bax07593fh9xkcrimmy8203b"},"retCode":"SUCCESS"}`,
			"http://127.0.0.1:3020/api/qrcode/create_qrcode?params=https://qr.alipay.com/bax07593fh9xkcrimmy8203b"},
		{"encoded url kept", signedBody(t, Params{"retCode": "SUCCESS", "retMsg": "ok", "payOrderId": "P1",
			"payParams": map[string]any{"payUrl": "POST;https://h/p?a=%2B1&b=%E4%B8%AD"}}), "POST;https://h/p?a=%2B1&b=%E4%B8%AD"},
		{"mchOrderNo echoed", signedBody(t, Params{"retCode": "SUCCESS", "payOrderId": "P1", "mchOrderNo": "M1",
			"payParams": map[string]any{"payUrl": "https://h/x"}}), "https://h/x"},
		{"payParams as text", signedBody(t, Params{"retCode": "SUCCESS", "payOrderId": "P1",
			"payParams": `{"payUrl":"weixin://x?y=1"}`}), "weixin://x?y=1"},
	}
	for _, tt := range tests {
		_, c := newGateway(t, reply(tt.body))
		got, err := c.CreatePayOrder(context.Background(), PayOrderRequest{ProductID: 8000, MchOrderNo: "M1", Amount: 1})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got.PayURL != tt.url {
			t.Errorf("%s: PayURL %q, want %q", tt.name, got.PayURL, tt.url)
		}
	}
}

func TestCreatePayOrderForAnotherOrder(t *testing.T) {
	_, c := newGateway(t, reply(signedBody(t, Params{"retCode": "SUCCESS", "payOrderId": "P1", "mchOrderNo": "M2",
		"payParams": map[string]any{"payUrl": "https://h/x"}})))
	_, err := c.CreatePayOrder(context.Background(), PayOrderRequest{ProductID: 8000, MchOrderNo: "M1", Amount: 1})
	var u *UnclearError
	if !errors.As(err, &u) || u.Reason != ReasonDifferentTarget {
		t.Errorf("err = %v, want an unclear answer about another order", err)
	}
}

func TestQueryPayOrder(t *testing.T) {
	tests := []struct {
		name string
		body string
		want PayOrder
	}{
		{"reference strings", `{"appId":"0ae8be35ff634e2abe94f5f32f6d5c4f","mchOrderNo":"20160427210604000490","channelAttach":"","productId":"8000","currency":"cny","status":"2","mchId":"20001222","channelUser":"","paySuccTime":1505049094262,"retCode":"SUCCESS","sign":"2182C5F668228855B5B76111E7FE11AC","channelOrderNo":"wx20170910211043fb206e92260071822007","amount":"100","payOrderId":"P01000020181013115051810"}`,
			PayOrder{MchID: "20001222", AppID: testAccount.AppID, PayOrderID: "P01000020181013115051810", MchOrderNo: "20160427210604000490",
				Currency: "cny", ProductID: 8000, Amount: 100, Status: 2, ChannelOrderNo: "wx20170910211043fb206e92260071822007", PaySuccTime: 1505049094262}},
		{"numbers, unpaid", signedBody(t, Params{"retCode": "SUCCESS", "mchId": 20001222, "payOrderId": "P01000020181013115051810",
			"mchOrderNo": "20160427210604000490", "productId": 8003, "amount": json.Number("12345"), "status": 1, "paySuccTime": "", "currency": "cny"}),
			PayOrder{MchID: "20001222", PayOrderID: "P01000020181013115051810", MchOrderNo: "20160427210604000490",
				Currency: "cny", ProductID: 8003, Amount: 12345, Status: 1}},
		{"unknown status kept", signedBody(t, Params{"retCode": "SUCCESS", "mchOrderNo": "20160427210604000490", "amount": "100", "status": "-7", "paySuccTime": "1505049094262", "extra": "new"}),
			PayOrder{MchOrderNo: "20160427210604000490", Amount: 100, Status: -7, PaySuccTime: 1505049094262}},
	}
	for _, tt := range tests {
		g, c := newGateway(t, reply(tt.body))
		got, err := c.QueryPayOrder(context.Background(), PayQuery{MchOrderNo: "20160427210604000490"})
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got.Raw["retCode"] != "SUCCESS" {
			t.Errorf("%s: Raw not kept: %v", tt.name, got.Raw)
		}
		got.Raw = nil
		if diff := cmp.Diff(tt.want, *got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
		path, p := g.received()
		if path != PathPayQuery || p["mchOrderNo"] != "20160427210604000490" {
			t.Errorf("%s: request %s %v", tt.name, path, p)
		}
		if _, ok := p["executeNotify"]; ok {
			t.Errorf("%s: executeNotify sent without being asked", tt.name)
		}
		if _, ok := p["payOrderId"]; ok {
			t.Errorf("%s: empty payOrderId sent", tt.name)
		}
	}
}

func TestQueryExecuteNotify(t *testing.T) {
	g, c := newGateway(t, reply(signedBody(t, Params{"retCode": "SUCCESS", "payOrderId": "P1", "status": "3", "amount": "1"})))
	if _, err := c.QueryPayOrder(context.Background(), PayQuery{PayOrderID: "P1", ExecuteNotify: true}); err != nil {
		t.Fatal(err)
	}
	_, p := g.received()
	if p["executeNotify"] != true {
		t.Errorf("executeNotify = %#v, want JSON true", p["executeNotify"])
	}
	g.mu.Lock()
	raw := g.rawGot
	g.mu.Unlock()
	if !strings.Contains(raw, `"executeNotify":true`) {
		t.Errorf("raw params %s", raw)
	}
}

func TestTransOrders(t *testing.T) {
	g, c := newGateway(t, reply(signedBody(t, Params{"retCode": "SUCCESS", "transOrderId": "T01000020181013115051811",
		"mchId": "20001222", "mchTransOrderNo": "20160427210604000491", "amount": 100, "status": "4", "channelOrderNo": "",
		"createTime": "1505049094262"})))
	got, err := c.CreateTransOrder(context.Background(), TransOrderRequest{
		MchTransOrderNo: "20160427210604000491", Amount: 100, NotifyURL: "http://domain/notify.htm",
		AccountAttr: "0", BankCode: "HPT00003", BankName: "中国建设银行", AccountType: "1",
		AccountName: "测试", AccountNo: "1234567890123", Province: "江苏", City: "上海",
	})
	if err != nil {
		t.Fatal(err)
	}
	got.Raw = nil
	want := TransOrder{MchID: "20001222", TransOrderID: "T01000020181013115051811", MchTransOrderNo: "20160427210604000491",
		Amount: 100, Status: TransCompleted, CreateTime: 1505049094262}
	if diff := cmp.Diff(want, *got); diff != "" {
		t.Errorf("create (-want +got):\n%s", diff)
	}
	path, p := g.received()
	// Same fields as the trans_create_order_seed_fields vector, amount an integer.
	if path != PathTransCreate || SignString(p, testKey) != "accountAttr=0&accountName=测试&accountNo=1234567890123&accountType=1&amount=100&appId=0ae8be35ff634e2abe94f5f32f6d5c4f&bankCode=HPT00003&bankName=中国建设银行&city=上海&currency=cny&mchId=20001222&mchTransOrderNo=20160427210604000491&notifyUrl=http://domain/notify.htm&province=江苏&key=test-key-123" {
		t.Errorf("request %s %s", path, SignString(p, testKey))
	}
	if p["amount"] != json.Number("100") || p["sign"] != "845299E6B29933FBBACF92ABFCC47A8F" {
		t.Errorf("amount %#v sign %v", p["amount"], p["sign"])
	}

	g, c = newGateway(t, reply(signedBody(t, Params{"retCode": "SUCCESS", "transOrderId": "T1", "mchId": "20001222",
		"mchTransOrderNo": "M9", "amount": "250", "currency": "cny", "status": 3, "channelErrMsg": "账户名不符", "transSuccTime": ""})))
	q, err := c.QueryTransOrder(context.Background(), TransQuery{MchTransOrderNo: "M9", ExecuteNotify: true})
	if err != nil {
		t.Fatal(err)
	}
	if q.Status != TransFailed || q.Amount != 250 || q.ChannelErrMsg != "账户名不符" || q.TransSuccTime != 0 || q.Currency != "cny" {
		t.Errorf("query %+v", q)
	}
	path, p = g.received()
	if path != PathTransQuery || p["mchTransOrderNo"] != "M9" || p["executeNotify"] != true || p["transOrderId"] != nil {
		t.Errorf("query request %s %v", path, p)
	}
}

func TestClientFailures(t *testing.T) {
	tests := []struct {
		name       string
		answer     func(http.ResponseWriter, *http.Request)
		unclear    bool
		reason     string
		notFound   bool
		badSig     bool
		gatewayErr bool
	}{
		{"param error", reply(`{"errCode":"0014","errDes":"请求参数[amount]必须大于0.","retCode":"FAIL","retMsg":"请求参数[amount]必须大于0."}`), false, "", false, false, true},
		{"sign refused", reply(`{"errCode":"0014","errDes":"验证签名失败.","retCode":"FAIL","retMsg":"验证签名失败."}`), false, "", false, true, true},
		{"sign refused 0013", reply(`{"errCode":"0013","retCode":"FAIL","retMsg":"签名错误"}`), false, "", false, true, true},
		{"query sign refused", reply(`{"retCode":"FAIL","retMsg":"Verify XX pay sign failed."}`), false, "", false, true, true},
		{"not found", reply(`{"retCode":"FAIL","retMsg":"支付订单不存在"}`), false, "", true, false, true},
		{"not found 0112", reply(`{"retCode":"FAIL","retMsg":"x","errCode":"0112"}`), false, "", true, false, true},
		{"system error", reply(`{"errCode":"0010","errDes":"请联系技术人员查看","retCode":"FAIL","retMsg":"支付中心系统异常"}`), true, ReasonGatewaySystem, false, false, true},
		{"garbage", reply(`<html>502 Bad Gateway</html>`), true, ReasonUnreadable, false, false, false},
		{"empty body", reply(``), true, ReasonUnreadable, false, false, false},
		{"truncated", reply(`{"retCode":"SUCC`), true, ReasonUnreadable, false, false, false},
		{"no retCode", reply(`{"retMsg":"?"}`), true, ReasonUnexpected, false, false, false},
		{"500", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"retCode":"FAIL","retMsg":"支付订单不存在"}`)
		}, true, ReasonHTTPStatus, false, false, false},
		{"timeout", func(w http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
		}, true, ReasonTimeout, false, false, false},
		{"bad signature", reply(`{"retCode":"SUCCESS","mchOrderNo":"M1","status":"2","amount":"100","sign":"2182C5F668228855B5B76111E7FE11AC"}`), true, ReasonBadlySigned, false, true, false},
		{"missing signature", reply(`{"retCode":"SUCCESS","mchOrderNo":"M1","status":"2","amount":"100"}`), true, ReasonBadlySigned, false, true, false},
		{"signed with another key", reply(`{"payOrderId":"P01000020181013115051810","sign":"5E0AA05DD4BB4FE5AB65608123EBA591","payParams":{"payUrl":"x"},"retCode":"SUCCESS"}`), true, ReasonBadlySigned, false, true, false},
		{"other order", reply(signedBody(t, Params{"retCode": "SUCCESS", "mchOrderNo": "M2", "status": "2", "amount": "100"})), true, ReasonDifferentTarget, false, false, false},
		{"other merchant", reply(signedBody(t, Params{"retCode": "SUCCESS", "mchId": "1", "mchOrderNo": "M1", "status": "2"})), true, ReasonDifferentTarget, false, false, false},
		{"decimal status", reply(signedBody(t, Params{"retCode": "SUCCESS", "mchOrderNo": "M1", "status": "2.0"})), true, ReasonUnexpected, false, false, false},
		{"no status", reply(signedBody(t, Params{"retCode": "SUCCESS", "mchOrderNo": "M1"})), true, ReasonUnexpected, false, false, false},
	}
	for _, tt := range tests {
		g := &gateway{t: t, answer: tt.answer}
		srv := httptest.NewServer(g)
		acct := testAccount
		acct.BaseURL = srv.URL
		c := NewClient(acct, nil, 300*time.Millisecond)
		_, err := c.QueryPayOrder(context.Background(), PayQuery{MchOrderNo: "M1"})
		srv.Close()
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		if IsUnclear(err) != tt.unclear || IsNotFound(err) != tt.notFound || IsBadSignature(err) != tt.badSig {
			t.Errorf("%s: %v: unclear %v notFound %v badSig %v", tt.name, err, IsUnclear(err), IsNotFound(err), IsBadSignature(err))
		}
		var u *UnclearError
		if tt.unclear && (!errors.As(err, &u) || u.Reason != tt.reason || u.Op != "query pay order") {
			t.Errorf("%s: %v, want reason %q", tt.name, err, tt.reason)
		}
		var ge *GatewayError
		if errors.As(err, &ge) != tt.gatewayErr {
			t.Errorf("%s: %v: GatewayError %v, want %v", tt.name, err, ge != nil, tt.gatewayErr)
		}
		if err.Error() == "" || strings.Contains(err.Error(), testKey) {
			t.Errorf("%s: error text %q", tt.name, err)
		}
	}
}

func TestClientConnectionRefused(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	acct := testAccount
	acct.BaseURL = srv.URL
	srv.Close()
	_, err := NewClient(acct, nil, time.Second).CreateTransOrder(context.Background(), TransOrderRequest{MchTransOrderNo: "M1", Amount: 1})
	var u *UnclearError
	if !errors.As(err, &u) || u.Reason != ReasonConnection {
		t.Errorf("err = %v, want an unclear connection error", err)
	}
}

func TestClientRefusesInvalidRequests(t *testing.T) {
	calls := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls++ }))
	defer srv.Close()
	acct := testAccount
	acct.BaseURL = srv.URL
	c := NewClient(acct, nil, 0)
	ctx := context.Background()
	_, err1 := c.CreatePayOrder(ctx, PayOrderRequest{ProductID: 8000, MchOrderNo: "M1", Amount: 0})
	_, err2 := c.CreatePayOrder(ctx, PayOrderRequest{ProductID: 8000, Amount: 100})
	_, err3 := c.QueryPayOrder(ctx, PayQuery{ExecuteNotify: true})
	_, err4 := c.CreateTransOrder(ctx, TransOrderRequest{MchTransOrderNo: "M1", Amount: -5})
	_, err5 := c.QueryTransOrder(ctx, TransQuery{})
	for i, err := range []error{err1, err2, err3, err4, err5} {
		if !errors.Is(err, ErrInvalidRequest) || IsUnclear(err) {
			t.Errorf("request %d: err = %v, want ErrInvalidRequest", i+1, err)
		}
	}
	if calls != 0 {
		t.Errorf("the gateway was called %d times", calls)
	}
}

func TestGatewayErrorText(t *testing.T) {
	tests := []struct {
		e    GatewayError
		want string
	}{
		{GatewayError{Op: "create pay order", RetMsg: "验证签名失败.", ErrCode: "0014", ErrDes: "验证签名失败."}, "create pay order: the gateway refused: 验证签名失败. (error 0014)"},
		{GatewayError{Op: "query pay order", RetMsg: "支付订单不存在"}, "query pay order: the gateway refused: 支付订单不存在"},
		{GatewayError{Op: "x", RetMsg: "支付中心系统异常", ErrCode: "0010", ErrDes: "请联系技术人员查看"}, "x: the gateway refused: 支付中心系统异常 (error 0010: 请联系技术人员查看)"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	u := &UnclearError{Op: "create payout", Reason: ReasonTimeout, Err: context.DeadlineExceeded}
	if u.Error() != "create payout: outcome unknown (timeout): context deadline exceeded" || !errors.Is(u, context.DeadlineExceeded) {
		t.Errorf("UnclearError: %q", u.Error())
	}
}

func TestClientCanceledAndCurrency(t *testing.T) {
	g, c := newGateway(t, reply(signedBody(t, Params{"retCode": "SUCCESS", "transOrderId": "T1", "mchTransOrderNo": "M1", "amount": "7", "status": "1"})))
	o, err := c.CreateTransOrder(context.Background(), TransOrderRequest{MchTransOrderNo: "M1", Amount: 7, Currency: "usd"})
	if err != nil || o.Status != TransTransferring {
		t.Fatalf("CreateTransOrder = %+v, %v", o, err)
	}
	if _, p := g.received(); p["currency"] != "usd" {
		t.Errorf("currency %v, want usd", p["currency"])
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.QueryTransOrder(ctx, TransQuery{TransOrderID: "T1"})
	var u *UnclearError
	if !errors.As(err, &u) || u.Reason != ReasonCanceled {
		t.Errorf("err = %v, want an unclear cancellation", err)
	}
}
