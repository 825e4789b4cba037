package payments

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParsePayURL(t *testing.T) {
	tests := []struct {
		in   string
		want PayAction
	}{
		{
			"http://127.0.0.1:3020/api/qrcode/create_qrcode?params=https://qr.alipay.com/bax07593fh9xkcrimmy8203b",
			PayAction{Method: "GET", Action: "http://127.0.0.1:3020/api/qrcode/create_qrcode?params=https://qr.alipay.com/bax07593fh9xkcrimmy8203b"},
		},
		{
			// Never URL-decoded, never re-encoded.
			"https://pay.example/p?x=%2B%E4%B8%AD+1&y=a%26b",
			PayAction{Method: "GET", Action: "https://pay.example/p?x=%2B%E4%B8%AD+1&y=a%26b"},
		},
		{"weixin://wxpay/bizpayurl?pr=abc", PayAction{Method: "GET", Action: "weixin://wxpay/bizpayurl?pr=abc"}},
		{
			"POST;https://h/p?a=1&b=2",
			PayAction{Method: "POST", Action: "https://h/p", Fields: []PayField{{"a", "1"}, {"b", "2"}}},
		},
		{
			// Field order kept, repeats kept, '?' inside a value belongs to the value.
			"post;http://h:8080/gateway.do?z=9&a=%E4%B8%AD%E6%96%87&z=8&q=x?y&empty=&flag&&sign=ab%2Bc+d",
			PayAction{Method: "POST", Action: "http://h:8080/gateway.do", Fields: []PayField{
				{"z", "9"}, {"a", "中文"}, {"z", "8"}, {"q", "x?y"}, {"empty", ""}, {"flag", ""}, {"sign", "ab+c d"},
			}},
		},
		{"POST;https://h/p", PayAction{Method: "POST", Action: "https://h/p"}},
		{"POST;https://h/p?", PayAction{Method: "POST", Action: "https://h/p"}},
		{"POST;https://h/p?bad=%zz", PayAction{Method: "POST", Action: "https://h/p", Fields: []PayField{{"bad", "%zz"}}}},
	}
	for _, tt := range tests {
		got, err := ParsePayURL(tt.in)
		if err != nil {
			t.Errorf("ParsePayURL(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParsePayURL(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParsePayURLRefuses(t *testing.T) {
	for _, in := range []string{
		"",
		"   ",
		"javascript:alert(1)",
		"JavaScript:alert(1)",
		"java\tscript:alert(1)",
		"data:text/html,<script>alert(1)</script>",
		"vbscript:x",
		"POST;",
		"POST;/relative/path?a=1",
		"POST;javascript:alert(1)?a=1",
		"POST;ftp://h/p?a=1",
		"POST;https:///nohost?a=1",
	} {
		if got, err := ParsePayURL(in); err == nil {
			t.Errorf("ParsePayURL(%q) = %+v, want an error", in, got)
		}
	}
}
