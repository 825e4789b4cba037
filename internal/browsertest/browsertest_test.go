package browsertest

import (
	"path/filepath"
	"testing"
)

func TestExecPathPrefersTheEnvironment(t *testing.T) {
	want := filepath.Join(t.TempDir(), "my-chromium")
	t.Setenv("PAYDESK_CHROMIUM", want)
	if got := ExecPath(); got != want {
		t.Fatalf("ExecPath() = %q, want %q", got, want)
	}
}

func TestRequired(t *testing.T) {
	for _, tt := range []struct {
		v    string
		want bool
	}{{"required", true}, {"", false}, {"1", false}, {"skip", false}} {
		t.Setenv(Env, tt.v)
		if got := Required(); got != tt.want {
			t.Errorf("%s=%q: Required() = %v", Env, tt.v, got)
		}
	}
}

func TestTestIDQuotes(t *testing.T) {
	if got := string(TestID(`a"b`)); got != `[data-testid="a\"b"]` {
		t.Fatalf("TestID = %s", got)
	}
}
