package payments

import (
	"encoding/json"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
)

// signVector is one golden vector produced by the reference gateway.
type signVector struct {
	Name                    string `json:"name"`
	Key                     string `json:"key"`
	Params                  string `json:"params"`
	StringSignTemp          string `json:"stringSignTemp"`
	Sign                    string `json:"sign"`
	ASCIIStringSignTemp     string `json:"asciiKeyOrder_stringSignTemp"`
	ASCIISign               string `json:"asciiKeyOrder_sign"`
	FormBody                string `json:"formBody_application_x_www_form_urlencoded"`
	WireBody                string `json:"wireBody_genUrlParams"`
	WireQuery               string `json:"wireQuery_genUrlParams"`
	ResponseBody            string `json:"responseBody"`
	OpenSourceVariantNoPayP string `json:"openSourceVariant_excludingPayParams_sign"`
}

// loadVectors reads the shared spec's vectors when the checkout has them
// beside it, else the copy in testdata.
func loadVectors(t testing.TB) []signVector {
	t.Helper()
	candidates := []string{
		"../../shared/spec/sign-vectors.json",
		"../../../shared/spec/sign-vectors.json",
		"testdata/sign-vectors.json",
	}
	for _, path := range candidates {
		data, err := os.ReadFile(path)
		if err != nil {
			continue
		}
		var file struct {
			Vectors []signVector `json:"vectors"`
		}
		if err := json.Unmarshal(data, &file); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(file.Vectors) < 19 {
			t.Fatalf("%s: only %d vectors", path, len(file.Vectors))
		}
		t.Logf("vectors from %s", path)
		return file.Vectors
	}
	t.Fatal("sign-vectors.json not found")
	return nil
}

func TestSignVectors(t *testing.T) {
	for _, v := range loadVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			p, err := DecodeParams([]byte(v.Params))
			if err != nil {
				t.Fatal(err)
			}
			if got := SignString(p, v.Key); got != v.StringSignTemp {
				t.Errorf("SignString:\n got %q\nwant %q", got, v.StringSignTemp)
			}
			if got := Sign(p, v.Key); got != v.Sign {
				t.Errorf("Sign = %s, want %s", got, v.Sign)
			}
			p["sign"] = v.Sign
			if !Verify(p, v.Key) {
				t.Errorf("Verify rejects the reference sign")
			}
			p["sign"] = strings.ToLower(v.Sign)
			if !Verify(p, v.Key) {
				t.Errorf("Verify rejects the lower-case reference sign")
			}
			if Verify(p, v.Key+"x") {
				t.Errorf("Verify accepts a wrong key")
			}
			if v.ASCIISign != "" {
				if got := asciiOrderSignString(p, v.Key); got != v.ASCIIStringSignTemp {
					t.Errorf("ASCII order string:\n got %q\nwant %q", got, v.ASCIIStringSignTemp)
				}
				p["sign"] = v.ASCIISign
				if !Verify(p, v.Key) {
					t.Errorf("Verify rejects the ASCII key order sign")
				}
			}
			if v.FormBody != "" {
				form, err := url.ParseQuery(v.FormBody)
				if err != nil {
					t.Fatal(err)
				}
				fp, err := DecodeParams([]byte(form.Get("params")))
				if err != nil {
					t.Fatal(err)
				}
				if got := SignString(fp, v.Key); got != v.StringSignTemp {
					t.Errorf("form body SignString:\n got %q\nwant %q", got, v.StringSignTemp)
				}
			}
			for _, wire := range []string{v.WireBody, v.WireQuery} {
				if wire == "" {
					continue
				}
				q, err := url.ParseQuery(wire)
				if err != nil {
					t.Fatal(err)
				}
				wp := ParamsFromValues(q)
				if got := SignString(wp, v.Key); got != v.StringSignTemp {
					t.Errorf("wire SignString:\n got %q\nwant %q", got, v.StringSignTemp)
				}
				if !Verify(wp, v.Key) {
					t.Errorf("Verify rejects the wire form")
				}
			}
			if v.ResponseBody != "" {
				rp, err := DecodeParams([]byte(v.ResponseBody))
				if err != nil {
					t.Fatal(err)
				}
				if !Verify(rp, v.Key) {
					t.Errorf("Verify rejects the response body")
				}
				if v.OpenSourceVariantNoPayP != "" {
					delete(rp, "payParams")
					if got := Sign(rp, v.Key); got != v.OpenSourceVariantNoPayP {
						t.Errorf("sign without payParams = %s, want %s", got, v.OpenSourceVariantNoPayP)
					}
				}
			}
		})
	}
}

