package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	bt "paydesk/internal/browsertest"
)

// TestBrowserFirstAdminCreatesOperator is the first journey in a real
// browser against the real program: the first admin signs in with the
// generated password from the log, must choose a new one, creates an
// operator, signs out; the operator signs in, chooses a password, and is
// refused the users page.
func TestBrowserFirstAdminCreatesOperator(t *testing.T) {
	ctx := bt.New(t)
	c := startConsole(t, "", nil)
	adminPW := c.AdminPassword(t)

	// Signed out, the start page sends the browser to sign in.
	if err := chromedp.Do(ctx, chromedp.Navigate(c.URL+"/"), bt.Visible("login-form")); err != nil {
		t.Fatalf("sign-in page: %v", err)
	}
	bt.Screenshot(t, ctx, "01-sign-in")

	// A wrong password is answered with a sentence, on the same page.
	err := chromedp.Do(ctx,
		bt.Type("name=username", "admin"),
		bt.Type("name=password", "not-the-password"),
		bt.Click("login-submit"),
		bt.Visible("error"),
	)
	if err != nil {
		t.Fatalf("wrong password: %v", err)
	}
	if msg, _ := bt.Text(ctx, "error"); msg != "Wrong username or password." {
		t.Errorf("wrong password says %q", msg)
	}
	bt.Screenshot(t, ctx, "01b-sign-in-error")
	if err := chromedp.Do(ctx, chromedp.Navigate(c.URL+"/login"), bt.Visible("login-form")); err != nil {
		t.Fatal(err)
	}

	signInAndChoosePassword := func(user, pw, newPW string) {
		t.Helper()
		err := chromedp.Do(ctx,
			bt.Type("name=username", user),
			bt.Type("name=password", pw),
			bt.Click("login-submit"),
			bt.Visible("must-change"),
			chromedp.Func(func(context.Context, *chromedp.Target) error {
				bt.Screenshot(t, ctx, "choose-password-"+user)
				return nil
			}),
			bt.Type("name=current", pw),
			bt.Type("name=new", newPW),
			bt.Type("name=confirm", newPW),
			bt.Click("password-submit"),
			bt.Visible("flash"),
		)
		if err != nil {
			loc, _ := bt.Location(ctx)
			bt.Screenshot(t, ctx, "failed-"+user)
			t.Fatalf("%s signs in and chooses a password: %v (at %s)", user, err, loc)
		}
		if who, _ := bt.Text(ctx, "whoami"); who != user {
			t.Fatalf("signed in as %q, want %s", who, user)
		}
	}
	signInAndChoosePassword("admin", adminPW, "admin-own-password-1")
	if flash, _ := bt.Text(ctx, "flash"); !strings.Contains(flash, "password has been changed") {
		t.Errorf("flash after the change: %q", flash)
	}
	bt.Screenshot(t, ctx, "02-start")

	// The admin creates an operator and reads the generated password.
	err = chromedp.Do(ctx,
		chromedp.Navigate(c.URL+"/settings/users"),
		bt.Visible("new-user-form"),
		bt.Type("new-username", "oscar"),
		chromedp.SetValue(bt.TestID("new-role"), "operator"),
		bt.Click("create-user"),
		bt.Visible("issued-secret"),
	)
	if err != nil {
		t.Fatalf("create an operator: %v", err)
	}
	operatorPW, err := bt.Text(ctx, "issued-secret")
	if err != nil || len(operatorPW) < 10 {
		t.Fatalf("generated password %q: %v", operatorPW, err)
	}
	bt.Screenshot(t, ctx, "03-users")
	row, _ := bt.Text(ctx, "user-oscar")
	if !strings.Contains(row, "new password due") {
		t.Errorf("the new user's row: %q", row)
	}

	// The audit log shows what just happened; the account page offers
	// sign-out everywhere.
	if err := chromedp.Do(ctx, chromedp.Navigate(c.URL+"/settings/audit"), bt.Visible("audit-rows")); err != nil {
		t.Fatalf("audit page: %v", err)
	}
	rows, _ := bt.Text(ctx, "audit-rows")
	for _, want := range []string{"user.create", "user:oscar", "auth.login", "user.password_change"} {
		if !strings.Contains(rows, want) {
			t.Errorf("the audit log does not show %s", want)
		}
	}
	bt.Screenshot(t, ctx, "04-audit")
	if err := chromedp.Do(ctx, chromedp.Navigate(c.URL+"/account"), bt.Visible("logout-everywhere")); err != nil {
		t.Fatalf("account page: %v", err)
	}
	bt.Screenshot(t, ctx, "05-account")

	if err := chromedp.Do(ctx, bt.Click("logout"), bt.Visible("login-form")); err != nil {
		t.Fatalf("sign out: %v", err)
	}
	if flash, _ := bt.Text(ctx, "flash"); !strings.Contains(flash, "signed out") {
		t.Errorf("flash after sign-out: %q", flash)
	}

	signInAndChoosePassword("oscar", operatorPW, "oscar-own-password-1")
	if err := chromedp.Do(ctx, chromedp.Navigate(c.URL+"/settings/users"), bt.Visible("error-message")); err != nil {
		t.Fatalf("users page as operator: %v", err)
	}
	msg, _ := bt.Text(ctx, "error-message")
	if !strings.Contains(msg, "Your role does not allow this") {
		t.Fatalf("operator on the users page sees %q", msg)
	}
	if body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body"))); strings.Contains(body, "Create user") {
		t.Fatal("the refused page shows the users form")
	}
	bt.Screenshot(t, ctx, "06-refused")
}
