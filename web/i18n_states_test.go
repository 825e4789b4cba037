package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// TestEveryStateSpeaksOneLanguage adds to TestEveryPageSpeaksOneLanguage
// the records its seed does not make, each made the way it happens: a
// payment whose create answer was lost, a failed and a refunded payment,
// callbacks of every result (applied, repeat, out of date, rejected, needs
// checking), alerts of every kind (bad signature, unknown merchant,
// unreadable, wrong address, refused sender, not matching the order,
// contradicting the outcome, unknown order, missed callback), payouts,
// batches and bulk resends in every state. It reads the pages that show them in zh-CN and en and
// fails on text not in the page's language.
func TestEveryStateSpeaksOneLanguage(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)

	// A payment whose create answer is lost: unclear, checking.
	env.sb.SetFaults(sandbox.Faults{LostAnswer: true})
	unclear := paymentID(t, op.postForm("/payments", paymentForm(t, env, op)))
	env.sb.SetFaults(sandbox.Faults{})

	acct := env.account.ID
	paid := env.cbPayOrder(acct, "M20261130001", "P20261130001", 1000, payments.PayPaying)
	failed := env.cbPayOrder(acct, "M20261130002", "P20261130002", 2000, payments.PayPaying)
	refunded := env.cbPayOrder(acct, "M20261130003", "P20261130003", 3000, payments.PayPaid)
	ok := env.cbPayout(acct, "T20261130004", "TR20261130004", 4000, payments.TransTransferring)
	bad := env.cbPayout(acct, "T20261130005", "TR20261130005", 5000, payments.TransTransferring)

	pay := func(o store.PayOrder, amount int64, status int) url.Values {
		return cbSigned(cbPayFields(o.PayOrderID, o.MchOrderNo, amount, status), testKey)
	}
	trans := func(p store.Payout, status int) url.Values {
		return cbSigned(cbTransFields(p.TransOrderID, p.MchTransOrderNo, p.Amount, status), testKey)
	}
	env.sendNotify("pay", "POST", pay(paid, 1000, payments.PayPaid))                                                                                                                    // applied
	env.sendNotify("pay", "POST", pay(paid, 1000, payments.PayPaid))                                                                                                                    // repeat
	env.sendNotify("pay", "POST", pay(paid, 1000, payments.PayPaying))                                                                                                                  // out of date
	env.sendNotify("pay", "POST", pay(failed, 2000, payments.PayFailed))                                                                                                                // a failed payment
	env.sendNotify("pay", "POST", pay(refunded, 3000, payments.PayRefunded))                                                                                                            // a refunded payment
	env.sendNotify("pay", "POST", pay(paid, 999, payments.PayPaid))                                                                                                                     // does not match the order
	env.sendNotify("trans", "GET", trans(ok, payments.TransSucceeded))                                                                                                                  // paid out
	env.sendNotify("trans", "GET", trans(bad, payments.TransFailed))                                                                                                                    // payout failed
	env.sendNotify("trans", "GET", trans(bad, payments.TransSucceeded))                                                                                                                 // contradicts the outcome
	env.sendNotify("trans", "GET", pay(paid, 1000, payments.PayPaid))                                                                                                                   // wrong address
	env.sendNotify("pay", "POST", cbSigned(cbPayFields("P20261130006", "M20261130006", 1, 2), "forged"))                                                                                // bad signature
	env.sendNotify("pay", "POST", url.Values{"payOrderId": {"P20261130010"}, "mchId": {testMchID}, "mchOrderNo": {"M20261130010"}, "amount": {"12.5"}, "status": {"2"}, "sign": {"x"}}) // unreadable
	unknownMch := cbPayFields("P20261130007", "M20261130007", 1, 2)
	unknownMch["mchId"] = "99999999"
	env.sendNotify("pay", "POST", cbSigned(unknownMch, testKey))                                             // unknown merchant
	env.sendNotify("pay", "POST", cbSigned(cbPayFields("P20261130008", "", 0, 2), testKey))                  // unknown order, not recordable
	env.sendNotify("pay", "POST", cbSigned(cbPayFields("P20261130009", "SHOP20261130009", 700, 2), testKey)) // made elsewhere

	// A callback from outside the account's gateway addresses.
	if _, err := env.db.Exec(`UPDATE gateway_accounts SET notify_sources = '203.0.113.7' WHERE id = ?`, acct); err != nil {
		t.Fatal(err)
	}
	env.desk.GatewayAccountsChanged()
	env.sendNotify("pay", "POST", pay(paid, 1000, payments.PayPaid)) // refused sender
	if _, err := env.db.Exec(`UPDATE gateway_accounts SET notify_sources = '' WHERE id = ?`, acct); err != nil {
		t.Fatal(err)
	}
	env.desk.GatewayAccountsChanged()
	// A payment whose callbacks never arrive, found paid by the reconciler.
	missedID, missed := env.cbSandboxPay("M20261130012", 800, "http://127.0.0.1:1/notify/pay", true)
	if err := env.sb.Pay(missedID); err != nil {
		t.Fatal(err)
	}
	env.advance(11 * time.Minute)
	if _, err := env.desk.Reconcile(t.Context()); err != nil {
		t.Fatal(err)
	}

	var extra = []string{orderHref(store.KindPay, missed.ID)}
	kinds := map[string]bool{}
	alerts, err := env.db.Alerts(t.Context(), true, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range alerts {
		kinds[a.Kind] = true
	}
	for _, k := range []string{store.AlertBadSignature, store.AlertUnknownMerchant, store.AlertUnreadable, store.AlertWrongEndpoint,
		store.AlertMismatch, store.AlertContradiction, store.AlertUnrecordable, store.AlertForbiddenSource, store.AlertMissedCallback} {
		if !kinds[k] {
			t.Errorf("no %s alert was raised: the test does not cover it", k)
		}
	}

	// Payouts and a payment in the states that need a gateway's fault or
	// a clock to reach, set as the store holds them.
	for i, st := range []string{store.PayoutApproved, store.PayoutSubmitting, store.PayoutUnknown, store.PayoutRefused,
		store.PayoutRejected, store.PayoutExpired, store.PayoutCancelled} {
		p := env.cbPayout(acct, fmt.Sprintf("T2026113002%d", i), "", 100, payments.TransCreated)
		if _, err := env.db.Exec(`UPDATE payouts SET state = ?, status = NULL WHERE id = ?`, st, p.ID); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, fmt.Sprintf("/payouts/%d", p.ID), orderHref(store.KindTrans, p.ID))
	}
	for _, st := range []string{store.BatchExpired, store.BatchCancelled, store.BatchApproved} {
		id := env.approvedBatch(testPayout("6222020200000000031"))
		if _, err := env.db.Exec(`UPDATE payout_batches SET state = ? WHERE id = ?`, st, id); err != nil {
			t.Fatal(err)
		}
		extra = append(extra, fmt.Sprintf("/payouts/batches/%d", id))
	}
	extra = append(extra, "/payouts/batches")
	// A bulk resend of the pay orders (the sandbox knows none of the
	// orders made above: their rows fail), and jobs in the other states.
	res := op.postForm("/orders/resend", url.Values{"kind": {store.KindPay}, "confirm": {"1"}})
	job, err := strconv.ParseInt(strings.TrimPrefix(res.Header.Get("Location"), "/orders/resend/"), 10, 64)
	if res.StatusCode != http.StatusSeeOther || err != nil {
		t.Fatalf("bulk resend: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	extra = append(extra, fmt.Sprintf("/orders/resend/%d", job))
	for _, st := range []string{store.ResendRunning, store.ResendCancelled, store.ResendInterrupted, store.ResendFinished} {
		r, err := env.db.Exec(`INSERT INTO resend_jobs (created_at, created_by, filter, total, done, sent, skipped, failed, state)
			SELECT created_at, created_by, filter, total, done, sent, skipped, failed, ? FROM resend_jobs WHERE id = ?`, st, job)
		if err != nil {
			t.Fatal(err)
		}
		id, _ := r.LastInsertId()
		extra = append(extra, fmt.Sprintf("/orders/resend/%d", id))
	}
	refused := env.cbPayOrder(acct, "M20261130011", "", 100, payments.PayCreated)
	if _, err := env.db.Exec(`UPDATE pay_orders SET state = 'refused', status = NULL WHERE id = ?`, refused.ID); err != nil {
		t.Fatal(err)
	}
	extra = append(extra, fmt.Sprintf("/payments/%d", refused.ID), orderHref(store.KindPay, refused.ID))

	pages := []string{"/notifications", "/orders", "/payments", "/payouts",
		"/payments/" + strconv.FormatInt(unclear, 10),
		orderHref(store.KindPay, paid.ID), orderHref(store.KindPay, failed.ID), orderHref(store.KindPay, refunded.ID),
		orderHref(store.KindTrans, ok.ID), orderHref(store.KindTrans, bad.ID)}
	pages = append(pages, extra...)
	var ids []int64
	rows, err := env.db.Query(`SELECT id FROM notifications ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		pages = append(pages, fmt.Sprintf("/notifications/%d", id))
	}
	allowed := append(everyPageData(), "Sandbox")
	for _, lang := range i18n.Langs() {
		b := env.browserIn(string(lang))
		name := env.addUser(store.RoleAdmin)
		b.postForm("/login", url.Values{"username": {name}, "password": {testPassword}})
		for _, p := range pages {
			res := b.get(p)
			if res.StatusCode != 200 {
				t.Errorf("%s %s: status %d", lang, p, res.StatusCode)
				continue
			}
			runs, err := foreignText(res.body, lang, allowed)
			if err != nil {
				t.Fatal(err)
			}
			if len(runs) > 0 {
				t.Errorf("%s %s: %d texts not in its language: %q", lang, p, len(runs), runs)
			}
		}
		if lang == i18n.ZhCN {
			if res := b.get("/notifications"); !strings.Contains(res.body, "签名不符") {
				t.Errorf("the alerts are not named in Chinese")
			}
		}
	}
}
