package web

import (
	"bufio"
	"bytes"
	"fmt"
	"html"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"paydesk/store"
)

// postRoutes lists every POST route of the console but the gateway's
// callbacks (stored raw as they come, whatever their size), as paths.
func postRoutes(s *Server) []string {
	var paths []string
	for _, rt := range s.routes() {
		if rt.method == http.MethodPost && !strings.HasPrefix(rt.pattern, "/notify/") {
			paths = append(paths, concretePath(rt.pattern))
		}
	}
	return paths
}

// Every form route answers a body above the limit with 413 and a
// sentence, whatever it would do with the form, and does nothing.
func TestOversizedBodies(t *testing.T) {
	const limit = 64 << 10
	env := newTestEnv(t, func(c *testConfig) { c.MaxFormBytes = limit })
	adm, _ := env.signedIn(store.RoleAdmin)
	big := "x=" + strings.Repeat("a", limit)
	paths := postRoutes(env.srv)
	if len(paths) < 20 {
		t.Fatalf("only %d POST routes", len(paths))
	}
	before := env.fingerprint()
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			var req *http.Request
			want := "What you sent is too large: the console takes at most 64 KiB in one form."
			if path == "/payouts/batches" {
				var body bytes.Buffer
				mw := multipart.NewWriter(&body)
				fw, _ := mw.CreateFormFile("file", "big.csv")
				fw.Write(bytes.Repeat([]byte("a,b,c\n"), maxUploadBytes/6+1))
				mw.Close()
				req, _ = http.NewRequest("POST", env.ts.URL+path, &body)
				req.Header.Set("Content-Type", mw.FormDataContentType())
				want = "The file is larger than 32 MiB. Split it into smaller files (at most 100,000 rows each)."
			} else {
				req, _ = http.NewRequest("POST", env.ts.URL+path, strings.NewReader(big))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			req.Header.Set("Origin", env.ts.URL)
			res := adm.do(req)
			if res.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(html.UnescapeString(res.body), want) {
				t.Errorf("status %d, want 413 with %q: %.300s", res.StatusCode, want, res.body)
			}
		})
	}
	// Bodies the routes do not read as forms count all the same.
	for _, ct := range []string{"multipart/form-data; boundary=xyz", "application/json", ""} {
		req, _ := http.NewRequest("POST", env.ts.URL+"/logout", strings.NewReader(big))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		req.Header.Set("Origin", env.ts.URL)
		if res := adm.do(req); res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%q body: status %d, want 413", ct, res.StatusCode)
		}
	}
	if after := env.fingerprint(); after != before {
		t.Fatalf("oversized bodies changed something:\n%s\n%s", before, after)
	}
	if res := adm.get("/account"); res.StatusCode != http.StatusOK {
		t.Fatalf("the admin was signed out by an oversized body: %d", res.StatusCode)
	}
}

// A body that stops arriving is answered 408 with a sentence once the
// server's ReadTimeout has passed, on every form route, and nothing is
// done: the console runs behind the same http.Server as in main.
func TestSlowBodies(t *testing.T) {
	env := newTestEnv(t, func(c *testConfig) { c.ReadTimeout = 700 * time.Millisecond })
	adm, _ := env.signedIn(store.RoleAdmin)
	u, _ := url.Parse(env.ts.URL)
	var cookies []string
	for _, c := range adm.c.Jar.Cookies(u) {
		cookies = append(cookies, c.Name+"="+c.Value)
	}
	hs := env.srv.HTTPServer(testStatic())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	t.Cleanup(func() { hs.Close() })

	before := env.fingerprint()
	paths := postRoutes(env.srv)
	type result struct {
		path, status, body string
		err                error
	}
	results := make([]result, len(paths))
	var wg sync.WaitGroup
	for i, path := range paths {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ct, part := "application/x-www-form-urlencoded", "note=checked&reason=wr"
			if path == "/payouts/batches" {
				ct, part = "multipart/form-data; boundary=xyz", "--xyz\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\r\nname,amou"
			}
			status, body, err := stall(ln.Addr().String(), path, ct, strings.Join(cookies, "; "), part, 1000)
			results[i] = result{path, status, body, err}
		}()
	}
	wg.Wait()
	for _, r := range results {
		want := "What you sent did not arrive in time, so nothing was done."
		if r.err != nil || !strings.HasPrefix(r.status, "HTTP/1.1 408") || !strings.Contains(html.UnescapeString(r.body), want) {
			t.Errorf("%s: %q %v, want 408 with %q: %.300s", r.path, r.status, r.err, want, r.body)
		}
	}
	if after := env.fingerprint(); after != before {
		t.Fatalf("slow bodies changed something:\n%s\n%s", before, after)
	}
}

// stall sends a POST whose headers announce length bytes of body, sends
// part of it, and waits for the answer.
func stall(addr, path, contentType, cookie, part string, length int) (status, body string, err error) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		return "", "", err
	}
	defer c.Close()
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: %s\r\nAccept-Language: en\r\nContent-Type: %s\r\nContent-Length: %d\r\nCookie: %s\r\n\r\n%s", path, addr, contentType, length, cookie, part)
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", "", err
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.Proto + " " + res.Status, string(b), nil
}
