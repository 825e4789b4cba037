// Package browsertest holds what Paydesk's browser tests share: starting
// Debian's chromium under chromedp, the skip-or-fail rule when it is
// missing, screenshots, and small steps keyed on data-testid attributes.
//
// A test that needs a browser calls New first:
//
//	ctx := browsertest.New(t)
//	err := chromedp.Do(ctx, chromedp.Navigate(url), browsertest.Click("login-submit"))
//	browsertest.Screenshot(t, ctx, "login")
//
// Without chromium the test is skipped with a message, unless the
// environment variable PAYDESK_BROWSER_TESTS is "required" (CI sets it),
// in which case it fails. Only test code imports this package.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Env is the environment variable that makes browser tests required.
const Env = "PAYDESK_BROWSER_TESTS"

// ScreenshotEnv names a folder to keep screenshots in; without it they go
// to the test's temporary folder and vanish with it.
const ScreenshotEnv = "PAYDESK_SCREENSHOTS"

// Timeout bounds one test's whole browser session.
const Timeout = 90 * time.Second

// chromiumPaths are where Debian and other systems put the browser.
var chromiumPaths = []string{"/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"}

// ExecPath returns the browser to run, or "" when none is installed.
func ExecPath() string {
	if p := os.Getenv("PAYDESK_CHROMIUM"); p != "" {
		return p
	}
	for _, p := range chromiumPaths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	return ""
}

// Required reports whether browser tests must run (PAYDESK_BROWSER_TESTS=required).
func Required() bool { return os.Getenv(Env) == "required" }

// New starts a headless chromium for t and returns a chromedp context on a
// fresh tab; everything is closed when t ends. Without chromium it skips t,
// or fails it when browser tests are required. In -short mode it skips
// unless required.
func New(t testing.TB) context.Context {
	t.Helper()
	return NewFor(t, Timeout)
}

// NewFor is New with the whole session bounded by d instead of Timeout,
// for a test that visits many pages.
func NewFor(t testing.TB, d time.Duration) context.Context {
	t.Helper()
	return NewIn(t, d, "en-US")
}

// NewIn is NewFor with a browser whose language (its Accept-Language) is
// lang, such as "zh-CN".
func NewIn(t testing.TB, d time.Duration, lang string) context.Context {
	t.Helper()
	path := ExecPath()
	if path == "" {
		if Required() {
			t.Fatalf("browser tests are required (%s=required) but chromium is not installed: apt-get install -y chromium", Env)
		}
		t.Skipf("chromium is not installed (apt-get install -y chromium); skipping the browser test. Set %s=required to make this a failure.", Env)
	}
	if testing.Short() && !Required() {
		t.Skip("browser test skipped in -short mode")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("lang", lang),
		chromedp.Flag("accept-lang", lang),
		chromedp.WindowSize(1280, 860),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, args ...any) {
		// chromedp reports unknown protocol events here; they are noise.
	}))
	// The first Run starts the browser; its context must not carry the
	// timeout (a timeout there would stop the browser).
	if err := chromedp.Do(ctx); err != nil {
		cancelCtx()
		cancelAlloc()
		if Required() {
			t.Fatalf("start chromium at %s: %v", path, err)
		}
		t.Skipf("chromium at %s does not start (%v); skipping. Set %s=required to make this a failure.", path, err, Env)
	}
	tctx, cancelT := context.WithTimeout(ctx, d)
	t.Cleanup(func() {
		cancelT()
		cancelCtx()
		cancelAlloc()
	})
	return tctx
}

// TestID is a CSS selector for the element with data-testid id.
func TestID(id string) chromedp.CSS { return chromedp.CSS(fmt.Sprintf("[data-testid=%q]", id)) }

// Click clicks the element with data-testid id.
func Click(id string) chromedp.Action[chromedp.Void] { return chromedp.Click(TestID(id)) }

// Type types text into the field with data-testid id, or, when id starts
// with "name=", into the field with that name.
func Type(id, text string) chromedp.Action[chromedp.Void] {
	if name, ok := strings.CutPrefix(id, "name="); ok {
		return chromedp.SendKeys(chromedp.CSS(fmt.Sprintf("[name=%q]", name)), text)
	}
	return chromedp.SendKeys(TestID(id), text)
}

// Visible waits until the element with data-testid id is shown.
func Visible(id string) chromedp.Action[chromedp.Void] { return chromedp.WaitVisible(TestID(id)) }

// Text returns the text of the element with data-testid id.
func Text(ctx context.Context, id string) (string, error) {
	return chromedp.Run(ctx, chromedp.Text(TestID(id)))
}

// Location returns the current page's URL.
func Location(ctx context.Context) (string, error) { return chromedp.Run(ctx, chromedp.Location()) }

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot saves a full-page PNG named name.png and returns its path: in
// $PAYDESK_SCREENSHOTS/<test name>/ when set, otherwise in the test's
// temporary folder. A failed screenshot fails the test.
func Screenshot(t testing.TB, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := t.TempDir()
	if d := os.Getenv(ScreenshotEnv); d != "" {
		dir = filepath.Join(d, unsafeName.ReplaceAllString(t.Name(), "_"))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, unsafeName.ReplaceAllString(name, "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
	return path
}
