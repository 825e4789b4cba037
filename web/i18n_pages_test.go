package web

import (
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"paydesk/desk"
	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// englishRun is two or more English words in a row: what an untranslated
// sentence or label leaves in a Chinese page. Codes and numbers (HPT00003,
// PD2026…, 8002, ¥1.00) are not words.
var englishRun = regexp.MustCompile(`\b[A-Za-z][A-Za-z'’]*(?:[ \t\n]+(?:[-–—/&]+[ \t\n]+)?[A-Za-z][A-Za-z'’]*)+\b`)

// cjk is a Chinese character: what an untranslated label leaves in an
// English page.
var cjk = regexp.MustCompile(`[\p{Han}，。：；（）、]+`)

// protocolWords may stand inside a technical-details disclosure in any
// language: the gateway's field names and words.
var protocolWords = regexp.MustCompile(`\b(?:payOrderId|mchOrderNo|transOrderId|mchTransOrderNo|channelOrderNo|executeNotify|mchId|appId|productId|payUrl|sign|status|amount|success|fail|POST|GET|HTTP|MD5|JSON|query|body|errCode|retCode|retMsg|resCode|errDes)\b`)

// visibleTexts lists what a person sees or hears of an HTML page in the
// language lang: text nodes (not of script or style) and the
// placeholder, title, aria-label and alt attributes, and the value of
// buttons; not what an element's lang attribute declares to be in another
// language (the language picker's names, an amount in Chinese capitals).
// A <details class="tech"> disclosure's text is listed in tech: its
// protocol words may stay.
func visibleTexts(page string, lang i18n.Lang) (texts, tech []string, err error) {
	doc, err := html.Parse(strings.NewReader(page))
	if err != nil {
		return nil, nil, err
	}
	base := func(l string) string { b, _, _ := strings.Cut(l, "-"); return b }
	var walk func(n *html.Node, inTech bool)
	walk = func(n *html.Node, inTech bool) {
		add := func(s string) {
			s = strings.Join(strings.Fields(s), " ")
			if s == "" {
				return
			}
			if inTech {
				tech = append(tech, s)
			} else {
				texts = append(texts, s)
			}
		}
		switch n.Type {
		case html.TextNode:
			add(n.Data)
		case html.ElementNode:
			if n.Data == "script" || n.Data == "style" || n.Data == "code" {
				// <code> holds what is typed or read as is: commands,
				// secrets, codes.
				return
			}
			if l := attr(n, "lang"); l != "" && n.Data != "html" && base(l) != base(string(lang)) {
				return
			}
			if n.Data == "details" && slices.Contains(strings.Fields(attr(n, "class")), "tech") {
				inTech = true
			}
			if inTech && n.Data == "pre" {
				return // raw fields and requests, as received
			}
			for _, a := range n.Attr {
				switch a.Key {
				case "placeholder", "title", "aria-label", "alt":
					add(a.Val)
				case "value":
					if n.Data == "button" || (n.Data == "input" && slices.Contains([]string{"submit", "button"}, attr(n, "type"))) {
						add(a.Val)
					}
				}
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, inTech)
		}
	}
	walk(doc, false)
	return texts, tech, nil
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// foreignText lists the runs of page's visible text that are not in lang:
// English words in a Chinese page, Chinese characters in an English page,
// once the data (allowed) is taken out.
func foreignText(page string, lang i18n.Lang, allowed []string) ([]string, error) {
	texts, tech, err := visibleTexts(page, lang)
	if err != nil {
		return nil, err
	}
	var out []string
	check := func(s string, inTech bool) {
		for _, a := range allowed {
			s = strings.ReplaceAll(s, a, " ")
		}
		if inTech {
			s = protocolWords.ReplaceAllString(s, " ")
		}
		re := cjk
		if lang == i18n.ZhCN {
			re = englishRun
		}
		for _, m := range re.FindAllString(s, -1) {
			out = append(out, m)
		}
	}
	for _, s := range texts {
		check(s, false)
	}
	for _, s := range tech {
		check(s, true)
	}
	return out, nil
}

func TestForeignText(t *testing.T) {
	page := `<html><head><title>收款 · Paydesk</title><style>a b{}</style></head><body>
		<p>Payment link</p><input placeholder="any order number"><button title="ok">批准 3 笔</button>
		<details class="tech"><summary>技术详情</summary>payOrderId mchOrderNo · signature valid</details>
		<p>HPT00003 中国建设银行 ¥1,234.50</p><p>乌龙茶 Oolong tea</p><p lang="zh-CN">壹佰元整</p></body></html>`
	got, err := foreignText(page, i18n.ZhCN, []string{"乌龙茶 Oolong tea"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Payment link", "any order number", "signature valid"}
	if !slices.Equal(got, want) {
		t.Errorf("zh-CN: got %q, want %q", got, want)
	}
	got, _ = foreignText(page, i18n.En, []string{"乌龙茶 Oolong tea", "中国建设银行"})
	want = []string{"收款", "批准", "笔", "技术详情"}
	if !slices.Equal(got, want) {
		t.Errorf("en: got %q, want %q", got, want)
	}
}

// untranslated lists the pages (by visit name) still waiting for their
// translation: their findings are logged, not failed. A page listed here
// that has none fails, so that the list only shrinks.
var untranslated = map[string]bool{}

// TestEveryPageSpeaksOneLanguage renders every page of the route table in
// the real console (sandbox gateway, real store, records in every state),
// signed in with each role, in zh-CN and in en, and fails on visible text
// that is not in the page's language and not data: two English words in a
// row on a Chinese page, a Chinese character on an English page. The
// public payment page is read with Accept-Language en, zh-CN and none.
func TestEveryPageSpeaksOneLanguage(t *testing.T) {
	env, _ := newBrowserEnv(t, sandbox.Faults{})
	env.startWorker(desk.PayoutOptions{})
	f := seedEveryPage(t, env)
	allowed := everyPageData()

	findings := map[string]map[string]bool{} // page → foreign runs
	note := func(name, path string, lang i18n.Lang, res response, roleText string) {
		if res.StatusCode >= 500 {
			t.Errorf("%s %s (%s): status %d", lang, path, roleText, res.StatusCode)
			return
		}
		runs, err := foreignText(res.body, lang, allowed)
		if err != nil {
			t.Errorf("%s: %v", path, err)
			return
		}
		key := string(lang) + " " + name
		if findings[key] == nil {
			findings[key] = map[string]bool{}
		}
		for _, r := range runs {
			findings[key][r] = true
		}
		if want := `<html lang="` + string(lang) + `"`; !strings.Contains(res.body, want) {
			findings[key]["not "+want+">"] = true
		}
	}
	for _, lang := range i18n.Langs() {
		for _, role := range store.Roles() {
			b := env.browserIn(string(lang))
			name := f.admin
			if role != store.RoleAdmin {
				name = env.addUser(role)
			}
			if res := b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in as %s: %d", name, res.StatusCode)
			}
			for _, v := range f.adminPages() {
				note(v.name, v.path, lang, b.get(v.path), role)
			}
		}
		anon := env.browserIn(string(lang))
		for _, v := range f.publicPages() {
			note(v.name, v.path, lang, anon.get(v.path), "signed out")
		}
		// The code step of a two-factor sign-in.
		b := env.browserIn(string(lang))
		b.postForm("/login", url.Values{"username": {f.twoFactorUser}, "password": {testPassword}})
		note("login-two-factor", "/login/two-factor", lang, b.get("/login/two-factor"), "password step done")
	}
	// The public payment page follows the customer's browser, Chinese when
	// it says nothing.
	for _, c := range []struct {
		accept string
		lang   i18n.Lang
	}{{"", i18n.ZhCN}, {"en-GB,en;q=0.8", i18n.En}, {"fr-FR, zh-TW;q=0.5", i18n.ZhCN}} {
		note("public-pay", f.payLink, c.lang, env.browserIn(c.accept).get(f.payLink), "Accept-Language "+c.accept)
	}

	keys := make([]string, 0, len(findings))
	for k := range findings {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		runs := make([]string, 0, len(findings[k]))
		for r := range findings[k] {
			runs = append(runs, fmt.Sprintf("%q", r))
		}
		sort.Strings(runs)
		switch {
		case untranslated[k] && len(runs) == 0:
			t.Errorf("%s speaks one language now: take it off the untranslated list", k)
		case untranslated[k]:
			t.Logf("%s (waiting for its translation): %d texts: %s", k, len(runs), strings.Join(runs, ", "))
		case len(runs) > 0:
			t.Errorf("%s: %d texts not in its language: %s", k, len(runs), strings.Join(runs, ", "))
		}
	}
}

// everyPageData is the data seedEveryPage typed, which is shown as typed
// in both languages, and the gateway's reference names (banks, pay
// products) and the sandbox's sentences.
func everyPageData() []string {
	data := []string{
		"乌龙茶 Oolong tea, 2 boxes — 上海静安区南京西路旗舰店",
		"季度会员费 Quarterly membership",
		"对账无误，同意付款 checked against the ledger",
		"金额与合同不符 the amount differs from the contract",
		"2026年11月供应商付款_第二批_财务部整理_final_v3.csv",
		"上海浦东新区张江高科技园区某某某某信息科技发展有限公司",
		"工资.csv",
		"账户号无效（沙箱规则：账号以4结尾）",
		"张三", "李四", "王五", "赵六", "上海", "北京", "广东", "深圳",
		"中文（简体）",
		"Paydesk Sandbox Shop", "Two boxes of green tea", "Green tea",
	}
	for _, b := range payments.Banks() {
		data = append(data, b.Name)
	}
	for _, p := range payments.Products() {
		data = append(data, p.Name)
	}
	// Longest first, so that a name inside a longer one does not cut it.
	sort.Slice(data, func(i, j int) bool { return len(data[i]) > len(data[j]) })
	return data
}
