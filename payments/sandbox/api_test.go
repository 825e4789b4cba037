package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"paydesk/payments"
)

// The seed document's create_order example (vector
// seed_create_order_string_values): formBody as given, and the signature the
// reference gateway computes for it with test-key-123.
const (
	seedParams   = `{"mchId":"20001222","appId":"0ae8be35ff634e2abe94f5f32f6d5c4f","productId":"8000","mchOrderNo":"20160427210604000490","currency":"cny","amount":"100","clientIp":"210.73.10.148","device":"ios10.3.1","returnUrl":"http://domain/return.htm","notifyUrl":"http://domain/notify.htm","subject":"测试商品名称","body":"测试商品描述"}`
	seedFormBody = "params=%7B%22mchId%22%3A%2220001222%22%2C%22appId%22%3A%220ae8be35ff634e2abe94f5f32f6d5c4f%22%2C%22productId%22%3A%228000%22%2C%22mchOrderNo%22%3A%2220160427210604000490%22%2C%22currency%22%3A%22cny%22%2C%22amount%22%3A%22100%22%2C%22clientIp%22%3A%22210.73.10.148%22%2C%22device%22%3A%22ios10.3.1%22%2C%22returnUrl%22%3A%22http%3A%2F%2Fdomain%2Freturn.htm%22%2C%22notifyUrl%22%3A%22http%3A%2F%2Fdomain%2Fnotify.htm%22%2C%22subject%22%3A%22%E6%B5%8B%E8%AF%95%E5%95%86%E5%93%81%E5%90%8D%E7%A7%B0%22%2C%22body%22%3A%22%E6%B5%8B%E8%AF%95%E5%95%86%E5%93%81%E6%8F%8F%E8%BF%B0%22%7D"
	seedSign     = "7BB1124509A9EB031AEC341C5586A87A"
)

var (
	payOrderIDShape   = regexp.MustCompile(`^P[0-9]{23}$`)
	transOrderIDShape = regexp.MustCompile(`^T[0-9]{23}$`)
)

func TestSeedCreateOrder(t *testing.T) {
	sb, srv := startSandbox(t, Config{})

	// As given, the example carries no sign: refused.
	_, body := postForm(t, srv.URL+"/api/pay/create_order", seedFormBody)
	if want := `{"errCode":"0014","errDes":"请求参数[sign]不能为空.","retCode":"FAIL","retMsg":"请求参数[sign]不能为空."}`; body != want {
		t.Errorf("unsigned seed: got %s, want %s", body, want)
	}

	// With the reference signature added.
	withSign := strings.TrimSuffix(seedParams, "}") + `,"sign":"` + seedSign + `"}`
	code, body := postForm(t, srv.URL+"/api/pay/create_order", url.Values{"params": {withSign}}.Encode())
	if code != http.StatusOK {
		t.Fatalf("HTTP %d", code)
	}
	ans, err := payments.DecodeParams([]byte(body))
	if err != nil {
		t.Fatalf("answer %q: %v", body, err)
	}
	if ans["retCode"] != "SUCCESS" {
		t.Fatalf("retCode: %s", body)
	}
	id, _ := ans["payOrderId"].(string)
	if !payOrderIDShape.MatchString(id) {
		t.Errorf("payOrderId %q does not look like P + 23 digits", id)
	}
	pp, _ := ans["payParams"].(map[string]any)
	if got, want := pp["payUrl"], srv.URL+"/sandbox/pay/"+id; got != want {
		t.Errorf("payParams.payUrl = %v, want %s", got, want)
	}
	if len(ans) != 4 {
		t.Errorf("answer has fields %v, want retCode, payOrderId, payParams, sign", ans)
	}
	if !payments.Verify(ans, testKey) {
		t.Errorf("answer signature does not verify: %s", body)
	}
	if n := sb.CreateCount("20160427210604000490"); n != 1 {
		t.Errorf("CreateCount = %d, want 1", n)
	}
	if strings.Contains(body, `\u0026`) {
		t.Errorf("answer is HTML-escaped: %s", body)
	}
}

func failBody(msg string) string {
	return `{"errCode":"0014","errDes":"` + msg + `","retCode":"FAIL","retMsg":"` + msg + `"}`
}

