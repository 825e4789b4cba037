package desk

import (
	"context"
	"errors"
	"testing"

	"paydesk/payments"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

var operator = Actor{UserID: 2, Username: "olga", Role: store.RoleOperator, ClientAddr: "192.0.2.2"}

func (e *coreEnv) paymentInput() PaymentInput {
	return PaymentInput{FormToken: NewFormToken(), AccountID: itoa(e.account.ID), ProductID: "8002", Amount: "12.50",
		Subject: "Green tea", Expiry: "60"}
}

// A payment is made once per form, refused field by field when the form
// is wrong, and its link may be deactivated only while it is not paid:
// the page's buttons and the action ask the same rule.
func TestPaymentFormAndLinkRules(t *testing.T) {
	e := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()

	bad := e.paymentInput()
	bad.Amount, bad.Subject, bad.Expiry = "1e3", "", "61"
	_, err := e.d.CreatePayment(ctx, operator, bad)
	r, ok := AsRefusal(err)
	if !ok || r.Kind != Invalid {
		t.Fatalf("a wrong form: %v", err)
	}
	if f := r.FieldErrors(); f["amount"] == "" || f["subject"] != "Enter the subject." || f["expiry"] == "" || len(f) != 3 {
		t.Errorf("field errors: %v", f)
	}
	viewer := Actor{Username: "vera", Role: store.RoleViewer}
	if _, err := e.d.CreatePayment(ctx, viewer, e.paymentInput()); !isKind(err, Forbidden) {
		t.Errorf("a viewer made a payment: %v", err)
	}

	in := e.paymentInput()
	o, err := e.d.CreatePayment(ctx, operator, in)
	if err != nil {
		t.Fatal(err)
	}
	var exists *PaymentExists
	if _, err := e.d.CreatePayment(ctx, operator, in); !errors.As(err, &exists) || exists.ID != o.ID {
		t.Fatalf("the same form again: %v", err)
	}
	if n := e.sb.CreateCount(o.MchOrderNo); n != 1 {
		t.Fatalf("created %d times at the gateway", n)
	}
	link, _ := e.db.PayLinkByOrder(ctx, o.ID)
	o, _ = e.db.PayOrderByID(ctx, o.ID)
	if acts := PaymentActionsFor(operator, o, link); !acts.Deactivate || acts.Reactivate || !acts.Check {
		t.Errorf("an open payment: %+v", acts)
	}
	if acts := PaymentActionsFor(viewer, o, link); acts != (PaymentActions{}) {
		t.Errorf("a viewer may %+v", acts)
	}

	if err := e.sb.Pay(o.PayOrderID); err != nil {
		t.Fatal(err)
	}
	if msg, err := e.d.CheckPayment(ctx, operator, o.ID); err != nil || msg.Key != checkChanged.Key {
		t.Fatalf("check after paying: %q %v", msg, err)
	}
	o, _ = e.db.PayOrderByID(ctx, o.ID)
	if !payments.IsPaid(o.StatusOr(-1)) {
		t.Fatalf("not paid: %d", o.StatusOr(-1))
	}
	if acts := PaymentActionsFor(operator, o, link); acts.Deactivate {
		t.Errorf("a paid payment's link may be deactivated: %+v", acts)
	}
	if _, err := e.d.SetPaymentLinkActive(ctx, operator, o.ID, false); !isKind(err, Conflict) {
		t.Errorf("deactivating a paid payment's link: %v", err)
	}
	if link, _ := e.db.PayLinkByOrder(ctx, o.ID); !link.Active {
		t.Error("the link was deactivated")
	}
}

func isKind(err error, k Kind) bool {
	r, ok := AsRefusal(err)
	return ok && r.Kind == k
}
