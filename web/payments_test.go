package web

import (
	"context"
	"database/sql"
	"encoding/csv"
	"image/png"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"paydesk/payments"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// fastGateway makes gateway calls give up quickly, so that faults that hold
// answers cost little test time.
func fastGateway(c *testConfig) { c.Core.GatewayTimeout = 400 * time.Millisecond }

var formTokenRE = regexp.MustCompile(`name="form_token" value="([^"]+)"`)

// paymentForm opens the new-payment form and returns it filled with
// defaults and its one-time token.
func paymentForm(t *testing.T, env *testEnv, b *browser) url.Values {
	t.Helper()
	res := b.get("/payments/new")
	if res.StatusCode != 200 {
		t.Fatalf("new payment form: %d", res.StatusCode)
	}
	m := formTokenRE.FindStringSubmatch(res.body)
	if m == nil {
		t.Fatal("no form token in the new payment form")
	}
	return url.Values{
		"form_token": {m[1]}, "account": {strconv.FormatInt(env.account.ID, 10)}, "product": {"8002"},
		"amount": {"12.50"}, "subject": {"Green tea"}, "body": {"Two boxes of green tea"}, "expiry": {"60"},
		"param1": {"note-for-shop"},
	}
}

// paymentID reads the order id from a redirect to its page.
func paymentID(t *testing.T, res response) int64 {
	t.Helper()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/payments/") {
		t.Fatalf("create payment: status %d, location %q: %s", res.StatusCode, loc, res.body)
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(loc, "/payments/"), 10, 64)
	if err != nil {
		t.Fatalf("location %q", loc)
	}
	return id
}

func countPayOrders(t *testing.T, env *testEnv) int {
	t.Helper()
	var n int
	if err := env.db.QueryRow(`SELECT count(*) FROM pay_orders`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPaymentAmountsThroughTheForm(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	tests := []struct {
		amount string
		max    int64 // settings value in fen; 0 = default
		want   int64 // fen; 0 = refused with 422
		msg    string
	}{
		{amount: "0.01", want: 1},
		{amount: "0.1", want: 10},
		{amount: "999999.99", want: 99_999_999},
		{amount: "1,000.00", want: 100_000},
		{amount: " 12 ", want: 1200},
		{amount: "1e3", msg: "scientific notation"},
		{amount: "0", msg: "zero"},
		{amount: "-5", msg: "negative"},
		{amount: "1.001", msg: "more than two decimals"},
		{amount: "12,50", msg: "thousands separators"},
		{amount: "", msg: "enter an amount"},
		{amount: "1000000.01", msg: "above the largest"},
		{amount: "1000.00", max: 100_000, want: 100_000},
		{amount: "1000.01", max: 100_000, msg: "¥1,000.00"},
	}
	for _, tt := range tests {
		t.Run(tt.amount, func(t *testing.T) {
			max := ""
			if tt.max > 0 {
				max = strconv.FormatInt(tt.max, 10)
			}
			err := env.db.InTx(context.Background(), func(tx *sql.Tx) error {
				return env.db.SetSettingTx(context.Background(), tx, "payments.max_amount_fen", max)
			})
			if err != nil {
				t.Fatal(err)
			}
			before := countPayOrders(t, env)
			form := paymentForm(t, env, op)
			form.Set("amount", tt.amount)
			res := op.postForm("/payments", form)
			if tt.want == 0 {
				if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(strings.ToLower(res.body), strings.ToLower(tt.msg)) {
					t.Fatalf("status %d, want 422 saying %q", res.StatusCode, tt.msg)
				}
				if !strings.Contains(res.body, `data-testid="error-amount"`) || !strings.Contains(res.body, "name=\"form_token\" value=\""+form.Get("form_token")) {
					t.Fatal("the form is not shown again with the amount's error and the same token")
				}
				if n := countPayOrders(t, env); n != before {
					t.Fatalf("a refused form stored an order (%d → %d)", before, n)
				}
				return
			}
			o, err := env.db.PayOrderByID(context.Background(), paymentID(t, res))
			if err != nil {
				t.Fatal(err)
			}
			if o.Amount != tt.want || o.State != store.PayStateOpen || o.PayOrderID == "" {
				t.Fatalf("stored amount %d state %s payOrderId %q, want %d open", o.Amount, o.State, o.PayOrderID, tt.want)
			}
			if n := env.sb.CreateCount(o.MchOrderNo); n != 1 {
				t.Fatalf("sandbox creates: %d", n)
			}
		})
	}
}

func TestPaymentDoubleSubmit(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{Latency: 100 * time.Millisecond}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	form := paymentForm(t, env, op)
	first := paymentID(t, op.postForm("/payments", form))
	again := op.postForm("/payments", form)
	if id := paymentID(t, again); id != first {
		t.Fatalf("second submission went to payment %d, want %d", id, first)
	}
	if page := op.get("/payments/" + strconv.FormatInt(first, 10)); !strings.Contains(page.body, "submitted before") {
		t.Fatal("the second submission is not explained")
	}
	// A double click: the same form twice at the same moment.
	form2 := paymentForm(t, env, op)
	var wg sync.WaitGroup
	ids := make([]int64, 2)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids[i] = paymentID(t, op.postForm("/payments", form2))
		}()
	}
	wg.Wait()
	if ids[0] != ids[1] || ids[0] == first {
		t.Fatalf("concurrent submissions landed on %v", ids)
	}
	if n := countPayOrders(t, env); n != 2 {
		t.Fatalf("%d orders stored, want 2", n)
	}
	for _, id := range []int64{first, ids[0]} {
		o, _ := env.db.PayOrderByID(context.Background(), id)
		if n := env.sb.CreateCount(o.MchOrderNo); n != 1 {
			t.Fatalf("order %s created %d times at the gateway", o.MchOrderNo, n)
		}
	}
}

