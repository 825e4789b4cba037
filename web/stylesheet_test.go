package web

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// The console's font stack names Latin fonts first, then the Chinese
// system fonts of macOS, Windows and Linux, so that Latin letters and
// digits keep their shapes and Chinese text never falls back to boxes.
func TestStylesheetFontStackNamesChineseFontsAfterLatin(t *testing.T) {
	css, err := os.ReadFile("../static/app.css")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`--font:\s*([^;]+);`).FindSubmatch(css)
	if m == nil {
		t.Fatal("app.css sets no --font")
	}
	var fonts []string
	for _, f := range strings.Split(string(m[1]), ",") {
		fonts = append(fonts, strings.Trim(strings.TrimSpace(f), `"`))
	}
	at := func(name string) int {
		for i, f := range fonts {
			if f == name {
				return i
			}
		}
		t.Errorf("the font stack %q does not name %s", fonts, name)
		return -1
	}
	latin := max(at("Segoe UI"), at("Roboto"), at("Arial"))
	cjk := []int{at("PingFang SC"), at("Microsoft YaHei"), at("Noto Sans CJK SC")}
	for _, i := range cjk {
		if i <= latin {
			t.Errorf("the font stack %q names a Chinese font before a Latin one", fonts)
		}
	}
	if fonts[len(fonts)-1] != "sans-serif" {
		t.Errorf("the font stack %q does not end with the generic sans-serif", fonts)
	}
}
