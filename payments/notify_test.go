package payments

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const formType = "application/x-www-form-urlencoded"

func vectorByName(t *testing.T, name string) signVector {
	t.Helper()
	for _, v := range loadVectors(t) {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no vector %s", name)
	return signVector{}
}

func TestParseNotificationVectors(t *testing.T) {
	seed := vectorByName(t, "pay_notify_seed_fields")
	pro := vectorByName(t, "pay_notify_xxpay_pro_fields")
	trans := vectorByName(t, "trans_notify_seed_fields")
	payWant := Notification{Kind: NotifyPay, MchID: "20001222", AppID: "0ae8be35ff634e2abe94f5f32f6d5c4f",
		OrderID: "P01000020181013115051810", MchOrderNo: "20160427210604000490", ProductID: 8000,
		Amount: 100, Status: 2, SuccTime: 1505049094262, BackType: 2, Income: 98}
	seedWant := payWant
	seedWant.Income = 0 // the reference gateway's older edition sends no income
	seedWant.ChannelOrderNo, seedWant.Param2 = "wx2016081611532915ae15beab0167893571", "备注 A&B"
	transWant := Notification{Kind: NotifyTrans, MchID: "20001222", OrderID: "T01000020181013115051811",
		MchOrderNo: "20160427210604000491", Amount: 100, Status: 2, SuccTime: 1505049094262, BackType: 2}

	tests := []struct {
		name                    string
		kind                    NotifyKind
		method, query, ct, body string
		encoding                string
		want                    Notification
		nFields                 int
	}{
		{"pay seed form POST", NotifyPay, "POST", "", formType + "; charset=UTF-8", seed.WireBody, "form", seedWant, 14},
		{"pay pro form POST", NotifyPay, "POST", "", formType, pro.WireBody, "form", payWant, 14},
		{"pay pro as GET query", NotifyPay, "GET", pro.WireBody, "", "", "query", payWant, 14},
		{"trans GET query", NotifyTrans, "GET", trans.WireQuery, "", "", "query", transWant, 11},
		{"trans as form POST", NotifyTrans, "POST", "", formType, trans.WireQuery, "form", transWant, 11},
		{"pay params JSON in form", NotifyPay, "POST", "", formType, "params=" + url.QueryEscape(mustSignedJSON(t, pro)), "params-json", payWant, 14},
		{"pay params JSON in query", NotifyPay, "GET", "params=" + url.QueryEscape(mustSignedJSON(t, pro)), "", "", "params-json", payWant, 14},
		{"pay JSON body", NotifyPay, "POST", "", "application/json", mustSignedJSON(t, pro), "params-json", payWant, 14},
		{"trans split over query and form", NotifyTrans, "POST", trans.WireQuery[:strings.Index(trans.WireQuery, "&sign")], formType,
			trans.WireQuery[strings.Index(trans.WireQuery, "&sign")+1:], "form", transWant, 11},
	}
	for _, tt := range tests {
		n, err := ParseNotification(tt.kind, tt.method, tt.query, tt.ct, []byte(tt.body))
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if !n.Verify(testKey) {
			t.Errorf("%s: does not verify; fields %v", tt.name, n.Fields)
		}
		if n.Verify("other-key") {
			t.Errorf("%s: verifies with another key", tt.name)
		}
		if len(n.Fields) != tt.nFields {
			t.Errorf("%s: %d fields, want %d: %v", tt.name, len(n.Fields), tt.nFields, n.Fields)
		}
		want := tt.want
		want.Encoding = tt.encoding
		if diff := cmp.Diff(want, *n, cmpopts.IgnoreFields(Notification{}, "Fields")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
}

// mustSignedJSON is the vector's params with its sign, as one JSON text.
func mustSignedJSON(t *testing.T, v signVector) string {
	t.Helper()
	return strings.TrimSuffix(v.Params, "}") + `,"sign":"` + v.Sign + `"}`
}

func TestNotificationForgeries(t *testing.T) {
	pro := vectorByName(t, "pay_notify_xxpay_pro_fields")
	parse := func(body string) *Notification {
		t.Helper()
		n, err := ParseNotification(NotifyPay, "POST", "", formType, []byte(body))
		if err != nil {
			t.Fatalf("%q: %v", body, err)
		}
		return n
	}
	if n := parse(pro.WireBody); !n.Verify(testKey) {
		t.Fatal("the genuine notification does not verify")
	}
	tests := []struct{ name, body string }{
		{"forged sign", strings.Replace(pro.WireBody, "sign=E471510C", "sign=E471510D", 1)},
		{"no sign", strings.Replace(pro.WireBody, "sign=E471510C8852B98E93C79DA6F49A5870&", "", 1)},
		{"amount raised", strings.Replace(pro.WireBody, "amount=100", "amount=10000", 1)},
		{"unknown field dropped", strings.Replace(pro.WireBody, "income=98&", "", 1)},
		{"unknown field added", pro.WireBody + "&extra=1"},
		{"empty field filled", strings.Replace(pro.WireBody, "param1=", "param1=x", 1)},
	}
	for _, tt := range tests {
		if parse(tt.body).Verify(testKey) {
			t.Errorf("%s: verifies", tt.name)
		}
	}
	// A genuine notification with an extra field the gateway signed over.
	p := ParamsFromValues(mustParseQuery(t, pro.WireBody))
	p["newField"] = "新"
	p["sign"] = Sign(p, testKey)
	vals := url.Values{}
	for k, v := range p {
		vals.Set(k, v.(string))
	}
	n := parse(vals.Encode())
	if !n.Verify(testKey) || n.Fields["newField"] != "新" {
		t.Errorf("unknown signed field: verify %v, fields %v", n.Verify(testKey), n.Fields)
	}
	if (*Notification)(nil).Verify(testKey) {
		t.Errorf("nil notification verifies")
	}
}

func mustParseQuery(t *testing.T, s string) url.Values {
	t.Helper()
	v, err := url.ParseQuery(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseNotificationErrors(t *testing.T) {
	tests := []struct {
		name                    string
		kind                    NotifyKind
		method, query, ct, body string
	}{
		{"nothing", NotifyPay, "POST", "", formType, ""},
		{"unknown kind", "refund", "GET", "status=2", "", ""},
		{"bad query escape", NotifyTrans, "GET", "status=%zz", "", ""},
		{"bad form escape", NotifyPay, "POST", "", formType, "status=2&amount=%"},
		{"params not JSON", NotifyPay, "POST", "", formType, "params=%7Bnot"},
		{"params JSON array", NotifyPay, "GET", "params=%5B1%5D", "", ""},
		{"broken JSON body", NotifyPay, "POST", "", "application/json", `{"status":`},
		{"multipart", NotifyPay, "POST", "", "multipart/form-data; boundary=x", "--x--"},
		{"status not a number", NotifyPay, "POST", "", formType, "status=paid&amount=100"},
		{"amount decimal", NotifyPay, "POST", "", formType, "status=2&amount=1.00"},
		{"no status", NotifyPay, "POST", "", formType, "amount=100&sign=x"},
		{"nested amount", NotifyPay, "POST", "", "application/json", `{"status":2,"amount":{"v":1}}`},
	}
	for _, tt := range tests {
		if n, err := ParseNotification(tt.kind, tt.method, tt.query, tt.ct, []byte(tt.body)); err == nil {
			t.Errorf("%s: no error, got %+v", tt.name, n)
		}
	}
}

func TestParseNotificationXxPayTransVariant(t *testing.T) {
	n, err := ParseNotification(NotifyTrans, "GET", "transOrderId=T1&mchOrderNo=M1&result=3&channelErrMsg=%E5%A4%B1%E8%B4%A5&amount=5", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n.MchOrderNo != "M1" || n.Status != TransFailed || n.Amount != 5 || n.Fields["channelErrMsg"] != "失败" {
		t.Errorf("got %+v", n)
	}
}

func FuzzParseNotification(f *testing.F) {
	for _, v := range loadVectors(f) {
		if v.WireBody != "" {
			f.Add("pay", "POST", "", formType, []byte(v.WireBody))
		}
		if v.WireQuery != "" {
			f.Add("trans", "GET", v.WireQuery, "", []byte(nil))
		}
		f.Add("pay", "POST", "a=1", "application/json", []byte(v.Params))
	}
	f.Add("trans", "POST", "params=%7B%7D", "text/plain", []byte("params=%7B%22status%22%3A%7B%7D%7D"))
	f.Fuzz(func(t *testing.T, kind, method, query, ct string, body []byte) {
		n, err := ParseNotification(NotifyKind(kind), method, query, ct, body)
		if err != nil {
			if n != nil {
				t.Fatalf("error %v with a notification", err)
			}
			return
		}
		if len(n.Fields) == 0 || (n.Kind != NotifyPay && n.Kind != NotifyTrans) {
			t.Fatalf("notification %+v", n)
		}
		n.Verify("k")
		n.Fields["sign"] = Sign(n.Fields, "k")
		if !n.Verify("k") {
			t.Fatalf("re-signed notification does not verify: %v", n.Fields)
		}
	})
}

// A notification is read only at its own endpoint: a payout notification
// carries a payout number and no payOrderId, a pay notification a pay order
// number and no payout number. A signed pay notification replayed to the
// payout endpoint (or the reverse) must not read as one of the other kind.
func TestParseNotificationWrongKind(t *testing.T) {
	pro := vectorByName(t, "pay_notify_xxpay_pro_fields")
	trans := vectorByName(t, "trans_notify_seed_fields")
	tests := []struct {
		name                    string
		kind                    NotifyKind
		method, query, ct, body string
	}{
		{"pay notification at the payout endpoint", NotifyTrans, "POST", "", formType, pro.WireBody},
		{"pay notification as GET at the payout endpoint", NotifyTrans, "GET", pro.WireBody, "", ""},
		{"payout notification at the pay endpoint", NotifyPay, "GET", trans.WireQuery, "", ""},
		{"payout notification as form at the pay endpoint", NotifyPay, "POST", "", formType, trans.WireQuery},
		{"XxPay payout variant at the pay endpoint", NotifyPay, "GET", "transOrderId=T1&mchOrderNo=M1&result=3&amount=5", "", ""},
		{"payout with only a merchant order number", NotifyTrans, "GET", "mchOrderNo=M1&status=2&amount=5", "", ""},
		{"payout carrying a payOrderId too", NotifyTrans, "GET", "payOrderId=P1&transOrderId=T1&mchTransOrderNo=M1&status=2&amount=5", "", ""},
		{"pay with no order number", NotifyPay, "POST", "", formType, "mchId=1&status=2&amount=5"},
		{"payout with no order number", NotifyTrans, "GET", "mchId=1&status=2&amount=5", "", ""},
	}
	for _, tt := range tests {
		n, err := ParseNotification(tt.kind, tt.method, tt.query, tt.ct, []byte(tt.body))
		if !errors.Is(err, ErrWrongKind) {
			t.Errorf("%s: got %+v, %v; want ErrWrongKind", tt.name, n, err)
		}
	}
	// Empty values are not signed and do not count: a genuine notification
	// with an empty field of the other kind still reads.
	if _, err := ParseNotification(NotifyTrans, "GET", trans.WireQuery+"&payOrderId=", "", nil); err != nil {
		t.Errorf("payout with an empty payOrderId: %v", err)
	}
	if _, err := ParseNotification(NotifyPay, "POST", "", formType, []byte(pro.WireBody+"&transOrderId=")); err != nil {
		t.Errorf("pay with an empty transOrderId: %v", err)
	}
}
