package main

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A bad value in the environment or a flag stops start-up with a sentence
// naming it, before anything is opened or listened on.
func TestConfigRefusesBadValues(t *testing.T) {
	tests := []struct {
		env  map[string]string
		args []string
		want string
	}{
		{map[string]string{"PAYDESK_GATEWAY_TIMEOUT": "15"}, nil, `PAYDESK_GATEWAY_TIMEOUT: "15" is not a duration (write it like 15s or 2m)`},
		{map[string]string{"PAYDESK_PAYOUT_BACKOFF": "-1s"}, nil, `PAYDESK_PAYOUT_BACKOFF: "-1s" is not a duration`},
		{map[string]string{"PAYDESK_PAYOUT_FOLLOW_UP": "soon"}, nil, `PAYDESK_PAYOUT_FOLLOW_UP: "soon" is not a duration`},
		{map[string]string{"PAYDESK_IDLE_TIMEOUT": "0"}, nil, `PAYDESK_IDLE_TIMEOUT: "0" is not a duration`},
		{map[string]string{"PAYDESK_SESSION_LIFETIME": "12"}, nil, `PAYDESK_SESSION_LIFETIME: "12" is not a duration`},
		{map[string]string{"PAYDESK_SECURE_COOKIES": "maybe"}, nil, `PAYDESK_SECURE_COOKIES: "maybe" is not on or off`},
		{map[string]string{"PAYDESK_TRUST_PROXY": "2"}, nil, `PAYDESK_TRUST_PROXY: "2" is not on or off`},
		{map[string]string{"PAYDESK_SANDBOX": "disabled"}, nil, `PAYDESK_SANDBOX: "disabled" is not on or off`},
		{map[string]string{"PAYDESK_SANDBOX_TIME_SCALE": "fast"}, nil, `PAYDESK_SANDBOX_TIME_SCALE: "fast" is not a number above 0`},
		{map[string]string{"PAYDESK_SANDBOX_TIME_SCALE": "0"}, nil, `PAYDESK_SANDBOX_TIME_SCALE: "0" is not a number above 0`},
		{map[string]string{"PAYDESK_SANDBOX_FAULTS": "earthquake"}, nil, `PAYDESK_SANDBOX_FAULTS: sandbox: unknown fault "earthquake"`},
		{map[string]string{"PAYDESK_ZONE": "Mars/Olympus"}, nil, `zone "Mars/Olympus"`},
		{nil, []string{"-idle-timeout", "15"}, `invalid value "15" for flag -idle-timeout: not a duration (write it like 15s or 2m)`},
		{nil, []string{"-session-lifetime=forever"}, `invalid value "forever" for flag -session-lifetime: not a duration`},
		{nil, []string{"-secure-cookies=perhaps"}, `invalid boolean value "perhaps" for -secure-cookies: not on or off`},
	}
	for _, tt := range tests {
		var out syncBuffer
		args := append([]string{"-addr", "127.0.0.1:0", "-data", t.TempDir(), "-sandbox-addr", "127.0.0.1:0"}, tt.args...)
		err := run(context.Background(), args, func(k string) string { return tt.env[k] }, nil, &out)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v %v: %v, want start-up stopped saying %q", tt.env, tt.args, err, tt.want)
		}
		if strings.Contains(out.String(), "paydesk is listening") {
			t.Errorf("%v %v: the console started", tt.env, tt.args)
		}
	}
}

// Good values in every spelling are read into the one Config.
func TestConfigReadsEveryValue(t *testing.T) {
	env := map[string]string{
		"PAYDESK_GATEWAY_TIMEOUT": "2s", "PAYDESK_PAYOUT_BACKOFF": "250ms", "PAYDESK_PAYOUT_FOLLOW_UP": "1m",
		"PAYDESK_SECURE_COOKIES": "YES", "PAYDESK_TRUST_PROXY": "on", "PAYDESK_SANDBOX": "off",
		"PAYDESK_SANDBOX_TIME_SCALE": "0.01", "PAYDESK_PUBLIC_URL": "https://pay.example.com", "PAYDESK_ZONE": "UTC",
	}
	c, err := loadConfig([]string{"-trust-proxy=false"}, func(k string) string { return env[k] }, &syncBuffer{})
	if err != nil {
		t.Fatal(err)
	}
	if c.GatewayTimeout != 2*time.Second || c.PayoutBackoff != 250*time.Millisecond || c.PayoutFollowUp != time.Minute ||
		!c.SecureCookies || c.TrustProxy || !c.SandboxOff || c.Sandbox.TimeScale != 0.01 ||
		c.PublicURL != "https://pay.example.com" || c.Location.String() != "UTC" {
		t.Errorf("config: %+v", c)
	}
}