func TestCreateOrderValidation(t *testing.T) {
	_, srv := startSandbox(t, Config{})
	tests := []struct {
		name   string
		change func(p payments.Params)
		sign   bool // sign after the change (else a dummy sign)
		want   string
	}{
		{"mchId missing", func(p payments.Params) { delete(p, "mchId") }, false, failBody("请求参数[mchId]不能为空且为数值类型.")},
		{"mchId not a number", func(p payments.Params) { p["mchId"] = "abc" }, false, failBody("请求参数[mchId]不能为空且为数值类型.")},
		{"unknown merchant", func(p payments.Params) { p["mchId"] = "10000" }, false, failBody("商户不存在[mchId=10000].")},
		{"productId missing", func(p payments.Params) { delete(p, "productId") }, false, failBody("请求参数[productId]不能为空且为数值类型.")},
		{"productId text", func(p payments.Params) { p["productId"] = "wx" }, false, failBody("请求参数[productId]不能为空且为数值类型.")},
		{"mchOrderNo empty", func(p payments.Params) { p["mchOrderNo"] = "" }, false, failBody("请求参数[mchOrderNo]不能为空.")},
		{"amount missing", func(p payments.Params) { delete(p, "amount") }, false, failBody("请求参数[amount]应为数值类型.")},
		{"amount with decimal point", func(p payments.Params) { p["amount"] = "100.0" }, false, failBody("请求参数[amount]应为数值类型.")},
		{"amount text", func(p payments.Params) { p["amount"] = "一百" }, false, failBody("请求参数[amount]应为数值类型.")},
		{"amount zero", func(p payments.Params) { p["amount"] = "0" }, false, failBody("请求参数[amount]必须大于0.")},
		{"amount negative", func(p payments.Params) { p["amount"] = "-5" }, false, failBody("请求参数[amount]必须大于0.")},
		{"currency missing", func(p payments.Params) { delete(p, "currency") }, false, failBody("请求参数[currency]不能为空.")},
		{"notifyUrl missing", func(p payments.Params) { delete(p, "notifyUrl") }, false, failBody("请求参数[notifyUrl]不能为空.")},
		{"subject missing", func(p payments.Params) { delete(p, "subject") }, false, failBody("请求参数[subject]不能为空.")},
		{"body missing", func(p payments.Params) { delete(p, "body") }, false, failBody("请求参数[body]不能为空.")},
		{"sign missing", func(p payments.Params) { delete(p, "sign") }, false, failBody("请求参数[sign]不能为空.")},
		{"unknown app", func(p payments.Params) { p["appId"] = "nope" }, false, failBody("应用不存在[appId=nope]")},
		{"product without channel", func(p payments.Params) { p["productId"] = "8020" }, false, failBody("商户没有该产品的支付通道[productId=8020,mchId=20001222]")},
		{"bad signature", func(p payments.Params) {}, false, failBody("验证签名失败.")},
		{"signature over other values", func(p payments.Params) { p["amount"] = "101" }, false, failBody("验证签名失败.")},
		{"check order: mchId before amount", func(p payments.Params) { p["mchId"] = ""; p["amount"] = "x" }, false, failBody("请求参数[mchId]不能为空且为数值类型.")},
		{"check order: amount before sign", func(p payments.Params) { p["amount"] = "1.5"; delete(p, "sign") }, false, failBody("请求参数[amount]应为数值类型.")},
		{"numeric JSON amount is fine", func(p payments.Params) { p["amount"] = 100; p["productId"] = 8001 }, true, ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := payReq("V-"+strconv.Itoa(i), "http://127.0.0.1:1/notify")
			p["sign"] = "0123456789ABCDEF0123456789ABCDEF"
			if tt.name == "signature over other values" {
				p = signed(payReq("V-"+strconv.Itoa(i), "http://127.0.0.1:1/notify"))
			}
			tt.change(p)
			if tt.sign {
				delete(p, "sign")
				signed(p)
			}
			body, ans := call(t, srv, "/api/pay/create_order", p)
			if tt.want == "" {
				if ans["retCode"] != "SUCCESS" || !payments.Verify(ans, testKey) {
					t.Errorf("got %s, want a signed SUCCESS", body)
				}
				return
			}
			if body != tt.want {
				t.Errorf("got  %s\nwant %s", body, tt.want)
			}
		})
	}
}

