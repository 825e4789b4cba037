package sandbox

import (
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestImports keeps the sandbox on the standard library and package
// payments: it must never reach into the console (web, store, views).
func TestImports(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(token.NewFileSet(), name, nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			first, _, _ := strings.Cut(path, "/")
			if path != "paydesk/payments" && (strings.Contains(first, ".") || first == "paydesk") {
				t.Errorf("%s imports %s: the sandbox uses the standard library and paydesk/payments only", name, path)
			}
		}
		checked++
	}
	if checked < 5 {
		t.Errorf("checked only %d files", checked)
	}
}
