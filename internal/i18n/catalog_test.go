package i18n

import (
	"encoding/json"
	"flag"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "add the keys the code uses to messages/en.json (as themselves) and drop the keys no code uses from both files")

// keyCalls are the functions whose arguments at the indexes given are
// message keys, by name: a method or package function (selector) or a
// plain function of the package calling it.
var keyCalls = map[string][]int{
	"T":           {0}, // Printer.T and the helpers named after it
	"i18n.M":      {0},
	"i18n.N":      {0},
	"t":           {1},    // views: t(ctx, key, args...)
	"textField":   {1, 4}, // views: textField(name, label, value, errs, placeholder, required)
	"numberField": {1, 4},
	"refuse":      {1},    // desk: refuse(kind, format, args...)
	"refuseField": {1},    // desk: refuseField(field, format, args...)
	"errStatus":   {1},    // web: errStatus(status, format, args...)
	"page":        {1},    // web: s.page(r, title, section)
	"pagef":       {2},    // web: s.pagef(r, section, title, args...)
	"fileErr":     {0},    // payoutcsv: fileErr(format, args...)
	"notText":     {4, 5}, // payoutcsv: notText(cr, next, found, bad, one, many)
}

// keyFields are composite literal fields holding a key: desk.Refusal's.
var keyFields = map[string]bool{"Format": true}

