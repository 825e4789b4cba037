package payments

import (
	"fmt"
	"testing"
)

type move struct{ from, to int }

// TestPayAdvances checks every pair of statuses (known ones and two unknown
// values) against the complete list of forward moves.
func TestPayAdvances(t *testing.T) {
	forward := map[move]bool{
		{0, 1}: true, {0, 2}: true, {0, 3}: true, {0, 5}: true, {0, -1}: true, {0, -2}: true,
		{1, 2}: true, {1, 3}: true, {1, 5}: true, {1, -1}: true, {1, -2}: true,
		{2, 3}: true, {2, 4}: true, {3, 4}: true,
		// A late success wins over an earlier failure or expiry.
		{5, 2}: true, {5, 3}: true, {-1, 2}: true, {-1, 3}: true, {-2, 2}: true, {-2, 3}: true,
		// An unknown current status is treated like paying.
		{7, 2}: true, {7, 3}: true, {7, 5}: true, {7, -1}: true, {7, -2}: true,
		{99, 2}: true, {99, 3}: true, {99, 5}: true, {99, -1}: true, {99, -2}: true,
	}
	all := []int{0, 1, 2, 3, 4, 5, -1, -2, 7, 99}
	for _, from := range all {
		for _, to := range all {
			want := forward[move{from, to}]
			if got := PayAdvances(from, to); got != want {
				t.Errorf("PayAdvances(%d, %d) = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestPayNeverRegresses(t *testing.T) {
	for _, paid := range []int{PayPaid, PayDone} {
		for _, to := range []int{PayCreated, PayPaying, PayFailed, PayFailedAlt, PayExpired} {
			if PayAdvances(paid, to) {
				t.Errorf("paid order %d moved back to %d", paid, to)
			}
		}
	}
	for _, failed := range []int{PayFailed, PayFailedAlt, PayExpired, PayRefunded} {
		for _, to := range []int{PayCreated, PayPaying} {
			if PayAdvances(failed, to) {
				t.Errorf("order %d moved back to %d", failed, to)
			}
		}
	}
}

func TestTransAdvances(t *testing.T) {
	forward := map[move]bool{
		{0, 1}: true, {0, 2}: true, {0, 3}: true, {0, 4}: true,
		{1, 2}: true, {1, 3}: true, {1, 4}: true,
		{9, 2}: true, {9, 3}: true, {9, 4}: true,
		{-1, 2}: true, {-1, 3}: true, {-1, 4}: true,
	}
	all := []int{0, 1, 2, 3, 4, 9, -1}
	for _, from := range all {
		for _, to := range all {
			want := forward[move{from, to}]
			if got := TransAdvances(from, to); got != want {
				t.Errorf("TransAdvances(%d, %d) = %v, want %v", from, to, got, want)
			}
		}
	}
}

func TestStatusPredicates(t *testing.T) {
	tests := []struct {
		s                                 int
		paid, payFinal, transFinal, trSuc bool
		payText, transText                string
	}{
		{0, false, false, false, false, "created", "created"},
		{1, false, false, false, false, "paying", "transferring"},
		{2, true, true, true, true, "paid", "succeeded"},
		{3, true, true, true, false, "paid (acknowledged)", "failed"},
		{4, false, true, true, true, "refunded", "succeeded (completed)"},
		{5, false, true, false, false, "failed", "status 5"},
		{-1, false, true, false, false, "failed", "status -1"},
		{-2, false, true, false, false, "expired", "status -2"},
		{42, false, false, false, false, "status 42", "status 42"},
	}
	for _, tt := range tests {
		got := fmt.Sprint(IsPaid(tt.s), PayFinal(tt.s), TransFinal(tt.s), IsTransSucceeded(tt.s), PayStatusText(tt.s), TransStatusText(tt.s))
		want := fmt.Sprint(tt.paid, tt.payFinal, tt.transFinal, tt.trSuc, tt.payText, tt.transText)
		if got != want {
			t.Errorf("status %d: got %s, want %s", tt.s, got, want)
		}
	}
	if !IsPayFailed(5) || !IsPayFailed(-1) || IsPayFailed(-2) || IsPayFailed(0) {
		t.Errorf("IsPayFailed wrong")
	}
}