func TestPaymentUnknownThenResolved(t *testing.T) {
	ctx := context.Background()
	env := newSandboxEnv(t, sandbox.Faults{LostAnswer: true}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	id := paymentID(t, op.postForm("/payments", paymentForm(t, env, op)))
	o, _ := env.db.PayOrderByID(ctx, id)
	if o.State != store.PayStateUnknown || o.PayOrderID != "" {
		t.Fatalf("after a lost answer: state %s payOrderId %q", o.State, o.PayOrderID)
	}
	env.sb.SetFaults(sandbox.Faults{})
	page := op.get("/payments/" + strconv.FormatInt(id, 10))
	if !strings.Contains(page.body, "unclear — checking") || !strings.Contains(page.body, "never creates the order a second time") {
		t.Fatalf("the page does not say unknown: %s", page.body)
	}
	// Drawn from what is stored, the page's status block refreshes as soon
	// as it is shown (asking the gateway), then every 2 s; the refreshed
	// block just polls.
	if !strings.Contains(page.body, `hx-trigger="load, every 2s"`) {
		t.Fatal("the page does not follow the unknown payment")
	}
	if live := op.get("/payments/" + strconv.FormatInt(id, 10) + "/status"); !strings.Contains(live.body, `hx-trigger="every 2s"`) || strings.Contains(live.body, "load,") {
		t.Fatalf("the refreshed block: %s", live.body)
	}
	res := op.postForm("/payments/"+strconv.FormatInt(id, 10)+"/check", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("check: %d", res.StatusCode)
	}
	o, _ = env.db.PayOrderByID(ctx, id)
	if o.State != store.PayStateOpen || o.PayOrderID == "" || o.StatusOr(-99) != payments.PayCreated {
		t.Fatalf("after the check: %+v", o)
	}
	if n := env.sb.CreateCount(o.MchOrderNo); n != 1 {
		t.Fatalf("created %d times at the gateway", n)
	}
	page = op.get("/payments/" + strconv.FormatInt(id, 10))
	if !strings.Contains(page.body, o.PayOrderID) || strings.Contains(page.body, "unclear — checking") {
		t.Fatal("the page still says unknown")
	}

	// The same, settled by the background resolver.
	env.sb.SetFaults(sandbox.Faults{LostAnswer: true})
	id2 := paymentID(t, op.postForm("/payments", paymentForm(t, env, op)))
	env.sb.SetFaults(sandbox.Faults{})
	env.advance(3*time.Second + 100*time.Millisecond) // the resolver's gap: the create call's own wait counts as a check
	env.desk.ResolvePayments(ctx)
	o2, _ := env.db.PayOrderByID(ctx, id2)
	if o2.State != store.PayStateOpen || o2.PayOrderID == "" || env.sb.CreateCount(o2.MchOrderNo) != 1 {
		t.Fatalf("after the resolver: %+v, creates %d", o2, env.sb.CreateCount(o2.MchOrderNo))
	}
}

func TestPaymentNeverReceivedIsRefused(t *testing.T) {
	ctx := context.Background()
	env := newSandboxEnv(t, sandbox.Faults{Timeout: true}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	id := paymentID(t, op.postForm("/payments", paymentForm(t, env, op)))
	env.sb.SetFaults(sandbox.Faults{})
	time.Sleep(fastGatewayTimeout)
	res := op.postForm("/payments/"+strconv.FormatInt(id, 10)+"/check", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("check: %d", res.StatusCode)
	}
	o, _ := env.db.PayOrderByID(ctx, id)
	if o.State != store.PayStateRefused || !strings.Contains(o.LastError, "never received") || env.sb.CreateCount(o.MchOrderNo) != 0 {
		t.Fatalf("after a not-found query: %+v", o)
	}
}

const fastGatewayTimeout = 400 * time.Millisecond

var linkRE = regexp.MustCompile(`value="[^"]*/pay/([A-Za-z0-9_-]{22})" id="paylink-url"`)

// publicLink creates a payment and returns its id and public path.
func publicLink(t *testing.T, env *testEnv, op *browser, edit func(url.Values)) (int64, string) {
	t.Helper()
	form := paymentForm(t, env, op)
	if edit != nil {
		edit(form)
	}
	id := paymentID(t, op.postForm("/payments", form))
	page := op.get("/payments/" + strconv.FormatInt(id, 10))
	m := linkRE.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatal("no payment link on the payment page")
	}
	return id, "/pay/" + m[1]
}

func TestPublicPaymentLink(t *testing.T) {
	ctx := context.Background()
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	id, link := publicLink(t, env, op, nil)
	o, _ := env.db.PayOrderByID(ctx, id)
	anon := env.browser()
	res := anon.get(link)
	if res.StatusCode != 200 || !strings.Contains(res.body, `data-state="payable"`) {
		t.Fatalf("public page: %d %s", res.StatusCode, res.body)
	}
	for _, want := range []string{"Paydesk Sandbox Shop", "¥12.50", "Green tea", link + "/go", link + "/qr.png", link + "/status"} {
		if !strings.Contains(res.body, want) {
			t.Errorf("public page lacks %q", want)
		}
	}
	for _, secret := range []string{o.MchOrderNo, o.PayOrderID, "note-for-shop", "Two boxes", "operator", "8002"} {
		if strings.Contains(res.body, secret) {
			t.Errorf("public page leaks %q", secret)
		}
	}
	if res := anon.get(link + "/go"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != o.PayURL {
		t.Fatalf("pay button: %d → %q, want %q", res.StatusCode, res.Header.Get("Location"), o.PayURL)
	}
	if res := anon.get(link + "/qr.png"); res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("QR code: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if res := anon.get("/pay/AAAAAAAAAAAAAAAAAAAAAA"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("made-up link: %d", res.StatusCode)
	}

	// Expired: the customer sees so, the pay button is gone.
	if _, err := env.db.Exec(`UPDATE pay_orders SET expires_at = ? WHERE id = ?`, time.Now().Add(-time.Minute).UTC().Format(time.RFC3339Nano), id); err != nil {
		t.Fatal(err)
	}
	res = anon.get(link)
	if !strings.Contains(res.body, `data-state="expired"`) || strings.Contains(res.body, "/go") {
		t.Fatalf("expired link: %s", res.body)
	}
	if res := anon.get(link + "/go"); res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != link {
		t.Fatalf("pay button of an expired link: %d %q", res.StatusCode, res.Header.Get("Location"))
	}

	// Deactivated by staff: cancelled, and the QR code of the payUrl is gone.
	id2, link2 := publicLink(t, env, op, nil)
	if res := op.postForm("/payments/"+strconv.FormatInt(id2, 10)+"/deactivate", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}
	res = anon.get(link2)
	if !strings.Contains(res.body, `data-state="cancelled"`) || !strings.Contains(res.body, "cancelled by the merchant") {
		t.Fatalf("deactivated link: %s", res.body)
	}
	if res := anon.get(link2 + "/qr.png"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("QR code of a deactivated link: %d", res.StatusCode)
	}
	if res := op.postForm("/payments/"+strconv.FormatInt(id2, 10)+"/reactivate", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reactivate: %d", res.StatusCode)
	}
	if res := anon.get(link2); !strings.Contains(res.body, `data-state="payable"`) {
		t.Fatalf("reactivated link: %s", res.body)
	}
	entries, _ := env.db.AuditEntries(ctx, store.AuditFilter{Action: "payment."})
	var actions []string
	for _, e := range entries {
		actions = append(actions, e.Action)
	}
	if got := strings.Join(actions, ","); !strings.Contains(got, "payment.link_deactivate") || !strings.Contains(got, "payment.link_reactivate") || strings.Count(got, "payment.create") != 2 {
		t.Fatalf("audit: %s", got)
	}
}

func TestPublicPaymentLinkPostForm(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{PostFormProducts: []int{8003}}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	id, link := publicLink(t, env, op, func(v url.Values) { v.Set("product", "8003") })
	o, _ := env.db.PayOrderByID(context.Background(), id)
	if !strings.HasPrefix(o.PayURL, "POST;") {
		t.Fatalf("payUrl %q", o.PayURL)
	}
	anon := env.browser()
	page := anon.get(link)
	if !strings.Contains(page.body, link+"/go") || strings.Contains(page.body, link+"/qr.png") {
		t.Fatal("a POST payUrl needs the pay button and no QR code of the payUrl")
	}
	res := anon.get(link + "/go")
	if res.StatusCode != 200 {
		t.Fatalf("pay form: %d", res.StatusCode)
	}
	action, _, _ := strings.Cut(strings.TrimPrefix(o.PayURL, "POST;"), "?")
	for _, want := range []string{
		`<form method="post" action="` + action + `" data-autosubmit`,
		`<input type="hidden" name="via" value="post">`,
		`name="token" value="`,
		`data-testid="pay-form-submit"`,
	} {
		if !strings.Contains(res.body, want) {
			t.Errorf("pay form lacks %s:\n%s", want, res.body)
		}
	}
	if strings.Contains(res.body, "<script>") {
		t.Error("inline script on the pay form")
	}
}

func TestPaidShowsOnBothPages(t *testing.T) {
	ctx := context.Background()
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	id, link := publicLink(t, env, op, nil)
	o, _ := env.db.PayOrderByID(ctx, id)
	if err := env.sb.Pay(o.PayOrderID); err != nil {
		t.Fatal(err)
	}
	anon := env.browser()
	deadline := time.Now().Add(10 * time.Second)
	for {
		res := anon.get(link + "/status")
		if strings.Contains(res.body, `data-state="paid"`) {
			if strings.Contains(res.body, "hx-trigger") {
				t.Fatal("a paid page keeps polling")
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the public page never showed paid: %s", res.body)
		}
		time.Sleep(200 * time.Millisecond)
	}
	res := op.get("/payments/" + strconv.FormatInt(id, 10) + "/status")
	if !strings.Contains(res.body, `data-testid="payment-status">paid`) {
		t.Fatalf("staff fragment: %s", res.body)
	}
}

func TestViewerCannotCreatePayments(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	form := paymentForm(t, env, op)
	viewer, _ := env.signedIn(store.RoleViewer)
	if res := viewer.get("/payments/new"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer form: %d", res.StatusCode)
	}
	if res := viewer.postForm("/payments", form); res.StatusCode != http.StatusForbidden {
		t.Fatalf("viewer create: %d", res.StatusCode)
	}
	if n := countPayOrders(t, env); n != 0 {
		t.Fatalf("%d orders after a viewer's attempt", n)
	}
	res := viewer.get("/payments")
	if res.StatusCode != 200 || strings.Contains(res.body, `data-testid="payment-new"`) {
		t.Fatalf("viewer list: %d", res.StatusCode)
	}
}

func TestPaymentsCSVExport(t *testing.T) {
	ctx := context.Background()
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	paid := payments.PayPaid
	rows := []store.PayOrder{
		{MchOrderNo: "M1", Subject: "=HYPERLINK(\"http://evil\")", Amount: 1250, Status: &paid},
		{MchOrderNo: "M2", Subject: "+1+2", Body: "-3", Param1: "@SUM(A1)", Amount: 1},
		{MchOrderNo: "M3", Subject: "plain, with \"quotes\"", Amount: 100_000_000},
	}
	for _, o := range rows {
		o.AccountID, o.ProductID, o.State = env.account.ID, 8002, store.PayStateOpen
		err := env.db.InTx(ctx, func(tx *sql.Tx) error { _, err := env.db.InsertPayOrderTx(ctx, tx, o); return err })
		if err != nil {
			t.Fatal(err)
		}
	}
	viewer, _ := env.signedIn(store.RoleViewer)
	res := viewer.get("/payments.csv")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(res.body, "\ufeff") {
		t.Fatal("no byte order mark")
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 4 || recs[0][0] != "Created (Beijing time)" {
		t.Fatalf("records: %q", recs)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	byNo := map[string][]string{}
	for _, r := range recs[1:] {
		byNo[r[col["Merchant order no."]]] = r
	}
	checks := []struct{ no, column, want string }{
		{"M1", "Subject", `'=HYPERLINK("http://evil")`},
		{"M1", "Amount (yuan)", "12.50"},
		{"M1", "Status", "paid"},
		{"M2", "Subject", "'+1+2"},
		{"M2", "Description", "'-3"},
		{"M2", "param1", "'@SUM(A1)"},
		{"M2", "Amount (yuan)", "0.01"},
		{"M3", "Subject", `plain, with "quotes"`},
		{"M3", "Amount (yuan)", "1000000.00"},
	}
	for _, c := range checks {
		if got := byNo[c.no][col[c.column]]; got != c.want {
			t.Errorf("%s %s: %q, want %q", c.no, c.column, got, c.want)
		}
	}
	created, err := time.ParseInLocation("2006-01-02 15:04:05", byNo["M1"][0], time.UTC)
	if err != nil || created.Sub(time.Now().UTC()).Round(time.Hour) != 8*time.Hour {
		t.Errorf("created %q is not in the console's zone (UTC+8)", byNo["M1"][0])
	}
	// The list's filters apply.
	res = viewer.get("/payments.csv?status=paid")
	if recs, _ := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff"))).ReadAll(); len(recs) != 2 {
		t.Fatalf("filtered export: %d records", len(recs))
	}
	if entries, _ := env.db.AuditEntries(ctx, store.AuditFilter{Action: "payment.export"}); len(entries) != 2 {
		t.Fatalf("export audit rows: %d", len(entries))
	}
	list := viewer.get("/payments?status=paid")
	if !strings.Contains(list.body, "M1") || strings.Contains(list.body, ">M2<") {
		t.Fatal("the list's status filter")
	}
}

func TestPaymentQRCodes(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	id, link := publicLink(t, env, op, nil)
	path := "/payments/" + strconv.FormatInt(id, 10)
	res := op.get(path + "/qr.png")
	img, err := png.Decode(strings.NewReader(res.body))
	if err != nil || img.Bounds().Dx() != 512 {
		t.Fatalf("PNG: %v %v", err, img)
	}
	res = op.get(path + "/qr.svg?download=1")
	if res.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(res.Header.Get("Content-Disposition"), "attachment") ||
		!strings.Contains(res.body, "<svg") || !strings.Contains(res.body, `<path fill="#000" d="M`) {
		t.Fatalf("SVG: %s %s", res.Header, res.body)
	}
	card := op.get(path + "/card")
	if !strings.Contains(card.body, link) || !strings.Contains(card.body, "¥12.50") || !strings.Contains(card.body, path+"/qr.png") {
		t.Fatalf("printable card: %s", card.body)
	}
	if res := env.browser().get(path + "/qr.png"); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("QR code without sign-in: %d", res.StatusCode)
	}
}

var pagerRE = regexp.MustCompile(`href="([^"]+)" data-testid="page-(older|newer)"`)

func TestPaymentsListPaging(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	seedPayOrders(t, env.db, env.account.ID, 120)
	viewer, _ := env.signedIn(store.RoleViewer)
	links := func(body string) map[string]string {
		out := map[string]string{}
		for _, m := range pagerRE.FindAllStringSubmatch(body, -1) {
			out[m[2]] = strings.ReplaceAll(m[1], "&amp;", "&")
		}
		return out
	}
	page := viewer.get("/payments")
	if n := strings.Count(page.body, `data-testid="payment-row"`); n != 50 || !strings.Contains(page.body, "PD000000000119") {
		t.Fatalf("first page: %d rows", n)
	}
	l := links(page.body)
	if l["older"] == "" || l["newer"] != "" {
		t.Fatalf("first page links: %v", l)
	}
	page2 := viewer.get(l["older"])
	l2 := links(page2.body)
	if n := strings.Count(page2.body, `data-testid="payment-row"`); n != 50 || !strings.Contains(page2.body, "PD000000000069") || l2["newer"] == "" {
		t.Fatalf("second page: %d rows, links %v", n, l2)
	}
	page3 := viewer.get(l2["older"])
	if n := strings.Count(page3.body, `data-testid="payment-row"`); n != 20 || links(page3.body)["older"] != "" {
		t.Fatalf("last page: %d rows", n)
	}
	back := viewer.get(l2["newer"])
	if !strings.Contains(back.body, "PD000000000119") || links(back.body)["newer"] != "" {
		t.Fatal("newer from the second page is not the first page")
	}
	filtered := viewer.get("/payments?status=paid&product=8001")
	// Paid is i%100 < 60, product 8001 is i%20 == 1: orders 1, 21, 41 and 101.
	if n := strings.Count(filtered.body, `data-testid="payment-row"`); n != 4 || !strings.Contains(filtered.body, "PD000000000101") {
		t.Fatalf("paid with product 8001: %d rows", n)
	}
}
