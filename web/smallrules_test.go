package web

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

// A payment limit typed the way people say it ("5万") re-renders the
// settings form with the sentence and the typed text, not a bare status
// page; nothing is saved.
func TestPaymentLimitRefusalRerendersForm(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	admin, _ := env.signedIn(store.RoleAdmin)
	for _, bad := range []string{"5万", "1e3", "-5"} {
		res := admin.postForm("/settings/payments", url.Values{"max_amount": {bad}})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Fatalf("%q: %d", bad, res.StatusCode)
		}
		if !strings.Contains(res.body, `data-testid="error"`) || !strings.Contains(res.body, `name="max_amount"`) ||
			!strings.Contains(res.body, `value="`+bad+`"`) {
			t.Fatalf("%q: the form is not shown again with the sentence: %s", bad, res.body)
		}
		if v, _ := env.db.Setting(context.Background(), "payments.max_amount_fen", ""); v != "" {
			t.Fatalf("%q stored a limit: %q", bad, v)
		}
	}
	res := admin.postForm("/settings/notifications", url.Values{"rejected_retention_days": {"ninety"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, `data-testid="error"`) ||
		!strings.Contains(res.body, `name="rejected_retention_days" value="ninety"`) {
		t.Fatalf("retention refusal: %d %s", res.StatusCode, res.body)
	}
}

// Acknowledging an alert without a note is refused as an error, not shown
// in the success banner, and the alert stays open.
func TestAlertAckWithoutNoteIsAnError(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	ctx := context.Background()
	var id int64
	if err := env.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = env.db.RaiseAlertTx(ctx, tx, store.Alert{Kind: store.AlertUnreadable, DedupeKey: "x", Summary: "a callback could not be read"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	op, _ := env.signedIn(store.RoleOperator)
	if res := op.postForm(fmt.Sprintf("/alerts/%d/ack", id), url.Values{"note": {"   "}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("ack without a note: %d", res.StatusCode)
	}
	page := op.get("/notifications")
	if strings.Contains(page.body, `data-testid="flash"`) {
		t.Fatalf("the refusal is shown as a success: %s", page.body)
	}
	if !strings.Contains(page.body, `data-testid="error"`) || !strings.Contains(page.body, "Write a note") {
		t.Fatalf("no error sentence: %s", page.body)
	}
	open, _ := env.db.Alerts(ctx, false, 10)
	if len(open) != 1 {
		t.Fatalf("open alerts: %d", len(open))
	}
	// Shown once.
	if again := op.get("/notifications"); strings.Contains(again.body, "Write a note") {
		t.Fatal("the refusal is shown twice")
	}
}

// A payment whose link staff deactivated shows as cancelled in the list.
func TestPaymentsListShowsCancelledLink(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	id, _ := publicLink(t, env, op, nil)
	row := func() string {
		page := op.get("/payments")
		i := strings.Index(page.body, `data-testid="payment-row"`)
		if i < 0 {
			t.Fatalf("no row: %s", page.body)
		}
		end := strings.Index(page.body[i:], "</tr>")
		return page.body[i : i+end]
	}
	if strings.Contains(row(), ">cancelled<") {
		t.Fatal("an active link shows as cancelled")
	}
	if res := op.postForm("/payments/"+strconv.FormatInt(id, 10)+"/deactivate", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("deactivate: %d", res.StatusCode)
	}
	if r := row(); !strings.Contains(r, ">cancelled<") {
		t.Fatalf("deactivated link in the list: %s", r)
	}
	o, err := env.db.PayOrderByID(context.Background(), id)
	if err != nil || !o.LinkCancelled {
		t.Fatalf("the order does not carry the link's state: %v %+v", err, o)
	}
}
