package web

import (
	"context"
	"strings"
	"testing"

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
