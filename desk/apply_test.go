package desk

import (
	"context"
	"database/sql"
	"testing"

	"paydesk/payments"
	"paydesk/store"
)

func testGatewayAccount(t *testing.T, env *coreEnv) store.GatewayAccount {
	t.Helper()
	g, err := env.d.EnsureSandboxAccount(context.Background(), SandboxAccount{BaseURL: "http://127.0.0.1:1", MchID: "20001222", AppID: "app", Key: "k"})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestApplyPayObservation(t *testing.T) {
	ctx := context.Background()
	env := newCoreEnv(t)
	g := testGatewayAccount(t, env)
	if key, err := env.d.merchantKey(g); err != nil || key != "k" {
		t.Fatalf("merchant key: %q %v", key, err)
	}
	var order store.PayOrder
	err := env.db.InTx(ctx, func(tx *sql.Tx) error {
		id, err := env.db.InsertPayOrderTx(ctx, tx, store.PayOrder{AccountID: g.ID, MchOrderNo: "M1", ProductID: 8000, Amount: 100, State: store.PayStateUnknown})
		order.ID = id
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		status  int
		changed bool
		want    int
	}{
		{payments.PayCreated, true, 0}, {payments.PayPaid, true, 2}, {payments.PayPaying, false, 2},
		{payments.PayPaid, false, 2}, {payments.PayDone, true, 3}, {payments.PayFailed, false, 3},
	}
	for i, st := range steps {
		var changed bool
		err := env.db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			_, changed, err = env.d.applyPayObservation(ctx, tx, order, observation{Source: sourceCallback, Actor: "gateway", Status: st.status, GatewayID: "P1"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := env.db.PayOrderByID(ctx, order.ID)
		if changed != st.changed || got.StatusOr(-99) != st.want || got.State != store.PayStateOpen || got.PayOrderID != "P1" {
			t.Fatalf("step %d (status %d): changed=%v, order %+v", i, st.status, changed, got)
		}
	}
	evs, _ := env.db.Events(ctx, store.KindPay, order.ID)
	if len(evs) != 3 {
		t.Fatalf("want 3 status events, got %d: %+v", len(evs), evs)
	}
}

func TestApplyTransObservationNeverRegresses(t *testing.T) {
	ctx := context.Background()
	env := newCoreEnv(t)
	g := testGatewayAccount(t, env)
	var p store.Payout
	err := env.db.InTx(ctx, func(tx *sql.Tx) error {
		id, err := env.db.InsertPayoutTx(ctx, tx, store.Payout{AccountID: g.ID, MchTransOrderNo: "T1", Amount: 100, State: store.PayoutSubmitting})
		p.ID = id
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, st := range []struct{ status, want int }{{1, 1}, {2, 2}, {1, 2}, {3, 2}, {0, 2}} {
		err := env.db.InTx(ctx, func(tx *sql.Tx) error {
			_, _, err := env.d.applyTransObservation(ctx, tx, p, observation{Source: sourceQuery, Status: st.status, GatewayID: "T9"})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := env.db.PayoutByID(ctx, p.ID)
		if got.StatusOr(-99) != st.want || got.State != store.PayoutSubmitted {
			t.Fatalf("step %d: %+v", i, got)
		}
	}
}
