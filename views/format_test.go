package views

import (
	"testing"
	"time"
	_ "time/tzdata"
)

func TestMoney(t *testing.T) {
	for _, tc := range []struct {
		fen  int64
		want string
	}{
		{0, "¥0.00"}, {1, "¥0.01"}, {10, "¥0.10"}, {100, "¥1.00"}, {123456, "¥1,234.56"},
		{99999999, "¥999,999.99"}, {100000000000, "¥1,000,000,000.00"}, {-123456, "¥-1,234.56"},
		{-9223372036854775808, "¥-92,233,720,368,547,758.08"},
	} {
		if got := Money(tc.fen); got != tc.want {
			t.Errorf("Money(%d) = %q, want %q", tc.fen, got, tc.want)
		}
	}
	if got := YuanPlain(123456); got != "1234.56" {
		t.Errorf("YuanPlain = %q", got)
	}
	if got := YuanPlain(-5); got != "-0.05" {
		t.Errorf("YuanPlain(-5) = %q", got)
	}
}

func TestTime(t *testing.T) {
	sh, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 16, 30, 0, 0, time.UTC)
	if got := Time(at, sh); got != "2026-01-03 00:30:00" {
		t.Errorf("Time = %q", got)
	}
	if got := Time(time.Time{}, sh); got != "—" {
		t.Errorf("zero Time = %q", got)
	}
}
