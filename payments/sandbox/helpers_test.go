package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"paydesk/payments"
)

const (
	testKey   = "test-key-123"
	testMchID = "20001222"
	testAppID = "0ae8be35ff634e2abe94f5f32f6d5c4f"
)

// startSandbox runs a sandbox for the test merchant behind a real HTTP
// server. cfg's merchant and PublicURL are filled in.
func startSandbox(t testing.TB, cfg Config) (*Sandbox, *httptest.Server) {
	t.Helper()
	sb, srv := startSandboxNoCleanup(t, cfg)
	t.Cleanup(func() {
		sb.Close() // first: it releases requests held by Timeout and LostAnswer
		srv.Close()
	})
	return sb, srv
}

// startSandboxNoCleanup leaves closing the server and the sandbox to the test.
func startSandboxNoCleanup(t testing.TB, cfg Config) (*Sandbox, *httptest.Server) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	cfg.MchID, cfg.AppID, cfg.Key = testMchID, testAppID, testKey
	cfg.PublicURL = "http://" + srv.Listener.Addr().String()
	sb := New(cfg)
	srv.Config.Handler = sb
	srv.Start()
	return sb, srv
}

func signed(p payments.Params) payments.Params {
	p["sign"] = payments.Sign(p, testKey)
	return p
}

// paramsForm is the wire form the client uses: the JSON object in `params`.
func paramsForm(t testing.TB, p payments.Params) string {
	t.Helper()
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return url.Values{"params": {string(b)}}.Encode()
}

func postForm(t testing.TB, u, body string) (int, string) {
	t.Helper()
	resp, err := http.Post(u, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// call posts signed-or-not params to an API path and decodes the answer.
func call(t testing.TB, srv *httptest.Server, path string, p payments.Params) (string, payments.Params) {
	t.Helper()
	code, body := postForm(t, srv.URL+path, paramsForm(t, p))
	if code != http.StatusOK {
		t.Fatalf("%s: HTTP %d: %s", path, code, body)
	}
	ans, err := payments.DecodeParams([]byte(body))
	if err != nil {
		t.Fatalf("%s: answer %q: %v", path, body, err)
	}
	return body, ans
}

func payReq(no, notifyURL string) payments.Params {
	return payments.Params{
		"mchId": testMchID, "appId": testAppID, "productId": "8000", "mchOrderNo": no,
		"currency": "cny", "amount": "100", "notifyUrl": notifyURL,
		"subject": "测试商品名称", "body": "测试商品描述",
	}
}

func transReq(no, accountNo, notifyURL string) payments.Params {
	return payments.Params{
		"mchId": testMchID, "appId": testAppID, "mchTransOrderNo": no, "currency": "cny",
		"amount": "100", "notifyUrl": notifyURL, "accountAttr": "0", "bankCode": "HPT00003",
		"bankName": "中国建设银行", "accountType": "1", "accountName": "测试", "accountNo": accountNo,
		"province": "江苏", "city": "上海",
	}
}

// createPay creates a pay order over HTTP and returns its payOrderId.
func createPay(t testing.TB, srv *httptest.Server, no, notifyURL string) string {
	t.Helper()
	body, ans := call(t, srv, "/api/pay/create_order", signed(payReq(no, notifyURL)))
	if ans["retCode"] != "SUCCESS" {
		t.Fatalf("create %s: %s", no, body)
	}
	return ans["payOrderId"].(string)
}

func createTrans(t testing.TB, srv *httptest.Server, no, accountNo, notifyURL string) string {
	t.Helper()
	body, ans := call(t, srv, "/api/trans/create_order", signed(transReq(no, accountNo, notifyURL)))
	if ans["retCode"] != "SUCCESS" {
		t.Fatalf("trans create %s: %s", no, body)
	}
	return ans["transOrderId"].(string)
}

// received is one notification as the merchant's endpoint saw it.
type received struct {
	Method string
	Fields payments.Params
	At     time.Time
}

// receiver is a merchant notification endpoint. reply picks the body for
// the n-th request (1-based).
type receiver struct {
	t     testing.TB
	srv   *httptest.Server
	reply func(n int) string
	mu    sync.Mutex
	got   []received
}

func newReceiver(t testing.TB, reply func(n int) string) *receiver {
	rc := &receiver{t: t, reply: reply}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.got = append(rc.got, received{Method: r.Method, Fields: payments.ParamsFromValues(r.Form), At: time.Now()})
		n := len(rc.got)
		rc.mu.Unlock()
		_, _ = io.WriteString(w, rc.reply(n))
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) URL() string { return rc.srv.URL + "/notify" }

func (rc *receiver) all() []received {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]received(nil), rc.got...)
}

// waitFor polls until cond holds or the deadline passes.
func waitFor(t testing.TB, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func always(s string) func(int) string { return func(int) string { return s } }
