package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

// langOf is the lang attribute of a page's <html>.
func langOf(t *testing.T, res response) string {
	t.Helper()
	_, rest, ok := strings.Cut(res.body, `<html lang="`)
	if !ok {
		t.Fatalf("no <html lang> in %.200s", res.body)
	}
	l, _, _ := strings.Cut(rest, `"`)
	return l
}

// A user who chose nothing reads the console in the browser's language;
// a browser that asks for none Paydesk speaks gets the team's default,
// Chinese out of the box, which an admin changes.
func TestLanguageFromBrowserAndTeam(t *testing.T) {
	env := newTestEnv(t)
	for _, c := range []struct{ accept, want, word string }{
		{"", "zh-CN", "登录"},
		{"de-DE,de;q=0.9", "zh-CN", "登录"},
		{"en-US,en;q=0.9", "en", "Sign in"},
		{"zh-CN,zh;q=0.9,en;q=0.8", "zh-CN", "登录"},
	} {
		res := env.browserIn(c.accept).get("/login")
		if got := langOf(t, res); got != c.want {
			t.Errorf("Accept-Language %q: lang %q, want %q", c.accept, got, c.want)
		}
		if !strings.Contains(res.body, "<title>"+c.word) {
			t.Errorf("Accept-Language %q: the title is not %q", c.accept, c.word)
		}
	}

	admin, _ := env.signedIn(store.RoleAdmin)
	if res := admin.postForm("/settings/language", url.Values{"language": {"fr"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("team language fr: %d", res.StatusCode)
	}
	if got := langOf(t, env.browserIn("").get("/login")); got != "zh-CN" {
		t.Fatalf("a refused team language changed it: %s", got)
	}
	op, _ := env.signedIn(store.RoleOperator)
	if res := op.postForm("/settings/language", url.Values{"language": {"en"}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("an operator set the team language: %d", res.StatusCode)
	}
	if res := admin.postForm("/settings/language", url.Values{"language": {"en"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("team language en: %d %s", res.StatusCode, res.body)
	}
	if got := langOf(t, env.browserIn("").get("/login")); got != "en" {
		t.Errorf("after the team chose en, a browser asking nothing reads %s", got)
	}
	if got := langOf(t, env.browserIn("zh-CN").get("/login")); got != "zh-CN" {
		t.Errorf("after the team chose en, a browser asking zh-CN reads %s", got)
	}
	if n := env.auditCount("settings.language", "zh-CN → en"); n != 1 {
		t.Errorf("%d audit rows of the team language change", n)
	}
}

// A user's own choice wins over the browser's, is kept on their row, and
// "as my browser asks" goes back to the browser's.
func TestLanguageChosenByUser(t *testing.T) {
	env := newTestEnv(t)
	name := env.addUser(store.RoleViewer)
	b := env.browserIn("zh-CN,zh;q=0.9")
	if res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %d", res.StatusCode)
	}
	res := b.get("/account")
	if langOf(t, res) != "zh-CN" || !strings.Contains(res.body, "我的账户") {
		t.Fatalf("the account page is not in Chinese: %.300s", res.body)
	}
	if res := b.postForm("/account/language", url.Values{"language": {"xx"}}); res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, "请从列出的语言中选择一种。") {
		t.Fatalf("language xx: %d", res.StatusCode)
	}
	if res := b.postForm("/account/language", url.Values{"language": {"en"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("choose en: %d %s", res.StatusCode, res.body)
	}
	res = b.get("/account")
	if langOf(t, res) != "en" || !strings.Contains(res.body, "Your language has been saved.") || !strings.Contains(res.body, "Your account") {
		t.Fatalf("after choosing en: %.500s", res.body)
	}
	if u, err := env.db.UserByName(context.Background(), name); err != nil || u.Language != "en" {
		t.Fatalf("stored language %q, %v", u.Language, err)
	}
	// The choice follows the user to another browser.
	other := env.browserIn("zh-CN")
	other.postForm("/login", url.Values{"username": {name}, "password": {testPassword}})
	if got := langOf(t, other.get("/")); got != "en" {
		t.Errorf("another browser of the same user reads %s", got)
	}
	if res := b.postForm("/account/language", url.Values{"language": {""}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("follow the browser: %d", res.StatusCode)
	}
	res = b.get("/account")
	if langOf(t, res) != "zh-CN" || !strings.Contains(res.body, "语言设置已保存。") {
		t.Errorf("after following the browser again: %.500s", res.body)
	}
	if n := env.auditCount("user.language", "en"); n != 1 {
		t.Errorf("%d audit rows of the language choice", n)
	}
}

// The sentences of the form checks kept in tables (the gateway account's
// and the payment's text fields, the base URLs) are in the catalogue too:
// a Chinese reader gets them in Chinese.
func TestTableSentencesTranslated(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	admin, _ := env.signedIn(store.RoleAdmin)
	admin.header.Set("Accept-Language", "zh-CN")
	res := admin.postForm("/settings/gateways", url.Values{"name": {""}, "mch_id": {""}, "app_id": {""}, "key": {""}, "base_url": {"ftp://x"}})
	for _, want := range []string{"账户未保存。请修改下面标出的字段。", "请填写名称。", "请填写商户号。", "请填写应用 ID。", "请填写商户密钥。", "网关地址：请填写以 http:// 或 https:// 开头的完整地址。"} {
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, want) {
			t.Errorf("gateway form: %d, lacks %q", res.StatusCode, want)
		}
	}
	op, _ := env.signedIn(store.RoleOperator)
	op.header.Set("Accept-Language", "zh-CN")
	form := paymentForm(t, env, op)
	form.Set("subject", "")
	form.Set("body", strings.Repeat("长", 300))
	res = op.postForm("/payments", form)
	for _, want := range []string{"请填写标题。", "描述超过 256 个字符（现有 300 个）。"} {
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, want) {
			t.Errorf("payment form: %d, lacks %q", res.StatusCode, want)
		}
	}
}
