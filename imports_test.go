package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImportDirection keeps the packages' imports pointing one way, as
// README.md's "Layout of the code" draws them: main → web → desk →
// {store, payments}, web → views; payments/sandbox → payments; payments on
// the standard library alone; internal/money (every amount written or
// read) on the standard library alone, so the sandbox may use it too.
func TestImportDirection(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	rules := []struct {
		pkg       string
		forbidden []string // module packages it must not depend on (prefix match)
		stdOnly   bool     // besides allowed, only the standard library
		allowed   []string // module packages a stdOnly package may use
	}{
		{pkg: "paydesk/views", forbidden: []string{"paydesk/store", "paydesk/payments", "paydesk/web", "paydesk/desk"}},
		{pkg: "paydesk/store", forbidden: []string{"paydesk/web", "paydesk/views", "paydesk/payments", "paydesk/desk"}},
		{pkg: "paydesk/payments", stdOnly: true},
		{pkg: "paydesk/payments/sandbox", stdOnly: true, allowed: []string{"paydesk/payments", "paydesk/internal/money"}},
		{pkg: "paydesk/internal/money", stdOnly: true},
		{pkg: "paydesk/desk", forbidden: []string{"paydesk/web", "paydesk/views", "paydesk/payments/sandbox", "paydesk/internal/browsertest"}},
		{pkg: "paydesk/desk/payoutcsv", forbidden: []string{"paydesk/web", "paydesk/views", "paydesk/store", "paydesk/desk"}},
		{pkg: "paydesk/internal/i18n", forbidden: []string{"paydesk/store", "paydesk/payments", "paydesk/web", "paydesk/views", "paydesk/desk"}},
		{pkg: "paydesk/web", forbidden: []string{"paydesk/payments/sandbox", "paydesk/internal/browsertest"}},
	}
	for _, r := range rules {
		t.Run(r.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", r.pkg).CombinedOutput()
			if err != nil {
				t.Fatalf("go list %s: %v\n%s", r.pkg, err, out)
			}
			for line := range strings.Lines(string(out)) {
				dep, std, _ := strings.Cut(strings.TrimSpace(line), " ")
				if dep == r.pkg {
					continue
				}
				for _, f := range r.forbidden {
					if dep == f || strings.HasPrefix(dep, f+"/") {
						t.Errorf("%s depends on %s", r.pkg, dep)
					}
				}
				if r.stdOnly && std != "true" && !slices.Contains(r.allowed, dep) {
					t.Errorf("%s depends on %s: it may use only the standard library and %v", r.pkg, dep, r.allowed)
				}
			}
		})
	}
}
