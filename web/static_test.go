package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

// /static/ serves files but lists no folder.
func TestStaticListsNoFolder(t *testing.T) {
	env := newTestEnv(t)
	static := fstest.MapFS{
		"app.css":      {Data: []byte("body{}")},
		"img/logo.svg": {Data: []byte("<svg/>")},
	}
	ts := httptest.NewServer(env.srv.Handler(static))
	defer ts.Close()
	get := func(path string) (int, string) {
		t.Helper()
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Get(ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, path := range []string{"/static/", "/static/img/", "/static/img", "/static/./", "/static/img/../", "/static/nope.css"} {
		status, body := get(path)
		if status != http.StatusNotFound || strings.Contains(body, "app.css") || strings.Contains(body, "logo.svg") {
			t.Errorf("GET %s: %d %q, want 404 without a listing", path, status, body)
		}
	}
	for path, want := range map[string]string{"/static/app.css": "body{}", "/static/img/logo.svg": "<svg/>"} {
		if status, body := get(path); status != http.StatusOK || body != want {
			t.Errorf("GET %s: %d %q", path, status, body)
		}
	}
}
