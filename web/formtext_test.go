package web

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"html"
	"mime/multipart"
	"net/http"
	"net/url"
	"paydesk/internal/i18n"
	"strconv"
	"strings"
	"testing"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

// fingerprint counts what any form could have created or changed: every
// change is audited, and the tables forms add rows to are counted too.
func (e *testEnv) fingerprint() string {
	e.t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT count(*) FROM audit_log`, `SELECT count(*) FROM pay_orders`, `SELECT count(*) FROM payouts`,
		`SELECT count(*) FROM payout_batches`, `SELECT count(*) FROM users`, `SELECT count(*) FROM gateway_accounts`,
		`SELECT count(*) FROM resend_jobs`, `SELECT count(*) FROM order_events`, `SELECT count(*) FROM alerts WHERE acked_by != ''`,
		`SELECT coalesce(group_concat(key || '=' || value), '') FROM settings`, `SELECT coalesce(group_concat(state), '') FROM payout_batches`,
	} {
		var v string
		if err := e.db.QueryRow(q).Scan(&v); err != nil {
			e.t.Fatalf("%s: %v", q, err)
		}
		b.WriteString(v + ";")
	}
	return b.String()
}

// Every text field of every form refuses a control character with a
// sentence naming the field, and nothing is created or changed.
func TestFormsRefuseControlCharacters(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	ctx := context.Background()
	op, _ := env.signedIn(store.RoleOperator)
	appr, _ := env.signedIn(store.RoleApprover)
	adm, _ := env.signedIn(store.RoleAdmin)
	acct := strconv.FormatInt(env.account.ID, 10)

	draft := op.uploadOK("draft.csv", payoutCSV(2, accountNo))
	waiting := op.uploadOK("waiting.csv", payoutCSV(2, accountNo))
	op.sendForApproval(waiting)
	var alertID int64
	if err := env.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		alertID, err = env.db.RaiseAlertTx(ctx, tx, store.Alert{Kind: store.AlertUnreadable, DedupeKey: "x", Summary: "a callback could not be read"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	victim := env.addUser(store.RoleViewer)
	vu, err := env.db.UserByName(ctx, victim)
	if err != nil {
		t.Fatal(err)
	}

	forms := []struct {
		b      *browser
		path   string
		fields url.Values
	}{
		{env.browser(), "/login", url.Values{"username": {"someone"}, "password": {"irrelevant-password"}, "next": {"/payments"}}},
		{op, "/payments", url.Values{"form_token": {"tok"}, "amount": {"12.50"}, "product": {"8000"}, "subject": {"Tea"}, "body": {"Two cups"},
			"param1": {"p1"}, "param2": {"p2"}, "expiry": {"2h"}, "account": {acct}}},
		{op, "/payouts/new", url.Values{"account_id": {acct}, "amount": {"1.00"}, "account_name": {"张三"}, "account_no": {"6222020200112233445"},
			"bank_code": {"HPT00003"}, "branch": {"上海分行"}, "province": {"上海"}, "city": {"上海"}, "account_type": {"1"}, "account_attr": {"0"},
			"bank_type": {"102"}, "param1": {"a"}, "param2": {"b"}}},
		{op, fmt.Sprintf("/payouts/batches/%d/send", draft), url.Values{"control_count": {"2"}, "control_sum": {"2.01"}}},
		{appr, fmt.Sprintf("/payouts/batches/%d/approve", waiting), url.Values{"note": {"checked"}}},
		{appr, fmt.Sprintf("/payouts/batches/%d/reject", waiting), url.Values{"reason": {"wrong file"}}},
		{adm, "/settings/payouts", url.Values{"two_person": {"1"}, "second_limit": {"500000"}, "expiry_days": {"3"}}},
		{op, "/orders/lookup", url.Values{"q": {"NOPE-1"}, "account": {acct}}},
		{op, "/orders/resend", url.Values{"kind": {"pay"}, "status": {"paid"}, "origin": {"console"}, "from": {"2026-01-01"}, "to": {"2026-12-31"}}},
		{op, fmt.Sprintf("/alerts/%d/ack", alertID), url.Values{"note": {"looked at it"}}},
		{adm, "/settings/gateways", url.Values{"name": {"Main"}, "merchant_name": {"Shop"}, "base_url": {"https://pay.example.com"},
			"mch_id": {"20001"}, "app_id": {"app"}, "key": {"0123456789abcdef0123456789abcdef"}, "notify_base_url": {"https://shop.example.com"}}},
		{adm, "/settings/gateways/" + acct, url.Values{"name": {"Main"}, "merchant_name": {"Shop"}, "base_url": {"https://pay.example.com"},
			"mch_id": {"20001"}, "app_id": {"app"}, "key": {""}, "notify_base_url": {"https://shop.example.com"}}},
		{adm, "/settings/payments", url.Values{"max_amount": {"1000"}}},
		{adm, "/settings/users", url.Values{"username": {"new.user"}, "role": {"viewer"}}},
		{adm, fmt.Sprintf("/settings/users/%d/role", vu.ID), url.Values{"role": {"operator"}}},
	}
	for _, f := range forms {
		for name := range f.fields {
			if passwordFields[name] {
				continue // see TestMultiLineFields
			}
			for _, bad := range []string{"\x00", "\x1b[31m", "\x7f", "\u0085", "\t"} {
				t.Run(fmt.Sprintf("%s %s %q", f.path, name, bad), func(t *testing.T) {
					before := env.fingerprint()
					v := url.Values{}
					for k, vs := range f.fields {
						v[k] = vs
					}
					v.Set(name, "a"+bad+"b")
					res := f.b.postForm(f.path, v)
					want := fieldLabel(name).String() + " contains a control character; remove it."
					if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(res.body), want) {
						t.Fatalf("status %d, want 422 with %q: %.300s", res.StatusCode, want, res.body)
					}
					if after := env.fingerprint(); after != before {
						t.Fatalf("something changed:\n%s\n%s", before, after)
					}
				})
			}
		}
	}
	// The labels are the forms' own words, not field names.
	for name, want := range map[string]string{"subject": "Subject", "body": "Description", "account_no": "Account number", "username": "Username"} {
		if got := fieldLabel(name).String(); got != want {
			t.Errorf("fieldLabel(%q) = %q, want %q", name, got, want)
		}
	}
}

// Line breaks are text in multi-line fields (a note, a description), but a
// bare CR is not, and single-line fields take none.
func TestMultiLineFields(t *testing.T) {
	for _, tt := range []struct {
		name, value string
		refused     bool
	}{
		{"body", "first line\nsecond line", false},
		{"body", "first line\r\nsecond line", false},
		{"note", "done\r\nall good", false},
		{"body", "first line\rsecond line", true},
		{"body", "a\x00b", true},
		{"subject", "first line\nsecond line", true},
		{"subject", "  trimmed  \t", false},
		{"password", "any\x00thing", false},
	} {
		err := checkText(url.Values{tt.name: {tt.value}})
		if (err != nil) != tt.refused {
			t.Errorf("%s=%q: error %v, want refused %v", tt.name, tt.value, err, tt.refused)
		}
	}
}

// The upload form's fields and its file's name are checked too; a CSV row
// with a control character is an error row naming the column.
func TestUploadRefusesControlCharacters(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	before := env.fingerprint()
	if res := op.upload("bad\u0085name.csv", payoutCSV(1, accountNo)); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(html.UnescapeString(res.body), "The file's name contains a control character") {
		t.Fatalf("file name: status %d: %s", res.StatusCode, res.body)
	}
	if env.fingerprint() != before {
		t.Fatal("a refused upload changed something")
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	mw.WriteField("account_id", strconv.FormatInt(env.account.ID, 10)+"\x00")
	fw, _ := mw.CreateFormFile("file", "ok.csv")
	fw.Write(payoutCSV(1, accountNo))
	mw.Close()
	req, _ := http.NewRequest("POST", env.ts.URL+"/payouts/batches", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Origin", env.ts.URL)
	if res := op.do(req); res.StatusCode != http.StatusUnprocessableEntity ||
		!strings.Contains(res.body, "Gateway account contains a control character; remove it.") {
		t.Fatalf("account field: status %d: %.300s", res.StatusCode, res.body)
	}
	if env.fingerprint() != before {
		t.Fatal("a refused upload changed something")
	}
	file := strings.Replace(string(payoutCSV(3, accountNo)), "收款人1,", "收款\x00人1,", 1)
	id := op.uploadOK("nul.csv", []byte(file))
	b := env.batch(id)
	if b.ErrorRows != 1 || b.FileRows != 3 {
		t.Fatalf("batch %+v, want one error row of three", b)
	}
	issues, err := env.db.BatchIssues(context.Background(), id, store.IssueError, 0, 10)
	if err != nil || len(issues) != 1 {
		t.Fatalf("issues %+v %v", issues, err)
	}
	if m, ok := i18n.Decode(issues[0].Message); !ok || m.String() != "Row 3: the account name contains a control character; remove it." {
		t.Fatalf("issues %+v %v", issues, err)
	}
}