// usedKeys finds every message key in the module's non-test Go files
// (the generated templ code included) with go/ast: literal first
// arguments of keyCalls and literal keyFields.
func usedKeys(t *testing.T, root string) map[string][]string {
	t.Helper()
	keys := map[string][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && p != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		add := func(e ast.Expr) {
			if s, ok := literal(e); ok && s != "" {
				keys[s] = append(keys[s], fset.Position(e.Pos()).String())
			}
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				name := ""
				switch fn := n.Fun.(type) {
				case *ast.Ident:
					name = fn.Name
				case *ast.SelectorExpr:
					name = fn.Sel.Name
					if x, ok := fn.X.(*ast.Ident); ok && x.Name == "i18n" {
						name = "i18n." + fn.Sel.Name
					}
				}
				for _, i := range keyCalls[name] {
					if i < len(n.Args) {
						add(n.Args[i])
					}
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && keyFields[k.Name] {
					add(n.Value)
				}
			case *ast.CompositeLit:
				if sel, ok := n.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Message" {
					if x, ok := sel.X.(*ast.Ident); ok && x.Name == "i18n" {
						for _, e := range n.Elts {
							if kv, ok := e.(*ast.KeyValueExpr); ok {
								if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Key" {
									add(kv.Value)
								}
							}
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// literal is the value of a string literal, or of literals joined by +.
func literal(e ast.Expr) (string, bool) {
	switch e := e.(type) {
	case *ast.BasicLit:
		if e.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(e.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if e.Op != token.ADD {
			return "", false
		}
		a, ok1 := literal(e.X)
		b, ok2 := literal(e.Y)
		return a + b, ok1 && ok2
	case *ast.ParenExpr:
		return literal(e.X)
	}
	return "", false
}

// TestCatalogueComplete: both files hold the same keys; every key the
// code uses is in them and every key in them is used; plural entries have
// the forms each language needs; a translation uses the same verbs as its
// key, so no argument is lost or misprinted.
func TestCatalogueComplete(t *testing.T) {
	used := usedKeys(t, "../..")
	if *update {
		updateFiles(t, used)
	}
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	en, zh := c.Keys(En), c.Keys(ZhCN)
	for _, k := range en {
		if !slices.Contains(zh, k) {
			t.Errorf("zh-CN.json lacks %q", k)
		}
	}
	for _, k := range zh {
		if !slices.Contains(en, k) {
			t.Errorf("en.json lacks %q (zh-CN.json has it)", k)
		}
	}
	var missing []string
	for k := range used {
		if !slices.Contains(en, k) || !slices.Contains(zh, k) {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	for _, k := range missing {
		t.Errorf("%q is used in the code (%s) but not in both message files", k, used[k][0])
	}
	for _, k := range en {
		if _, ok := used[k]; !ok {
			t.Errorf("%q is in the message files but no code uses it (run with -update to drop it)", k)
		}
	}
	for _, k := range en {
		enForms, zhForms := c.PluralForms(En, k), c.PluralForms(ZhCN, k)
		if (enForms == nil) != (zhForms == nil) {
			t.Errorf("%q is a plural in one file only", k)
			continue
		}
		if enForms != nil && !slices.Equal(enForms, []string{"one", "other"}) {
			t.Errorf("en %q: plural forms %v, want one and other", k, enForms)
		}
		if zhForms != nil && !slices.Equal(zhForms, []string{"other"}) {
			t.Errorf("zh-CN %q: plural forms %v, want other only", k, zhForms)
		}
	}
	for _, l := range Langs() {
		for k, e := range c.entries[l] {
			texts := []string{e.Text}
			if e.Plural != nil {
				texts = []string{e.Plural.Other}
				if e.Plural.One != "" {
					texts = append(texts, e.Plural.One)
				}
			}
			for _, s := range texts {
				if a, b := verbs(k), verbs(s); !slices.Equal(a, b) {
					t.Errorf("%s %q: translation %q has verbs %v, the key %v", l, k, s, b, a)
				}
			}
		}
	}
}

// verbs lists the formatting verbs of a format string, with their
// argument numbers, sorted: "%[2]s %[1]d" and "%d %s" both give [1d 2s].
func verbs(s string) []string {
	var out []string
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			continue
		}
		i++
		if i < len(s) && s[i] == '%' {
			continue
		}
		arg := 0
		if i < len(s) && s[i] == '[' {
			j := strings.IndexByte(s[i:], ']')
			if j > 0 {
				arg, _ = strconv.Atoi(s[i+1 : i+j])
				i += j + 1
			}
		}
		for i < len(s) && strings.IndexByte("+-# 0123456789.", s[i]) >= 0 {
			i++
		}
		if i >= len(s) {
			break
		}
		if arg == 0 {
			n++
			arg = n
		} else {
			n = arg
		}
		out = append(out, strconv.Itoa(arg)+string(s[i]))
	}
	sort.Strings(out)
	return out
}

func TestVerbs(t *testing.T) {
	for _, c := range []struct {
		in   string
		want []string
	}{
		{"Row %d: %s", []string{"1d", "2s"}},
		{"第 %[1]d 行：%[2]s", []string{"1d", "2s"}},
		{"%[2]s 的 %[1]d", []string{"1d", "2s"}},
		{"100%% sure, %5.2f", []string{"1f"}},
	} {
		if got := verbs(c.in); !slices.Equal(got, c.want) {
			t.Errorf("verbs(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

// updateFiles adds the keys used in the code to en.json as themselves and
// drops unused keys from both files. zh-CN.json is written by hand.
func updateFiles(t *testing.T, used map[string][]string) {
	for _, l := range Langs() {
		name := filepath.Join("messages", string(l)+".json")
		m := map[string]entry{}
		if data, err := os.ReadFile(name); err == nil {
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
		}
		for k := range m {
			if _, ok := used[k]; !ok {
				delete(m, k)
			}
		}
		if l == En {
			for k := range used {
				if _, ok := m[k]; !ok {
					m[k] = entry{Text: k}
				}
			}
		}
		if err := writeFile(name, m); err != nil {
			t.Fatal(err)
		}
	}
}

// writeFile writes a message file: keys sorted, one a line, no HTML
// escaping, so that the file reads well and diffs well.
func writeFile(name string, m map[string]entry) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("{\n")
	for i, k := range keys {
		kb, err := marshal(k)
		if err != nil {
			return err
		}
		vb, err := marshal(m[k])
		if err != nil {
			return err
		}
		b.WriteString("  " + kb + ": " + vb)
		if i < len(keys)-1 {
			b.WriteString(",")
		}
		b.WriteString("\n")
	}
	b.WriteString("}\n")
	return os.WriteFile(name, []byte(b.String()), 0o644)
}

func marshal(v any) (string, error) {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", err
	}
	return strings.TrimSuffix(b.String(), "\n"), nil
}