// The gateway also takes plain form fields and GET, but not a JSON body.
func TestCreateOrderEncodings(t *testing.T) {
	_, srv := startSandbox(t, Config{})
	form := func(p payments.Params) url.Values {
		v := url.Values{}
		for k, x := range p {
			v.Set(k, payments.ValueString(x))
		}
		return v
	}

	_, body := postForm(t, srv.URL+"/api/pay/create_order", form(signed(payReq("E1", "http://127.0.0.1:1/n"))).Encode())
	ans, err := payments.DecodeParams([]byte(body))
	if err != nil || ans["retCode"] != "SUCCESS" {
		t.Errorf("plain form fields: %s", body)
	}

	resp, err := http.Get(srv.URL + "/api/pay/create_order?" + paramsForm(t, signed(payReq("E2", "http://127.0.0.1:1/n"))))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if ans, err := payments.DecodeParams(b); err != nil || ans["retCode"] != "SUCCESS" {
		t.Errorf("GET with params: %s", b)
	}

	js, _ := json.Marshal(signed(payReq("E3", "http://127.0.0.1:1/n")))
	resp, err = http.Post(srv.URL+"/api/pay/create_order", "application/json", bytes.NewReader(js))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := failBody("请求参数[mchId]不能为空且为数值类型."); string(b) != want {
		t.Errorf("JSON body: got %s, want %s", b, want)
	}

	_, body = postForm(t, srv.URL+"/api/pay/create_order", "params=%7Bnot+json")
	if want := `{"errCode":"0010","errDes":"请联系技术人员查看","retCode":"FAIL","retMsg":"支付中心系统异常"}`; body != want {
		t.Errorf("unreadable params: got %s, want %s", body, want)
	}
}

func TestDuplicateMchOrderNo(t *testing.T) {
	sb, srv := startSandbox(t, Config{})
	createPay(t, srv, "DUP-1", "http://127.0.0.1:1/n")
	body, _ := call(t, srv, "/api/pay/create_order", signed(payReq("DUP-1", "http://127.0.0.1:1/n")))
	if want := failBody("商户订单号重复[mchOrderNo=DUP-1]"); body != want {
		t.Errorf("got %s, want %s", body, want)
	}
	createTrans(t, srv, "DUP-2", "6222000000000001", "http://127.0.0.1:1/n")
	body, _ = call(t, srv, "/api/trans/create_order", signed(transReq("DUP-2", "6222000000000001", "http://127.0.0.1:1/n")))
	if want := failBody("商户订单号重复[mchTransOrderNo=DUP-2]"); body != want {
		t.Errorf("got %s, want %s", body, want)
	}
	if a, b := sb.CreateCount("DUP-1"), sb.CreateCount("DUP-2"); a != 1 || b != 1 {
		t.Errorf("CreateCount = %d, %d; want 1, 1", a, b)
	}
}

func TestOrderIDsUnique(t *testing.T) {
	_, srv := startSandbox(t, Config{})
	seen := map[string]bool{}
	for i := range 300 {
		id := createPay(t, srv, "U-"+strconv.Itoa(i), "http://127.0.0.1:1/n")
		if seen[id] || !payOrderIDShape.MatchString(id) {
			t.Fatalf("payOrderId %q repeated or malformed", id)
		}
		seen[id] = true
		tid := createTrans(t, srv, "UT-"+strconv.Itoa(i), "1", "http://127.0.0.1:1/n")
		if seen[tid] || !transOrderIDShape.MatchString(tid) {
			t.Fatalf("transOrderId %q repeated or malformed", tid)
		}
		seen[tid] = true
	}
}

