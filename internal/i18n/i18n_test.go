package i18n

import (
	"context"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestFromAcceptLanguage(t *testing.T) {
	for _, c := range []struct {
		header string
		want   Lang
		ok     bool
	}{
		{"", "", false},
		{"zh-CN,zh;q=0.9,en;q=0.8", ZhCN, true},
		{"en-US,en;q=0.9", En, true},
		{"zh-TW", ZhCN, true},
		{"zh-Hant-HK", ZhCN, true},
		{"fr-FR,fr;q=0.9,en;q=0.5", En, true},
		{"en;q=0.2, zh;q=0.9", ZhCN, true},
		{"fr, de", "", false},
		{"*", "", false},
		{"garbage;;;q=x", "", false},
	} {
		got, ok := FromAcceptLanguage(c.header)
		if got != c.want || ok != c.ok {
			t.Errorf("FromAcceptLanguage(%q) = %q, %v; want %q, %v", c.header, got, ok, c.want, c.ok)
		}
	}
}

func TestPrinter(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	zh, en := c.Printer(ZhCN), c.Printer(En)
	if got := zh.T("Payments"); got != "收款" {
		t.Errorf("zh-CN Payments = %q", got)
	}
	if got := en.T("Payments"); got != "Payments" {
		t.Errorf("en Payments = %q", got)
	}
	// A Message argument is printed in the same language first.
	m := M("Your session reached its %s limit. Please sign in again.", M("%d h", 12))
	if got := zh.Msg(m); got != "您的会话已达到时长上限（12 小时），请重新登录。" {
		t.Errorf("zh-CN nested = %q", got)
	}
	if got := en.Msg(m); got != "Your session reached its 12 h limit. Please sign in again." {
		t.Errorf("en nested = %q", got)
	}
	// A nil printer prints English, for code outside any request.
	if got := FromContext(context.Background()).Msg(m); got != "Your session reached its 12 h limit. Please sign in again." {
		t.Errorf("nil printer = %q", got)
	}
	if FromContext(NewContext(context.Background(), zh)).Lang() != ZhCN {
		t.Error("the context does not carry the printer")
	}
	// A key not in the catalogue is printed as itself.
	if got := zh.T("Not a key %s", "x"); got != "Not a key x" {
		t.Errorf("unknown key = %q", got)
	}
	if c.Printer("fr") != zh {
		t.Error("a language Paydesk does not speak gets a printer other than zh-CN's")
	}
}

// A stored message keeps its key and typed arguments, and prints in the
// reader's language; text stored before messages were is shown as it is.
func TestStoredMessages(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	m := M("Your session reached its %s limit. Please sign in again.", M("%d h", 12))
	s := Encode(m)
	back, ok := Decode(s)
	if !ok || back.Key != m.Key || len(back.Args) != 1 {
		t.Fatalf("decode %s: %+v %v", s, back, ok)
	}
	if got := c.Printer(ZhCN).Text(s); got != "您的会话已达到时长上限（12 小时），请重新登录。" {
		t.Errorf("zh-CN: %q", got)
	}
	if got := c.Printer(En).Text("Payment of ¥12.50 created in Paydesk"); got != "Payment of ¥12.50 created in Paydesk" {
		t.Errorf("old text: %q", got)
	}
	typed, _ := Decode(Encode(M("x %s %d %s", Money(123450), 7, "PD1")))
	if typed.Args[0] != Money(123450) || typed.Args[1] != int64(7) || typed.Args[2] != "PD1" {
		t.Errorf("typed arguments: %#v", typed.Args)
	}
	if got := (*Printer)(nil).Msg(typed); got != "x ¥1,234.50 7 PD1" {
		t.Errorf("printed: %q", got)
	}
}

// English says one row, two rows wherever a count can be 1; Chinese has
// one form.
func TestPluralCounts(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	en, zh := c.Printer(En), c.Printer(ZhCN)
	for _, tt := range []struct {
		key  string
		args []any
		want string
	}{
		{"The %d rows with errors were dropped.", []any{1}, "The 1 row with errors was dropped."},
		{"The %d rows with errors were dropped.", []any{3}, "The 3 rows with errors were dropped."},
		{"(%s, %d rows)", []any{"UTF-8", 1}, "(UTF-8, 1 row)"},
		{"%d of %d payouts final", []any{1, 1}, "1 of 1 payout final"},
		{"in %d days", []any{1}, "in 1 day"},
		{"in %d hours", []any{2}, "in 2 hours"},
		{"Batch #%s holds the %d failed payouts with new numbers. Check the control totals and send it for approval.", []any{"1234", 1},
			"Batch #1234 holds the 1 failed payout with a new number. Check the control totals and send it for approval."},
	} {
		if got := en.T(tt.key, tt.args...); got != tt.want {
			t.Errorf("en %q %v = %q, want %q", tt.key, tt.args, got, tt.want)
		}
	}
	if got := zh.T("The %d rows with errors were dropped.", 1); got != "已删除 1 行有错误的数据。" {
		t.Errorf("zh-CN = %q", got)
	}
}

// OnMissing hears of every key printed that a language's file lacks, and
// of no other.
func TestOnMissing(t *testing.T) {
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	var heard []string
	c.OnMissing(func(l Lang, key string) { heard = append(heard, string(l)+" "+key) })
	zh := c.Printer(ZhCN)
	zh.T("Payments")
	zh.T("")
	zh.Msg(M("Not a key %s", M("Neither is this")))
	c.Printer(En).T("Payments")
	if want := []string{"zh-CN Neither is this", "zh-CN Not a key %s"}; !slices.Equal(heard, want) {
		t.Errorf("heard %q, want %q", heard, want)
	}
}

// Encode writes a message byte for byte as encoding/json does, for every
// kind of argument a message carries and every character that needs
// escaping, and leaves other arguments to encoding/json; what it writes
// reads back as the message.
func TestEncodeMatchesEncodingJSON(t *testing.T) {
	texts := []string{"", "plain", "王五 ¥1,234.50", `quote " and \ slash`, "<b>&amp;</b>", "line\nbreak\ttab\r", "nul\x00bell\x07",
		"bad \xff utf-8", "sep \u2028 \u2029", "emoji 😀", "\u007f del", "a/b"}
	rng := rand.New(rand.NewPCG(1, 2))
	var gen func(depth int) Message
	gen = func(depth int) Message {
		m := Message{Key: texts[rng.IntN(len(texts))]}
		for range rng.IntN(4) {
			switch rng.IntN(5) {
			case 0:
				m.Args = append(m.Args, texts[rng.IntN(len(texts))])
			case 1:
				m.Args = append(m.Args, rng.IntN(2000)-1000)
			case 2:
				m.Args = append(m.Args, int64(rng.Int64()-rng.Int64()))
			case 3:
				m.Args = append(m.Args, Money(rng.Int64N(1e12)-5e11))
			case 4:
				if depth < 3 {
					m.Args = append(m.Args, gen(depth+1))
				}
			}
		}
		if rng.IntN(3) == 0 {
			m.Tech = texts[rng.IntN(len(texts))]
		}
		return m
	}
	for i := range 5000 {
		m := gen(0)
		got, want := Encode(m), encodeJSON(m)
		if got != want {
			t.Fatalf("message %d %#v:\n got %s\nwant %s", i, m, got, want)
		}
		back, ok := Decode(got)
		if !ok || Encode(back) != encodeJSON(back) {
			t.Fatalf("message %d does not read back: %s → %#v", i, got, back)
		}
	}
	// Arguments of other kinds go through encoding/json.
	for _, m := range []Message{M("float %v", 1.5), M("bool %v", true), M("many %v", []int{1, 2}), M("nested %s", M("float %v", 2.5))} {
		if got, want := Encode(m), encodeJSON(m); got != want {
			t.Errorf("%#v: got %s, want %s", m, got, want)
		}
	}
}

func BenchmarkEncode(b *testing.B) {
	m := M("%s Learned from %s.", M("The customer paid %s.", Money(123450)), M("the gateway's callback"))
	for b.Loop() {
		Encode(m)
	}
}
