package views

import (
	"testing"
	"time"
	_ "time/tzdata"
)

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