// asciiOrderSignString is the stringSignTemp in plain ASCII key order, the
// second order Verify accepts.
func asciiOrderSignString(p Params, key string) string {
	entries := signEntries(p)
	slices.SortFunc(entries, func(a, b signEntry) int { return compareUTF16(a.key, b.key) })
	return joinEntries(entries, key)
}

func TestValueString(t *testing.T) {
	tests := []struct {
		in   any
		want string
	}{
		{"", ""},
		{" x ", " x "},
		{"a&b=c+d%20", "a&b=c+d%20"},
		{true, "true"},
		{false, "false"},
		{0, "0"},
		{int64(12345678901234), "12345678901234"},
		{json.Number("100"), "100"},
		{json.Number("-7"), "-7"},
		{json.Number("-0"), "0"},
		{json.Number("100.50"), "100.50"},
		{json.Number("2.0"), "2.0"},
		{json.Number("0.0"), "0.0"},
		{json.Number("-0.0"), "0.0"},
		{json.Number("-1.5"), "-1.5"},
		{json.Number("0.00000001"), "1E-8"},
		{json.Number("0.000001"), "0.000001"},
		{json.Number("0.0000001"), "1E-7"},
		{json.Number("2E+3"), "2E+3"},
		{json.Number("1e5"), "1E+5"},
		{json.Number("1.5e3"), "1.5E+3"},
		{json.Number("12e-2"), "0.12"},
		{json.Number("1.0e1"), "10"},
		{json.Number("1E+0"), "1"},
		{json.Number("123.456e-10"), "1.23456E-8"},
		{json.Number("0E+3"), "0E+3"},
		{json.Number("99999999999999999999999"), "99999999999999999999999"},
		{json.Number("1e99999999999"), "1e99999999999"},
		{json.Number("not a number"), "not a number"},
		{map[string]any{"b": json.Number("2"), "A": "x", "a": json.Number("1"), "n": nil}, `{"A":"x","a":1,"b":2}`},
		{map[string]any{"z": map[string]any{"y": 1, "x": 2}}, `{"z":{"x":2,"y":1}}`},
		{[]any{json.Number("1"), "a", true, nil, map[string]any{"k2": 1, "k1": 2}}, `[1,"a",true,null,{"k1":2,"k2":1}]`},
		{map[string]any{"s": "q\"b\\s/<>&é\b\f\n\r\t\x01\x0b\x1f\x7f\u0085\u00a0\u2028\u2029"}, `{"s":"q\"b\\s/<>&é\b\f\n\r\t\u0001\u000B\u001F\u007F\u0085` + "\u00a0" + `\u2028\u2029"}`},
		{map[string]any{"！": 1, "😀": 2}, `{"😀":2,"！":1}`},
		{map[string]any{}, `{}`},
		{[]any{}, `[]`},
	}
	for _, tt := range tests {
		if got := ValueString(tt.in); got != tt.want {
			t.Errorf("ValueString(%#v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSignStringRules(t *testing.T) {
	tests := []struct {
		name string
		p    Params
		want string
	}{
		{"empty", Params{}, "key=k"},
		{"sign left out, SIGN and Sign kept", Params{"sign": "x", "SIGN": "y", "Sign": "z"}, "SIGN=y&Sign=z&key=k"},
		{"nil and empty skipped, zero and false kept", Params{"a": nil, "b": "", "c": 0, "d": false, "e": "0"}, "c=0&d=false&e=0&key=k"},
		{"whitespace kept", Params{"a": " ", "b": "\t"}, "a= &b=\t&key=k"},
		{"prefix keys", Params{"param1": "a", "param10": "b", "param1x": "c"}, "param10=b&param1=a&param1x=c&key=k"},
		{"value tie-break", Params{"a": "10", "A": "1"}, "A=1&a=10&key=k"},
		{"same fold, plain order", Params{"a": "X", "A": "x"}, "A=x&a=X&key=k"},
	}
	for _, tt := range tests {
		if got := SignString(tt.p, "k"); got != tt.want {
			t.Errorf("%s: SignString = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestCompareOrders(t *testing.T) {
	if compareUTF16("😀", "！") >= 0 {
		t.Errorf("compareUTF16: a surrogate pair must sort before U+FF01")
	}
	if compareUTF16("a", "ab") >= 0 || compareUTF16("b", "a") <= 0 || compareUTF16("x", "x") != 0 {
		t.Errorf("compareUTF16: basic order wrong")
	}
	// U+212A KELVIN SIGN lower-cases to 'k' in Java's case-insensitive order.
	if compareFold("\u212a=1&", "k=1&") != 0 {
		t.Errorf("compareFold: Kelvin sign should fold to k")
	}
	if compareFold("é=1&", "É=1&") != 0 {
		t.Errorf("compareFold: é and É should fold together")
	}
	if compareFold("mch_id=", "mchId=") >= 0 {
		t.Errorf("compareFold: '_' sorts before 'i' after lower-casing")
	}
}

func TestVerifyRejects(t *testing.T) {
	base := Params{"mchId": "20001222", "amount": json.Number("100"), "status": "2"}
	good := Sign(base, "k")
	tests := []struct {
		name string
		p    Params
	}{
		{"missing sign", Params{"mchId": "20001222", "amount": json.Number("100"), "status": "2"}},
		{"empty sign", Params{"mchId": "20001222", "amount": json.Number("100"), "status": "2", "sign": ""}},
		{"non-string sign", Params{"mchId": "20001222", "amount": json.Number("100"), "status": "2", "sign": json.Number("1")}},
		{"tampered amount", Params{"mchId": "20001222", "amount": json.Number("1000"), "status": "2", "sign": good}},
		{"extra field", Params{"mchId": "20001222", "amount": json.Number("100"), "status": "2", "x": "1", "sign": good}},
		{"truncated sign", Params{"mchId": "20001222", "amount": json.Number("100"), "status": "2", "sign": good[:31]}},
		{"padded sign", Params{"mchId": "20001222", "amount": json.Number("100"), "status": "2", "sign": good + " "}},
	}
	for _, tt := range tests {
		if Verify(tt.p, "k") {
			t.Errorf("%s: Verify accepted", tt.name)
		}
	}
	ok := Params{"mchId": "20001222", "amount": "100", "status": json.Number("2"), "empty": "", "sign": good}
	if !Verify(ok, "k") {
		t.Errorf("Verify should accept strings and numbers alike and skip empty values")
	}
}

func TestDecodeParams(t *testing.T) {
	p, err := DecodeParams([]byte(`{"a":1.50,"b":{"c":2},"d":[1],"e":null,"f":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := p["a"].(json.Number); !ok || n != "1.50" {
		t.Errorf("a = %#v, want json.Number 1.50", p["a"])
	}
	if _, ok := p["b"].(map[string]any)["c"].(json.Number); !ok {
		t.Errorf("nested number is %T, want json.Number", p["b"].(map[string]any)["c"])
	}
	for _, bad := range []string{``, `null`, `[]`, `"x"`, `1`, `{`, `{} x`, `{"a":1}{"b":2}`} {
		if _, err := DecodeParams([]byte(bad)); err == nil {
			t.Errorf("DecodeParams(%q) accepted", bad)
		}
	}
}

func TestParamsFromValues(t *testing.T) {
	p := ParamsFromValues(url.Values{"a": {"1", "2"}, "b": {}, "c": {""}})
	if p["a"] != "1" || p["b"] != "" || p["c"] != "" || len(p) != 3 {
		t.Errorf("ParamsFromValues = %#v", p)
	}
}

func FuzzSignVerify(f *testing.F) {
	for _, v := range loadVectors(f) {
		f.Add(v.Params, v.Key, v.Sign)
	}
	f.Add(`{"a":"\u0001","b":[null,{"y":1,"x":-0.0e-7}]}`, "", "x")
	f.Add(`{"sign":1}`, "k", "")
	f.Fuzz(func(t *testing.T, data, key, sign string) {
		p, err := DecodeParams([]byte(data))
		if err != nil {
			// Arbitrary text as a query string must not panic either.
			if q, err := url.ParseQuery(data); err == nil {
				qp := ParamsFromValues(q)
				Verify(qp, key)
				qp["sign"] = Sign(qp, key)
				if !Verify(qp, key) {
					t.Fatalf("query round trip failed: %q", data)
				}
			}
			return
		}
		Verify(p, key)
		p["sign"] = sign
		Verify(p, key)
		s := Sign(p, key)
		if len(s) != 32 || strings.ToUpper(s) != s {
			t.Fatalf("Sign = %q", s)
		}
		p["sign"] = s
		if !Verify(p, key) {
			t.Fatalf("round trip failed for %q key %q", data, key)
		}
		p["sign"] = strings.ToLower(s)
		if !Verify(p, key) {
			t.Fatalf("lower-case round trip failed for %q", data)
		}
	})
}

// typicalPayNotify is a pay notification as the gateway posts it.
const typicalPayNotify = "income=98&payOrderId=P01000020181013115051810&amount=100&mchId=20001222&productId=8000&mchOrderNo=20160427210604000490&paySuccTime=1505049094262&sign=E471510C8852B98E93C79DA6F49A5870&channelOrderNo=&backType=2&param1=&param2=&appId=0ae8be35ff634e2abe94f5f32f6d5c4f&status=2"

func benchNotifyParams(b *testing.B) Params {
	q, err := url.ParseQuery(typicalPayNotify)
	if err != nil {
		b.Fatal(err)
	}
	return ParamsFromValues(q)
}

func BenchmarkSignNotify(b *testing.B) {
	p := benchNotifyParams(b)
	b.ReportAllocs()
	for b.Loop() {
		if Sign(p, "test-key-123") != "E471510C8852B98E93C79DA6F49A5870" {
			b.Fatal("wrong sign")
		}
	}
}

func BenchmarkVerifyNotify(b *testing.B) {
	p := benchNotifyParams(b)
	b.ReportAllocs()
	for b.Loop() {
		if !Verify(p, "test-key-123") {
			b.Fatal("not verified")
		}
	}
}

// Keys whose bytes are not UTF-8 all read as U+FFFD when ordered like the
// reference gateway's strings; two such keys still come in one order, so
// that a signature made over them verifies whatever order the map gives
// them in (before, about half of the attempts failed).
func TestSignOrdersKeysThatAreNotUTF8(t *testing.T) {
	for i := range 200 {
		p := Params{"\x82": "0", "\x89": "0", "\xff\xfe": "1", "a": "2"}
		p["sign"] = Sign(p, "k")
		q := Params{}
		for k, v := range p {
			q[k] = v
		}
		if !Verify(q, "k") {
			t.Fatalf("attempt %d: a signature over keys that are not UTF-8 does not verify", i)
		}
	}
}
