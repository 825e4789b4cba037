package money

import (
	"errors"
	"math"
	"testing"
)

func TestFormat(t *testing.T) {
	for _, c := range []struct {
		fen                    int64
		format, grouped, plain string
	}{
		{0, "¥0.00", "0.00", "0.00"},
		{1, "¥0.01", "0.01", "0.01"},
		{50, "¥0.50", "0.50", "0.50"},
		{1250, "¥12.50", "12.50", "12.50"},
		{123450, "¥1,234.50", "1,234.50", "1234.50"},
		{100_000_000, "¥1,000,000.00", "1,000,000.00", "1000000.00"},
		{Max, "¥9,999,999,999.99", "9,999,999,999.99", "9999999999.99"},
		{-123450, "-¥1,234.50", "-1,234.50", "-1234.50"},
		{-5, "-¥0.05", "-0.05", "-0.05"},
	} {
		if got := Format(c.fen); got != c.format {
			t.Errorf("Format(%d) = %q, want %q", c.fen, got, c.format)
		}
		if got := Grouped(c.fen); got != c.grouped {
			t.Errorf("Grouped(%d) = %q, want %q", c.fen, got, c.grouped)
		}
		if got := Plain(c.fen); got != c.plain {
			t.Errorf("Plain(%d) = %q, want %q", c.fen, got, c.plain)
		}
		if c.fen > 0 {
			for _, s := range []string{c.format, c.grouped, c.plain} {
				if back, err := Parse(s); err != nil || back != c.fen {
					t.Errorf("Parse(%q) = %d, %v; want %d", s, back, err, c.fen)
				}
			}
		}
	}
	if got := Format(math.MinInt64 + 1); got == "" {
		t.Error("Format of a huge negative is empty")
	}
}

func TestCapitals(t *testing.T) {
	for _, c := range []struct {
		fen  int64
		want string
	}{
		{10000, "壹佰元整"},
		{100505, "壹仟零伍元零伍分"},
		{2522905, "贰万伍仟贰佰贰拾玖元零伍分"},
		{0, "零元整"},
		{1, "壹分"},
		{5, "伍分"},
		{50, "伍角"},
		{55, "伍角伍分"},
		{100, "壹元整"},
		{105, "壹元零伍分"},
		{130, "壹元叁角"},
		{1000, "壹拾元整"},
		{1030, "壹拾元叁角"},
		{1500, "壹拾伍元整"},
		{2000, "贰拾元整"},
		{10100, "壹佰零壹元整"},
		{11000, "壹佰壹拾元整"},
		{100000, "壹仟元整"},
		{100100, "壹仟零壹元整"},
		{101000, "壹仟零壹拾元整"},
		{168032, "壹仟陆佰捌拾元叁角贰分"},
		{1000000, "壹万元整"},
		{1000100, "壹万零壹元整"},
		{1001000, "壹万零壹拾元整"},
		{1010000, "壹万零壹佰元整"},
		{1100000, "壹万壹仟元整"},
		{10000000, "壹拾万元整"},
		{10000500, "壹拾万零伍元整"},
		{10700053, "壹拾万零柒仟元伍角叁分"}, // the rules give this form or 壹拾万柒仟元零伍角叁分
		{100000000, "壹佰万元整"},
		{100010000, "壹佰万零壹佰元整"},
		{110000000, "壹佰壹拾万元整"},
		{1000000000, "壹仟万元整"},
		{1234567891, "壹仟贰佰叁拾肆万伍仟陆佰柒拾捌元玖角壹分"},
		{10000000000, "壹亿元整"},
		{10000000100, "壹亿零壹元整"},
		{20001000000, "贰亿零壹万元整"},
		{100000000000, "壹拾亿元整"},
		{Max, "玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"},
		{100000000000000, "壹万亿元整"},
		{1000000000000000, "壹拾万亿元整"},
		{-10000, "负壹佰元整"},
	} {
		if got := Capitals(c.fen); got != c.want {
			t.Errorf("Capitals(%s) = %s, want %s", Format(c.fen), got, c.want)
		}
	}
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
	}{
		{"12", 1200},
		{"12.5", 1250},
		{"12.50", 1250},
		{" 12.50 ", 1250},
		{".5", 50},
		{"0.01", 1},
		{"1,234.50", 123450},
		{"1,000", 100000},
		{"12,345,678.90", 1234567890},
		{"¥12.50", 1250},
		{"¥ 12.50", 1250},
		{"￥12.50", 1250},
		{"12.50元", 1250},
		{"12.50 元", 1250},
		{"￥1,234.50元", 123450},
		{"１２．５０", 1250},
		{"１，２３４．５０", 123450},
		{"￥１２", 1200},
		{"１２元", 1200},
		{"12。50", 1250},
		{"\u300012.50\u3000", 1250},
		{"9999999999.99", Max},
	} {
		got, err := Parse(c.in)
		if err != nil || got != c.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct {
		in   string
		want Reason
	}{
		{"", Empty},
		{"   ", Empty},
		{"¥", NotNumber},
		{"元", NotNumber},
		{"abc", NotNumber},
		{"12.", NotNumber},
		{"12.5.0", NotNumber},
		{"1 234", NotNumber},
		{"+12", NotNumber},
		{"12元5角", NotNumber},
		{"0x10", NotNumber},
		{"１２ａ", NotNumber},
		{"-12", Negative},
		{"－１２", Negative},
		{"¥-12", Negative},
		{"1e3", Exponent},
		{"6.22202E+18", Exponent},
		{"１ｅ３", Exponent},
		{"1.234", Decimals},
		{"０．００１", Decimals},
		{"1,23", Separators},
		{"1234,567", Separators},
		{",123", Separators},
		{"1,,234", Separators},
		{"0", Zero},
		{"0.00", Zero},
		{"¥0", Zero},
		{"10000000000", TooLarge},
		{"99999999999999999999999", TooLarge},
	} {
		_, err := Parse(c.in)
		var e *Error
		if !errors.As(err, &e) || e.Reason != c.want {
			t.Errorf("Parse(%q): %v, want reason %d", c.in, err, c.want)
		}
	}
}
