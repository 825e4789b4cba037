package desk

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

// Batches wait for the approvers who may approve them: not for their
// maker while the two-person rule is on, not for an approver who already
// gave the first of two approvals, not for an operator; the badge counts
// the same. A rejected batch waits for its maker until it is copied.
func TestHomeWork(t *testing.T) {
	e := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()
	if err := e.d.SetPayoutRules(ctx, admin, true, "10", "3"); err != nil {
		t.Fatal(err)
	}
	a := e.sentBatch(maker, 2)                                                                     // ¥2.01
	e.sentBatch(approver1, 1)                                                                      // ¥1.00, made by ann
	big := e.sentBatch(maker, 12)                                                                  // ¥12.66: two approvals
	if _, err := e.d.ApproveBatch(ctx, approver1, big.ID, "", "", e.checked(big.ID)); err != nil { // ann's is the first
		t.Fatal(err)
	}
	for _, tc := range []struct {
		who   Actor
		count int
		sum   int64
	}{
		{approver1, 1, 201},
		{approver2, 3, 201 + 100 + 1266},
		{maker, 1, 100}, // mia is an approver too: ann's batch waits for her
		{operator, 0, 0},
	} {
		h, err := e.d.HomeFor(ctx, tc.who)
		if err != nil {
			t.Fatal(err)
		}
		if h.AwaitingMe.Count != tc.count || h.AwaitingMe.Sum != tc.sum || len(h.AwaitingMe.Batches) != tc.count {
			t.Errorf("%s: awaiting %+v, want %d, %d fen", tc.who.Username, h.AwaitingMe, tc.count, tc.sum)
		}
		if n, err := e.d.ApprovalBadge(ctx, tc.who); err != nil || n != tc.count {
			t.Errorf("%s: badge %d %v", tc.who.Username, n, err)
		}
	}
	h, _ := e.d.HomeFor(ctx, approver2)
	if b := h.AwaitingMe.Batches[0]; b.ID != a.ID || b.Count != 2 || b.Sum != 201 || b.CreatedBy != maker.Username {
		t.Errorf("the first batch waiting: %+v", b)
	}

	// Sent back: rejected, it waits for its maker; copied, it does not.
	if _, err := e.d.RejectBatch(ctx, approver2, a.ID, "wrong month"); err != nil {
		t.Fatal(err)
	}
	h, _ = e.d.HomeFor(ctx, maker)
	if h.SentBack.Count != 1 || h.SentBack.Batches[0].ID != a.ID || h.SentBack.Batches[0].RejectReason != "wrong month" || h.SentBack.Sum != 201 {
		t.Fatalf("sent back: %+v", h.SentBack)
	}
	if h, _ := e.d.HomeFor(ctx, approver2); h.SentBack.Count != 0 {
		t.Errorf("someone else's batch is sent back to approver2: %+v", h.SentBack)
	}
	if _, _, err := e.d.CopyBatch(ctx, maker, a.ID); err != nil {
		t.Fatal(err)
	}
	if h, _ := e.d.HomeFor(ctx, maker); h.SentBack.Count != 0 {
		t.Errorf("a copied batch is still sent back: %+v", h.SentBack)
	}

	// Unclear payouts, open alerts, rejected callbacks of the last day.
	p := e.payout(e.account.ID, "U1", "T-U1", 500, 1)
	if _, err := e.db.Exec(`UPDATE payouts SET state = 'unknown' WHERE id = ?`, p.ID); err != nil {
		t.Fatal(err)
	}
	p2 := e.payout(e.account.ID, "U2", "T-U2", 500, 1)
	if _, err := e.db.Exec(`UPDATE payouts SET state = 'refused', refusal_unconfirmed = 1 WHERE id = ?`, p2.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.db.InTx(ctx, func(tx *sql.Tx) error {
		_, err := e.db.RaiseAlertTx(ctx, tx, store.Alert{Kind: store.AlertUnreadable, DedupeKey: "x", Summary: "s"})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	for _, r := range []struct {
		reason string
		ago    time.Duration
	}{{"bad signature", 25 * time.Hour}, {"bad signature", 2 * time.Hour}, {"bad signature", time.Hour}, {"unknown merchant", time.Minute}} { // in the order they arrive
		if _, err := e.db.Exec(`INSERT INTO notifications (received_at, kind, method, client_addr, result, reason) VALUES (?, 'pay', 'POST', '1.2.3.4', 'rejected', ?)`,
			now.Add(-r.ago).UTC().Format("2006-01-02T15:04:05.000000000Z"), r.reason); err != nil {
			t.Fatal(err)
		}
	}
	h, err := e.d.HomeFor(ctx, operator)
	if err != nil {
		t.Fatal(err)
	}
	if h.UnclearPayouts != 2 || h.OpenAlerts != 1 || h.RejectedCallbacksTotal != 3 || len(h.RejectedCallbacks) != 2 ||
		h.RejectedCallbacks[0] != (store.ReasonCount{Reason: "bad signature", Count: 2}) {
		t.Errorf("home: unclear %d, alerts %d, rejected %d %+v", h.UnclearPayouts, h.OpenAlerts, h.RejectedCallbacksTotal, h.RejectedCallbacks)
	}
}

// Money and outcomes by period, in the console's days: paid pay orders
// by the gateway's success time, succeeded payouts, fees where the
// callback gave income, success rates by product and bank, and the delay
// of the first callback.
func TestHomePeriods(t *testing.T) {
	e := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()
	loc := e.d.cfg.Location
	now := e.clock.Now()
	local := now.In(loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	ts := func(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000000Z") }
	// Paid: today (two), 3 days ago, 20 days ago, 40 days ago (in no period).
	paid := []struct {
		at     time.Time
		amount int64
		income any
		delay  time.Duration
	}{
		{today.Add(time.Minute), 10000, int64(9940), 2 * time.Second},
		{today.Add(2 * time.Minute), 5000, nil, 4 * time.Second},
		{today.AddDate(0, 0, -3).Add(time.Hour), 20000, int64(19880), 6 * time.Second},
		{today.AddDate(0, 0, -20).Add(time.Hour), 40000, nil, 8 * time.Second},
		{today.AddDate(0, 0, -40).Add(time.Hour), 80000, nil, time.Second},
	}
	for i, p := range paid {
		if p.at.After(now) {
			t.Skip("too close to midnight in the console's zone") // the clock is the real one
		}
		o := e.payOrder(e.account.ID, "H"+string(rune('A'+i)), "P-H"+string(rune('A'+i)), p.amount, 2)
		if _, err := e.db.Exec(`UPDATE pay_orders SET pay_succ_at = ?, income = ?, created_at = ? WHERE id = ?`, ts(p.at), p.income, ts(p.at.Add(-time.Minute)), o.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.db.Exec(`INSERT INTO notifications (received_at, kind, method, client_addr, result, order_kind, order_ref) VALUES (?, 'pay', 'POST', '1.2.3.4', 'applied', 'pay', ?)`,
			ts(p.at.Add(p.delay)), o.ID); err != nil {
			t.Fatal(err)
		}
	}
	failed := e.payOrder(e.account.ID, "HF", "P-HF", 700, 5)
	e.db.Exec(`UPDATE pay_orders SET created_at = ? WHERE id = ?`, ts(today.Add(time.Minute)), failed.ID)
	ok := e.payout(e.account.ID, "HP1", "T-HP1", 3000, 2)
	e.db.Exec(`UPDATE payouts SET trans_succ_at = ?, created_at = ? WHERE id = ?`, ts(today.AddDate(0, 0, -1).Add(time.Hour)), ts(today.AddDate(0, 0, -1)), ok.ID)
	bad := e.payout(e.account.ID, "HP2", "T-HP2", 3000, 3)
	e.db.Exec(`UPDATE payouts SET created_at = ? WHERE id = ?`, ts(today.AddDate(0, 0, -1)), bad.ID)

	h, err := e.d.HomeFor(ctx, operator)
	if err != nil {
		t.Fatal(err)
	}
	if len(h.Periods) != 3 {
		t.Fatalf("periods %+v", h.Periods)
	}
	for i, want := range []struct {
		days, count    int
		sum, fees      int64
		feeCount       int
		paidOut        int64
		p50            time.Duration
		productOK, fin int
	}{
		{1, 2, 15000, 60, 1, 0, 2 * time.Second, 2, 3}, // nearest rank: the 1st of 2
		{7, 3, 35000, 60 + 120, 2, 3000, 4 * time.Second, 3, 4},
		{30, 4, 75000, 180, 2, 3000, 4 * time.Second, 4, 5},
	} {
		p := h.Periods[i]
		if p.Days != want.days || p.CollectedCount != want.count || p.Collected != want.sum || p.Fees != want.fees || p.FeesCount != want.feeCount ||
			p.PaidOut != want.paidOut || p.DelayP50 != want.p50 || p.DelayCount != want.count {
			t.Errorf("period %d: %+v", want.days, p)
		}
		if len(p.Products) != 1 || p.Products[0].Key != "8000" || p.Products[0].Successes != want.productOK || p.Products[0].Finals != want.fin {
			t.Errorf("period %d products: %+v", want.days, p.Products)
		}
		if want.days > 1 && (len(p.Banks) != 1 || p.Banks[0].Key != "HPT00001" || p.Banks[0].PerMille != 500 || p.Banks[0].Label == "") {
			t.Errorf("period %d banks: %+v", want.days, p.Banks)
		}
	}
	// Past days are kept: a figure that changes in one is seen once the
	// cache has gone stale.
	e.db.Exec(`UPDATE pay_orders SET amount = amount + 1 WHERE mch_order_no = 'HC'`)
	if h, _ := e.d.HomeFor(ctx, operator); h.Periods[1].Collected != 35000 {
		t.Errorf("a past day read again at once: %d", h.Periods[1].Collected)
	}
	e.clock.Advance(dayFresh + time.Hour)
	if h, _ := e.d.HomeFor(ctx, operator); h.Periods[2].Collected != 75001 && h.Periods[2].Collected != 35001 {
		t.Errorf("a past day not read again: %+v", h.Periods[2])
	}
}

// A paid callback's income is kept once, and the home page's fees are
// amount − income.
func TestIncomeKeptForFees(t *testing.T) {
	e := newCoreEnv(t).withSandbox(sandbox.Faults{})
	ctx := context.Background()
	o := e.payOrder(e.account.ID, "INC-1", "P-INC-1", 100, 0)
	apply := func(status int, income int64) {
		t.Helper()
		if err := e.db.InTx(ctx, func(tx *sql.Tx) error {
			_, _, err := e.d.applyPayObservation(ctx, tx, o, observation{Source: sourceCallback, Actor: "gateway", Status: status, Income: income})
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	income := func() any {
		var v any
		e.db.QueryRow(`SELECT income FROM pay_orders WHERE id = ?`, o.ID).Scan(&v)
		return v
	}
	apply(1, 98) // not paid yet: no income
	if v := income(); v != nil {
		t.Fatalf("income of an unpaid order: %v", v)
	}
	apply(2, 101) // more than the amount: ignored
	if v := income(); v != nil {
		t.Fatalf("income above the amount: %v", v)
	}
	apply(2, 98)
	apply(2, 90) // a later callback does not change it
	if v := income(); v != int64(98) {
		t.Fatalf("income %v", v)
	}
	h, err := e.d.HomeFor(ctx, operator)
	if err != nil {
		t.Fatal(err)
	}
	if p := h.Periods[0]; p.Fees != 2 || p.FeesCount != 1 || p.Collected != 100 {
		t.Fatalf("today: %+v", p)
	}
}

func TestDelayHistogram(t *testing.T) {
	ds := []time.Duration{5 * time.Millisecond, 2 * time.Second, 2 * time.Second, 3*time.Second + 7*time.Millisecond, 90 * time.Second, 2 * time.Hour}
	h := newDelayHist(ds)
	for _, tc := range []struct {
		p    int
		want time.Duration
	}{{1, 0}, {50, 2 * time.Second}, {60, 3 * time.Second}, {80, 90 * time.Second}, {95, time.Hour}, {100, time.Hour}} {
		if got := h.percentile(len(ds), tc.p); got != tc.want {
			t.Errorf("p%d: %s, want %s", tc.p, got, tc.want)
		}
	}
}
