package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	bt "paydesk/internal/browsertest"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// browserSignIn opens a new browser context signed in as user.
func browserSignIn(t *testing.T, bctx context.Context, base, user string) context.Context {
	t.Helper()
	ctx, cancel := chromedp.NewContext(bctx, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/login"),
		bt.Type("name=username", user),
		bt.Type("name=password", testPassword),
		bt.Click("login-submit"),
		bt.Visible("whoami"),
	)
	if err != nil {
		t.Fatalf("sign in as %s: %v", user, err)
	}
	return ctx
}

// TestBrowserUserActionsAskFirst: disabling a user and resetting their
// password take two clicks, the second on a button that says what it does,
// and work so in a browser without JavaScript.
func TestBrowserUserActionsAskFirst(t *testing.T) {
	bctx := bt.New(t)
	env, base := newBrowserEnv(t, sandbox.Faults{})
	admin := env.addUser(store.RoleAdmin)
	staff := env.addUser(store.RoleOperator)
	ctx := browserSignIn(t, bctx, base, admin)
	noScripts := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true})
		return err
	})
	user := func() store.User {
		t.Helper()
		u, err := env.db.UserByName(context.Background(), staff)
		if err != nil {
			t.Fatal(err)
		}
		return u
	}
	visible := func(id string) bool {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { const e = document.querySelector('[data-testid="`+id+`"]'); return !!e && e.checkVisibility(); })()`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	// clickThenSee clicks one button and waits a while for another element.
	clickThenSee := func(click, want string) error {
		tctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		defer cancel()
		return chromedp.Do(tctx, bt.Click(click), bt.Visible(want))
	}
	if err := chromedp.Do(ctx, noScripts, chromedp.Navigate(base+"/settings/users"), bt.Visible("disable-"+staff)); err != nil {
		t.Fatal(err)
	}
	if ran, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.htmx !== "undefined"`)); err != nil || ran {
		t.Fatalf("the page ran its scripts (%v)", err)
	}
	if visible("confirm-disable-" + staff) {
		t.Fatal("the confirming button is shown before anyone asked to disable")
	}

	// The first click asks; nothing changes.
	if err := clickThenSee("disable-"+staff, "confirm-disable-"+staff); err != nil {
		t.Fatalf("first click on Disable: %v", err)
	}
	if user().Disabled {
		t.Fatal("one click disabled the user")
	}
	if label, _ := bt.Text(ctx, "confirm-disable-"+staff); !strings.Contains(label, "Disable "+staff) {
		t.Errorf("the confirming button says %q", label)
	}
	bt.Screenshot(t, ctx, "disable-asks")
	if err := clickThenSee("confirm-disable-"+staff, "flash"); err != nil {
		t.Fatalf("confirm Disable: %v", err)
	}
	if !user().Disabled {
		t.Fatal("the confirmed Disable did not disable the user")
	}

	before := user().PasswordHash
	if err := clickThenSee("reset-"+staff, "confirm-reset-"+staff); err != nil {
		t.Fatalf("first click on Reset password: %v", err)
	}
	if user().PasswordHash != before || visible("issued-secret") {
		t.Fatal("one click reset the password")
	}
	if err := clickThenSee("confirm-reset-"+staff, "issued-secret"); err != nil {
		t.Fatalf("confirm Reset password: %v", err)
	}
	if u := user(); u.PasswordHash == before || !u.MustChangePassword {
		t.Fatal("the confirmed reset did not give a new password")
	}
}

// TestBrowserFieldErrorsMarked: a field the server refused is marked
// invalid, drawn with a red border, and points at its sentence.
func TestBrowserFieldErrorsMarked(t *testing.T) {
	bctx := bt.New(t)
	env, base := newBrowserEnv(t, sandbox.Faults{})
	ctx := browserSignIn(t, bctx, base, env.addUser(store.RoleOperator))

	type marking struct {
		Invalid   string `json:"invalid"`
		Described string `json:"described"`
		Sentence  string `json:"sentence"`
		Border    string `json:"border"`
	}
	mark := func(sel string) marking {
		t.Helper()
		m, err := chromedp.Run(ctx, chromedp.Evaluate[marking](`(() => {
			const f = document.querySelector(`+"`"+sel+"`"+`), d = f.getAttribute("aria-describedby"), s = d && document.getElementById(d);
			return {invalid: f.getAttribute("aria-invalid") || "", described: d || "", sentence: s ? s.textContent : "", border: getComputedStyle(f).borderTopColor};
		})()`))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	const red = "rgb(179, 38, 30)" // --err
	check := func(form, sel, want string) {
		t.Helper()
		m := mark(sel)
		if m.Invalid != "true" || m.Border != red || !strings.Contains(m.Sentence, want) {
			t.Errorf("%s: the refused field %s is marked %+v, want aria-invalid, a %s border and a sentence with %q", form, sel, m, red, want)
		}
		if ok := mark(`[name=subject], [name=account_name]`); ok.Invalid != "" || ok.Border == red {
			t.Errorf("%s: a field without error is marked %+v", form, ok)
		}
	}

	err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/payments/new"),
		chromedp.SetValue(bt.TestID("amount"), "12.345"),
		chromedp.SetValue(bt.TestID("subject"), "Green tea"),
		bt.Click("payment-submit"),
		chromedp.WaitVisible(chromedp.CSS(`.field-error`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	check("payment", `[name=amount]`, "two decimals")
	bt.Screenshot(t, ctx, "payment-amount-refused")

	err = chromedp.Do(ctx,
		chromedp.Navigate(base+"/payouts/new"),
		chromedp.SetValue(chromedp.CSS(`[name=amount]`), "1e3"),
		chromedp.SetValue(chromedp.CSS(`[name=account_name]`), "张三"),
		chromedp.SetValue(chromedp.CSS(`[name=account_no]`), "6222020200112233445"),
		chromedp.SetValue(bt.TestID("bank-select"), "HPT00003"),
		chromedp.SetValue(chromedp.CSS(`[name=province]`), "上海"),
		chromedp.SetValue(chromedp.CSS(`[name=city]`), "上海"),
		bt.Click("payout-submit"),
		chromedp.WaitVisible(chromedp.CSS(`.field-error`)),
	)
	if err != nil {
		t.Fatal(err)
	}
	check("payout", `[name=amount]`, "")
}
