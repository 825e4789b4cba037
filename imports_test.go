package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestImportDirection keeps the packages' imports pointing one way, as
// STYLE.md says: main → web → {views, store, payments}; payments/sandbox →
// payments; payments on the standard library alone.
func TestImportDirection(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("the go command is not on PATH")
	}
	rules := []struct {
		pkg       string
		forbidden []string // module packages it must not depend on (prefix match)
		stdOnly   bool     // outside the module, only the standard library
	}{
		{pkg: "paydesk/views", forbidden: []string{"paydesk/store", "paydesk/payments", "paydesk/web"}},
		{pkg: "paydesk/store", forbidden: []string{"paydesk/web", "paydesk/views", "paydesk/payments"}},
		{pkg: "paydesk/payments", forbidden: []string{"paydesk/web", "paydesk/views", "paydesk/store", "paydesk/payments/sandbox"}, stdOnly: true},
		{pkg: "paydesk/payments/sandbox", forbidden: []string{"paydesk/web", "paydesk/views", "paydesk/store"}},
		{pkg: "paydesk/web", forbidden: []string{"paydesk/payments/sandbox", "paydesk/internal/browsertest"}},
	}
	for _, r := range rules {
		t.Run(r.pkg, func(t *testing.T) {
			out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}} {{.Standard}}", r.pkg).CombinedOutput()
			if err != nil {
				if strings.Contains(string(out), "is not in std") || strings.Contains(string(out), "no required module") || strings.Contains(string(out), "cannot find") || strings.Contains(string(out), "directory not found") {
					t.Skipf("%s does not exist yet", r.pkg)
				}
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
				if r.stdOnly && std != "true" && !strings.HasPrefix(dep, r.pkg+"/") && dep != r.pkg {
					t.Errorf("%s depends on %s, outside the standard library", r.pkg, dep)
				}
			}
		})
	}
}
