package sandbox

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"paydesk/payments"
)

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func TestCashier(t *testing.T) {
	rc := newReceiver(t, always("success"))
	sb, srv := startSandbox(t, Config{TimeScale: fastScale})
	p := payReq("CA-1", rc.URL())
	p["amount"] = "123456"
	p["subject"] = "年费 <b>"
	body, ans := call(t, srv, "/api/pay/create_order", signed(p))
	if ans["retCode"] != "SUCCESS" {
		t.Fatal(body)
	}
	id := ans["payOrderId"].(string)
	payURL := ans["payParams"].(map[string]any)["payUrl"].(string)

	code, page := get(t, payURL)
	for _, want := range []string{"¥1,234.56", id, "年费 &lt;b&gt;", `value="pay"`, `value="fail"`} {
		if code != 200 || !strings.Contains(page, want) {
			t.Errorf("cashier page (HTTP %d) lacks %q", code, want)
		}
	}
	if strings.Contains(page, "http://") || strings.Contains(page, "https://") {
		t.Error("cashier page refers to an outside resource")
	}

	resp, err := noRedirect.PostForm(payURL, url.Values{"action": {"pay"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/sandbox/pay/"+id {
		t.Errorf("pay: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	waitFor(t, "the notification", 5*time.Second, func() bool { return len(rc.all()) == 1 })
	if _, page = get(t, payURL); strings.Contains(page, `value="pay"`) || !strings.Contains(page, "paid") {
		t.Error("paid order still offers the Pay button or does not say paid")
	}
	resp, err = noRedirect.PostForm(payURL, url.Values{"action": {"fail"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict {
		t.Errorf("fail after pay: %d, want 409", resp.StatusCode)
	}
	if code, _ := get(t, srv.URL+"/sandbox/pay/P404"); code != 404 {
		t.Errorf("unknown order: %d", code)
	}
	if err := sb.Pay("P404"); err == nil {
		t.Error("Pay of an unknown order succeeded")
	}
}

func TestPostFormPayURL(t *testing.T) {
	sb, srv := startSandbox(t, Config{Faults: Faults{PostFormProducts: []int{8002}}})
	p := payReq("PF-1", "http://127.0.0.1:1/n")
	p["productId"] = "8002"
	body, ans := call(t, srv, "/api/pay/create_order", signed(p))
	if ans["retCode"] != "SUCCESS" || !payments.Verify(ans, testKey) {
		t.Fatal(body)
	}
	id := ans["payOrderId"].(string)
	payURL := ans["payParams"].(map[string]any)["payUrl"].(string)
	if !strings.HasPrefix(payURL, "POST;"+srv.URL+"/sandbox/pay/"+id+"?via=post&token=") {
		t.Fatalf("payUrl = %s", payURL)
	}
	act, err := payments.ParsePayURL(payURL)
	if err != nil || act.Method != "POST" || act.Action != srv.URL+"/sandbox/pay/"+id {
		t.Fatalf("ParsePayURL: %+v %v", act, err)
	}
	form := url.Values{}
	for _, f := range act.Fields {
		form.Set(f.Name, f.Value)
	}
	code, page := postForm(t, act.Action, form.Encode())
	if code != 200 || !strings.Contains(page, "¥1.00") || !strings.Contains(page, `value="pay"`) {
		t.Errorf("POST form cashier: %d", code)
	}
	form.Set("token", "forged")
	if code, _ := postForm(t, act.Action, form.Encode()); code != http.StatusForbidden {
		t.Errorf("forged token: %d, want 403", code)
	}
	// Other products keep a plain URL.
	p = payReq("PF-2", "http://127.0.0.1:1/n")
	_, ans = call(t, srv, "/api/pay/create_order", signed(p))
	if u := ans["payParams"].(map[string]any)["payUrl"].(string); strings.HasPrefix(u, "POST;") {
		t.Errorf("product 8000 payUrl = %s", u)
	}
	_ = sb
}

func TestOverviewAndJSON(t *testing.T) {
	rc := newReceiver(t, always("nope"))
	sb, srv := startSandbox(t, Config{TimeScale: 1000, Faults: Faults{DuplicateNotify: true}})
	id := createPay(t, srv, "OV-1", rc.URL())
	tid := createTrans(t, srv, "OV-2", "6222000000000001", rc.URL())
	_ = sb.Pay(id)
	waitFor(t, "attempts", 5*time.Second, func() bool { return len(sb.Attempts(id)) == 2 })

	code, page := get(t, srv.URL+"/sandbox")
	for _, want := range []string{id, tid, "OV-1", "OV-2", "nope", "duplicate", "¥1.00"} {
		if code != 200 || !strings.Contains(page, want) {
			t.Errorf("overview (HTTP %d) lacks %q", code, want)
		}
	}

	_, js := get(t, srv.URL+"/sandbox/api/counts?no=OV-1")
	if js != `{"creates":1}` {
		t.Errorf("counts: %s", js)
	}
	_, js = get(t, srv.URL+"/sandbox/api/counts?no=missing")
	if js != `{"creates":0}` {
		t.Errorf("counts of unknown: %s", js)
	}
	_, js = get(t, srv.URL+"/sandbox/api/attempts?id="+id)
	var att []Attempt
	if err := json.Unmarshal([]byte(js), &att); err != nil || len(att) != 2 || att[0].Reply != "nope" || att[0].OrderID != id {
		t.Errorf("attempts JSON: %s (%v)", js, err)
	}
	if _, js = get(t, srv.URL+"/sandbox/api/attempts?id=none"); js != "[]" {
		t.Errorf("attempts of unknown order: %s", js)
	}

	resp, err := noRedirect.PostForm(srv.URL+"/sandbox/faults", url.Values{"spec": {"garbage,refuse=1"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if f := sb.Faults(); resp.StatusCode != http.StatusSeeOther || !f.Garbage || f.RefuseNotifies != 1 || f.DuplicateNotify {
		t.Errorf("faults form: %d %+v", resp.StatusCode, f)
	}
}
