package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"paydesk/desk"
	bt "paydesk/internal/browsertest"
	"paydesk/store"
)

// TestBrowserTwoFactor is two-factor sign-in in a real browser against the
// real program: an admin sets it up from the QR page (the test reads the
// secret off the page and makes codes with the same library an app uses),
// signs in with a code, then with a recovery code, which a second time is
// refused; requires it for everyone, which sends another user to set it up
// before anything else; and approves a batch above the step-up limit with
// their password typed again.
func TestBrowserTwoFactor(t *testing.T) {
	ctx := bt.New(t)
	dataDir := t.TempDir()
	const password = "browser-test-password"
	func() {
		db, err := store.Open(context.Background(), filepath.Join(dataDir, "paydesk.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		hash, _ := desk.HashPassword(password)
		for _, u := range [][2]string{{"ana", store.RoleAdmin}, {"maker", store.RoleOperator}, {"bob", store.RoleViewer}} {
			if _, err := db.CreateUser(context.Background(), u[0], u[1], hash, false); err != nil {
				t.Fatal(err)
			}
		}
	}()
	c := startConsole(t, dataDir, map[string]string{"PAYDESK_SANDBOX_TIME_SCALE": "0.01"})

	shot := func(name string) {
		t.Helper()
		bt.Screenshot(t, ctx, name)
	}
	// phoneShot takes a screenshot at a phone's width, then returns to the desktop.
	phoneShot := func(name string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(390, 844)); err != nil {
			t.Fatal(err)
		}
		bt.Screenshot(t, ctx, name+"-phone")
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 860)); err != nil {
			t.Fatal(err)
		}
	}
	fail := func(what string, err error) {
		t.Helper()
		loc, _ := bt.Location(ctx)
		shot("failed")
		t.Fatalf("%s: %v (at %s)", what, err, loc)
	}
	password1 := func(user string) error {
		return chromedp.Do(ctx,
			chromedp.Navigate(c.URL+"/login"),
			bt.Visible("login-form"),
			bt.Type("name=username", user),
			bt.Type("name=password", password),
			bt.Click("login-submit"),
		)
	}
	signIn := func(user string) {
		t.Helper()
		if err := password1(user); err != nil {
			fail("password of "+user, err)
		}
		if err := chromedp.Do(ctx, bt.Visible("whoami")); err != nil {
			fail("sign in as "+user, err)
		}
	}
	signOut := func() {
		t.Helper()
		if err := chromedp.Do(ctx, bt.Click("logout"), bt.Visible("login-form")); err != nil {
			fail("sign out", err)
		}
	}

	// The maker sends a batch of ¥55,000.00 for approval: above the
	// default step-up limit of ¥50,000.00.
	csvPath := filepath.Join(t.TempDir(), "large.csv")
	file := "账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,省份/province,城市/city\r\n" +
		"收款人甲,6222020200000000011,\"30,000.00\",HPT00003,上海,上海\r\n" +
		"收款人乙,6222020200000000022,\"25,000.00\",HPT00005,上海,上海\r\n"
	if err := os.WriteFile(csvPath, []byte(file), 0o644); err != nil {
		t.Fatal(err)
	}
	signIn("maker")
	err := chromedp.Do(ctx,
		chromedp.Navigate(c.URL+"/payouts/batches"),
		bt.Visible("upload-form"),
		chromedp.SetUploadFiles(bt.TestID("upload-file"), []string{csvPath}),
		bt.Click("upload-submit"),
		bt.Visible("control-count"),
		bt.Type("control-count", "2"),
		bt.Type("control-sum", "55,000.00"),
		bt.Click("send-approval"),
		bt.Visible("approval"),
	)
	if err != nil {
		fail("send the batch for approval", err)
	}
	batchURL, _ := bt.Location(ctx)
	signOut()

	// Ana sets up two-factor sign-in from her account page.
	signIn("ana")
	err = chromedp.Do(ctx,
		chromedp.Navigate(c.URL+"/account"),
		bt.Click("manage-two-factor"),
		bt.Visible("enrol-start"),
		bt.Click("enrol-start"),
		bt.Visible("totp-secret"),
	)
	if err != nil {
		fail("start enrolment", err)
	}
	shot("01-enrol")
	phoneShot("01-enrol")
	grouped, _ := bt.Text(ctx, "totp-secret")
	secret := strings.ReplaceAll(grouped, " ", "")
	if len(secret) != 32 || !strings.Contains(grouped, " ") {
		t.Fatalf("secret on the page %q", grouped)
	}
	if w, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector("[data-testid=totp-qr]").naturalWidth`)); w < 100 {
		t.Fatalf("QR code image %v px wide", w)
	}
	code := func(at time.Time) string {
		t.Helper()
		s, err := totp.GenerateCode(secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	err = chromedp.Do(ctx,
		bt.Type("confirm-code", code(time.Now())),
		bt.Click("confirm-submit"),
		bt.Visible("recovery-codes"),
	)
	if err != nil {
		fail("confirm enrolment", err)
	}
	codes, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("[data-testid=recovery-codes] code")].map(e => e.textContent)`))
	if err != nil || len(codes) != 10 {
		t.Fatalf("recovery codes %q: %v", codes, err)
	}
	shot("02-recovery-codes")
	phoneShot("02-recovery-codes")
	if err := chromedp.Do(ctx, bt.Click("codes-done"), bt.Visible("whoami")); err != nil {
		fail("after the codes", err)
	}
	signOut()

	// Sign in with a code. The step that confirmed enrolment is spent, so
	// the code is the next step's, as a phone a little ahead would show.
	if err := password1("ana"); err != nil {
		fail("password", err)
	}
	if err := chromedp.Do(ctx, bt.Visible("code-form")); err != nil {
		fail("code page", err)
	}
	shot("03-code-page")
	phoneShot("03-code-page")
	if err := chromedp.Do(ctx, bt.Type("code", code(time.Now().Add(30*time.Second))), bt.Click("code-submit"), bt.Visible("whoami")); err != nil {
		fail("sign in with a code", err)
	}
	signOut()

	// Sign in with a recovery code; a second time it is refused.
	if err := password1("ana"); err != nil {
		fail("password", err)
	}
	if err := chromedp.Do(ctx, bt.Visible("code-form"), bt.Type("code", codes[0]), bt.Click("code-submit"), bt.Visible("flash")); err != nil {
		fail("sign in with a recovery code", err)
	}
	if f, _ := bt.Text(ctx, "flash"); !strings.Contains(f, "9 are left") {
		t.Errorf("after a recovery code: %q", f)
	}
	shot("04-recovery-code-used")
	signOut()
	if err := password1("ana"); err != nil {
		fail("password", err)
	}
	if err := chromedp.Do(ctx, bt.Visible("code-form"), bt.Type("code", codes[0]), bt.Click("code-submit"), bt.Visible("error")); err != nil {
		fail("reuse a recovery code", err)
	}
	if msg, _ := bt.Text(ctx, "error"); !strings.Contains(msg, "That code is not right") {
		t.Errorf("reused recovery code: %q", msg)
	}
	shot("05-recovery-code-reused")
	if err := chromedp.Do(ctx, bt.Type("code", codes[1]), bt.Click("code-submit"), bt.Visible("whoami")); err != nil {
		fail("another recovery code", err)
	}

	// Two-factor for everyone.
	err = chromedp.Do(ctx,
		chromedp.Navigate(c.URL+"/settings/security"),
		bt.Visible("security-settings"),
		bt.Click("require-two-factor"),
		bt.Click("settings-save"),
		bt.Visible("flash"),
	)
	if err != nil {
		fail("require two-factor", err)
	}
	shot("06-security-settings")

	// The large batch asks for the password again.
	if err := chromedp.Do(ctx, chromedp.Navigate(batchURL), bt.Click("review-open"), bt.Visible("step-up")); err != nil {
		fail("approval form with step-up", err)
	}
	shot("07-step-up")
	phoneShot("07-step-up")
	err = chromedp.Do(ctx,
		bt.Type("step-up", "not-my-password"),
		bt.Click("approve"),
		bt.Visible("approval-error"),
	)
	if err != nil {
		fail("wrong step-up", err)
	}
	if msg, _ := bt.Text(ctx, "approval-error"); !strings.Contains(msg, "Nothing was approved.") {
		t.Errorf("wrong step-up says %q", msg)
	}
	shot("08-step-up-wrong")
	err = chromedp.Do(ctx,
		bt.Type("step-up", password),
		bt.Click("approve"),
		bt.Visible("batch-progress"),
	)
	if err != nil {
		fail("approve with step-up", err)
	}
	if by, _ := bt.Text(ctx, "approved-by"); !strings.Contains(by, "ana") {
		t.Errorf("approved by %q", by)
	}
	shot("09-approved")
	signOut()

	// Bob has no two-factor: right after his password he is sent to set it up.
	signIn("bob")
	if err := chromedp.Do(ctx, bt.Visible("enrol-required")); err != nil {
		fail("bob sent to enrolment", err)
	}
	shot("10-enrol-required")
	phoneShot("10-enrol-required")
	if err := chromedp.Do(ctx, chromedp.Navigate(c.URL+"/payments"), bt.Visible("enrol-required")); err != nil {
		fail("bob on /payments", err)
	}
	if loc, _ := bt.Location(ctx); !strings.HasSuffix(loc, "/account/two-factor") {
		t.Errorf("bob reached %s before setting up two-factor", loc)
	}
	signOut()

	// The users page shows who signs in with two-factor.
	if err := password1("ana"); err != nil {
		fail("password", err)
	}
	err = chromedp.Do(ctx, bt.Visible("code-form"), bt.Type("code", codes[2]), bt.Click("code-submit"), bt.Visible("whoami"),
		chromedp.Navigate(c.URL+"/settings/users"), bt.Visible("users"))
	if err != nil {
		fail("users page", err)
	}
	if row, _ := bt.Text(ctx, "user-ana"); !strings.Contains(row, "two-factor") {
		t.Errorf("ana's row: %q", row)
	}
	if row, _ := bt.Text(ctx, "user-bob"); strings.Contains(row, "two-factor") {
		t.Errorf("bob's row: %q", row)
	}
	shot("11-users")
}
