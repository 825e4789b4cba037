package desk

import (
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// The enrolment's QR code carries an otpauth URI naming the console and
// the user; a code of the secret is accepted for its own 30 s step and
// its neighbours only.
func TestTOTPURIAndSteps(t *testing.T) {
	secret, err := newTOTPSecret("li.na")
	if err != nil {
		t.Fatal(err)
	}
	uri, err := totpURI("li.na", secret)
	if err != nil || !strings.HasPrefix(uri, "otpauth://totp/Paydesk:li.na?") || !strings.Contains(uri, "issuer=Paydesk") {
		t.Fatalf("otpauth URI %q %v", uri, err)
	}
	now := time.Unix(1_800_000_000, 0)
	for _, tt := range []struct {
		at time.Time
		ok bool
	}{{now, true}, {now.Add(-30 * time.Second), true}, {now.Add(30 * time.Second), true}, {now.Add(-90 * time.Second), false}, {now.Add(2 * time.Minute), false}} {
		code, _ := totp.GenerateCode(secret, tt.at)
		if _, ok := totpStep(secret, code, now); ok != tt.ok {
			t.Errorf("code of %s at %s: accepted %v", tt.at.Sub(now), now, ok)
		}
	}
	if got := normalRecoveryCode(" AbCd-EfGh ioL0 "); got != "abcdefgh1010" {
		t.Errorf("normalised recovery code %q", got)
	}
}