func TestQueryOrderValidation(t *testing.T) {
	_, srv := startSandbox(t, Config{})
	id := createPay(t, srv, "Q-1", "http://127.0.0.1:1/n")
	q := func(kv ...string) payments.Params {
		p := payments.Params{}
		for i := 0; i < len(kv); i += 2 {
			p[kv[i]] = kv[i+1]
		}
		return p
	}
	tests := []struct {
		name string
		p    payments.Params
		want string
	}{
		{"mchId missing", q("payOrderId", id, "sign", "X"), `{"retCode":"FAIL","retMsg":"request params[mchId] error."}`},
		{"no order number", q("mchId", testMchID, "sign", "X"), `{"retCode":"FAIL","retMsg":"request params[mchOrderNo or payOrderId] error."}`},
		{"sign missing", q("mchId", testMchID, "payOrderId", id), `{"retCode":"FAIL","retMsg":"request params[sign] error."}`},
		{"unknown merchant", q("mchId", "123", "payOrderId", id, "sign", "X"), `{"retCode":"FAIL","retMsg":"Can't found mchInfo[mchId=123] record in db."}`},
		{"bad signature", q("mchId", testMchID, "appId", testAppID, "payOrderId", id, "sign", "0123456789ABCDEF0123456789ABCDEF"), `{"retCode":"FAIL","retMsg":"Verify XX pay sign failed."}`},
		{"unknown payOrderId", signed(q("mchId", testMchID, "appId", testAppID, "payOrderId", "P00000000000000000000000")), `{"retCode":"FAIL","retMsg":"支付订单不存在"}`},
		{"unknown mchOrderNo", signed(q("mchId", testMchID, "appId", testAppID, "mchOrderNo", "nope")), `{"retCode":"FAIL","retMsg":"支付订单不存在"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if body, _ := call(t, srv, "/api/pay/query_order", tt.p); body != tt.want {
				t.Errorf("got  %s\nwant %s", body, tt.want)
			}
		})
	}
}

func TestQueryOrderAnswer(t *testing.T) {
	sb, srv := startSandbox(t, Config{})
	id := createPay(t, srv, "Q-2", "http://127.0.0.1:1/n")
	query := func(p payments.Params) payments.Params {
		t.Helper()
		body, ans := call(t, srv, "/api/pay/query_order", signed(p))
		if ans["retCode"] != "SUCCESS" || !payments.Verify(ans, testKey) {
			t.Fatalf("query: %s", body)
		}
		return ans
	}
	ans := query(payments.Params{"mchId": testMchID, "appId": testAppID, "mchOrderNo": "Q-2"})
	want := payments.Params{
		"retCode": "SUCCESS", "mchId": testMchID, "appId": testAppID, "productId": "8000", "payOrderId": id,
		"mchOrderNo": "Q-2", "amount": "100", "currency": "cny", "status": "0", "channelUser": "",
		"channelOrderNo": "", "channelAttach": "", "paySuccTime": "",
	}
	for k, v := range want {
		if ans[k] != v {
			t.Errorf("%s = %#v, want %#v", k, ans[k], v)
		}
	}
	if err := sb.Pay(id); err != nil {
		t.Fatal(err)
	}
	ans = query(payments.Params{"mchId": testMchID, "appId": testAppID, "payOrderId": id})
	if ans["status"] != "2" || ans["channelOrderNo"] == "" {
		t.Errorf("after Pay: status %v channelOrderNo %v", ans["status"], ans["channelOrderNo"])
	}
	if n, ok := ans["paySuccTime"].(interface{ Int64() (int64, error) }); !ok {
		t.Errorf("paySuccTime = %#v, want a number", ans["paySuccTime"])
	} else if v, err := n.Int64(); err != nil || v <= 0 {
		t.Errorf("paySuccTime = %v", ans["paySuccTime"])
	}
	if err := sb.Pay(id); err == nil {
		t.Error("second Pay succeeded, want ErrOrderFinal")
	}
}

func TestTransValidation(t *testing.T) {
	_, srv := startSandbox(t, Config{})
	const dummy = "0123456789ABCDEF0123456789ABCDEF"
	tests := []struct {
		name   string
		change func(p payments.Params)
		want   string
	}{
		{"mchId missing", func(p payments.Params) { delete(p, "mchId") }, failBody("请求参数[mchId]不能为空且为数值类型.")},
		{"unknown merchant", func(p payments.Params) { p["mchId"] = "7" }, failBody("商户不存在[mchId=7].")},
		{"unknown app", func(p payments.Params) { p["appId"] = "" }, failBody("应用不存在[appId=]")},
		{"mchTransOrderNo missing", func(p payments.Params) { delete(p, "mchTransOrderNo") }, failBody("请求参数[mchTransOrderNo]不能为空.")},
		{"currency missing", func(p payments.Params) { delete(p, "currency") }, failBody("请求参数[currency]不能为空.")},
		{"amount decimal", func(p payments.Params) { p["amount"] = "100.0" }, failBody("请求参数[amount]应为数值类型.")},
		{"amount zero", func(p payments.Params) { p["amount"] = "0" }, failBody("请求参数[amount]必须大于0.")},
		{"notifyUrl missing", func(p payments.Params) { delete(p, "notifyUrl") }, failBody("请求参数[notifyUrl]不能为空.")},
		{"bankCode missing", func(p payments.Params) { delete(p, "bankCode") }, failBody("请求参数[bankCode]不能为空.")},
		{"bankCode typo of the document", func(p payments.Params) { p["bankCode"] = "HP00001" }, failBody("银行代码不存在[bankCode=HP00001].")},
		{"bankCode out of range", func(p payments.Params) { p["bankCode"] = "HPT00098" }, failBody("银行代码不存在[bankCode=HPT00098].")},
		{"bankName missing", func(p payments.Params) { delete(p, "bankName") }, failBody("请求参数[bankName]不能为空.")},
		{"accountType missing", func(p payments.Params) { delete(p, "accountType") }, failBody("请求参数[accountType]不能为空.")},
		{"accountName missing", func(p payments.Params) { delete(p, "accountName") }, failBody("请求参数[accountName]不能为空.")},
		{"accountNo missing", func(p payments.Params) { delete(p, "accountNo") }, failBody("请求参数[accountNo]不能为空.")},
		{"province missing", func(p payments.Params) { delete(p, "province") }, failBody("请求参数[province]不能为空.")},
		{"city missing", func(p payments.Params) { delete(p, "city") }, failBody("请求参数[city]不能为空.")},
		{"sign missing", func(p payments.Params) { delete(p, "sign") }, failBody("请求参数[sign]不能为空.")},
		{"bad signature", func(p payments.Params) {}, failBody("验证签名失败.")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := transReq("TV-1", "6222000000000001", "http://127.0.0.1:1/n")
			p["sign"] = dummy
			tt.change(p)
			if body, _ := call(t, srv, "/api/trans/create_order", p); body != tt.want {
				t.Errorf("got  %s\nwant %s", body, tt.want)
			}
		})
	}

	q := func(p payments.Params) string {
		body, _ := call(t, srv, "/api/trans/query_order", p)
		return body
	}
	if got, want := q(payments.Params{"mchId": testMchID, "appId": testAppID, "sign": dummy}), failBody("请求参数[transOrderId或mchTransOrderNo]不能为空."); got != want {
		t.Errorf("query without order number: %s", got)
	}
	if got, want := q(payments.Params{"mchId": testMchID, "appId": testAppID, "transOrderId": "T1", "sign": dummy}), failBody("验证签名失败."); got != want {
		t.Errorf("query with bad signature: %s", got)
	}
	if got, want := q(payments.Params{"mchId": testMchID, "appId": testAppID, "transOrderId": "T1"}), failBody("请求参数[sign]不能为空."); got != want {
		t.Errorf("query without sign: %s", got)
	}
	got := q(signed(payments.Params{"mchId": testMchID, "appId": testAppID, "mchTransOrderNo": "nope"}))
	if want := `{"errCode":"0112","errDes":"代付订单不存在","retCode":"FAIL","retMsg":"代付订单不存在"}`; got != want {
		t.Errorf("unknown payout: got %s, want %s", got, want)
	}
}

func TestTransCreateAndQuery(t *testing.T) {
	_, srv := startSandbox(t, Config{TimeScale: 1000}) // settles in 2000 s: stays "transferring"
	body, ans := call(t, srv, "/api/trans/create_order", signed(transReq("TC-1", "6222000000000001", "http://127.0.0.1:1/n")))
	if ans["retCode"] != "SUCCESS" || !payments.Verify(ans, testKey) {
		t.Fatalf("create: %s", body)
	}
	id, _ := ans["transOrderId"].(string)
	for _, k := range []string{"transOrderId", "mchId", "mchTransOrderNo", "amount", "status", "channelOrderNo", "createTime"} {
		if _, ok := ans[k]; !ok {
			t.Errorf("create answer lacks %s: %s", k, body)
		}
	}
	if payments.ValueString(ans["status"]) != "1" || payments.ValueString(ans["amount"]) != "100" {
		t.Errorf("create answer: %s", body)
	}
	body, ans = call(t, srv, "/api/trans/query_order", signed(payments.Params{"mchId": testMchID, "appId": testAppID, "transOrderId": id}))
	if ans["retCode"] != "SUCCESS" || !payments.Verify(ans, testKey) {
		t.Fatalf("query: %s", body)
	}
	want := payments.Params{"mchId": testMchID, "appId": testAppID, "transOrderId": id, "mchTransOrderNo": "TC-1",
		"amount": "100", "currency": "cny", "status": "1", "transSuccTime": ""}
	for k, v := range want {
		if ans[k] != v {
			t.Errorf("query %s = %#v, want %#v", k, ans[k], v)
		}
	}
}
