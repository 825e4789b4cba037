package web

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"paydesk/payments"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// TestPrintableCardOfAPaidOrder: the card of a payment not paid yet has
// its QR code and "Scan to pay"; once paid it says paid and offers no
// QR code; a deactivated link's card says cancelled.
func TestPrintableCardOfAPaidOrder(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	id := paymentID(t, op.postForm("/payments", paymentForm(t, env, op)))
	card := func() string { return op.get(fmt.Sprintf("/payments/%d/card", id)).body }
	if c := card(); !strings.Contains(c, `data-testid="scan-to-pay"`) || !strings.Contains(c, "/qr.png") {
		t.Fatal("an unpaid card has no QR code")
	}
	o, err := env.db.PayOrderByID(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if err := env.sb.Pay(o.PayOrderID); err != nil {
		t.Fatal(err)
	}
	cbWait(t, "paid", 10*time.Second, func() bool { return env.cbPayStatus(id) == payments.PayPaid })
	c := card()
	if !strings.Contains(c, `data-testid="card-paid"`) || strings.Contains(c, `data-testid="scan-to-pay"`) || strings.Contains(c, "/qr.png") {
		t.Errorf("a paid card still asks to scan: %s", between(c, `data-testid="print-card"`, "</div>\n"))
	}
	// The payment's own page shows the link paid, without a QR code.
	if page := op.get(fmt.Sprintf("/payments/%d", id)).body; !strings.Contains(page, `data-testid="link-paid"`) || strings.Contains(page, `data-testid="payment-qr"`) {
		t.Error("a paid payment's page still shows its QR code")
	}

	other := paymentID(t, op.postForm("/payments", paymentForm(t, env, op)))
	op.postForm(fmt.Sprintf("/payments/%d/deactivate", other), nil)
	if c := op.get(fmt.Sprintf("/payments/%d/card", other)).body; !strings.Contains(c, `data-testid="card-cancelled"`) || strings.Contains(c, "/qr.png") {
		t.Error("a deactivated link's card does not say cancelled")
	}
}

// TestOnePagePerPayment: the order page of a payment made on the payments
// page leads to the payment's page (303), which has the resend; an order
// without a payment link keeps its order page.
func TestOnePagePerPayment(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	id := paymentID(t, op.postForm("/payments", paymentForm(t, env, op)))
	res := op.get(orderHref(store.KindPay, id))
	if res.StatusCode != 303 || res.Header.Get("Location") != fmt.Sprintf("/payments/%d", id) {
		t.Fatalf("order page of a payment: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	page := op.get(fmt.Sprintf("/payments/%d", id)).body
	// Unpaid: the resend is there, secondary, with the reason it cannot help.
	if !strings.Contains(page, `data-testid="resend-card"`) || !strings.Contains(page, `data-testid="resend-warning"`) || strings.Contains(page, `class="primary" data-testid="resend"`) {
		t.Error("the payment page lacks the resend, or offers it as the main action on an unpaid order")
	}
	_, o := env.cbSandboxPay("M-ONE-PAGE", 100, env.desk.NotifyURL(env.account, "pay"), true)
	if res := op.get(orderHref(store.KindPay, o.ID)); res.StatusCode != 200 {
		t.Errorf("an order without a payment link: %d", res.StatusCode)
	}
	vw, _ := env.signedIn(store.RoleViewer)
	if strings.Contains(vw.get(fmt.Sprintf("/payments/%d", id)).body, `data-testid="resend-card"`) {
		t.Error("a viewer is offered the resend")
	}
}
