package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"testing"
	"time"

	"paydesk/internal/dbtest"
)

// Two consoles claiming due payouts at once take each at most once; a
// claimed payout is not due again until its lease ends, and then is taken
// over.
func TestClaimedPayoutsAreTakenOnce(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	other, err := Open(ctx, db.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	acct := testAccount(t, db)
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		for i := range 60 {
			if _, err := db.InsertPayoutTx(ctx, tx, Payout{AccountID: acct, MchTransOrderNo: fmt.Sprintf("C%d", i), Amount: 100, State: PayoutUnknown}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	lease := now.Add(time.Minute)
	taken := map[int64]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, h := range []*DB{db, other, db, other} {
		wg.Go(func() {
			for {
				list, err := h.ClaimPayoutsDue(ctx, PayoutUnknown, now, lease, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(list) == 0 {
					return
				}
				mu.Lock()
				for _, p := range list {
					taken[p.ID]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(taken) != 60 {
		t.Fatalf("%d payouts claimed, want 60", len(taken))
	}
	for id, n := range taken {
		if n != 1 {
			t.Errorf("payout %d claimed %d times", id, n)
		}
	}
	if list, err := db.ClaimPayoutsDue(ctx, PayoutUnknown, now.Add(59*time.Second), lease, 100); err != nil || len(list) != 0 {
		t.Fatalf("during the lease: %d claimed again (%v)", len(list), err)
	}
	if list, err := other.ClaimPayoutsDue(ctx, PayoutUnknown, lease, lease.Add(time.Minute), 100); err != nil || len(list) != 60 {
		t.Fatalf("after the lease: %d taken over, want 60 (%v)", len(list), err)
	}
}

// The reconciler's orders are claimed alike: of two consoles asking at once
// each order goes to one, and none again before the lease ends.
func TestReconcileCandidatesClaimedOnce(t *testing.T) {
	ctx := context.Background()
	created := time.Now().Add(-time.Hour)
	clock := created
	db, err := Open(ctx, dbtest.URL(t), func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acct := testAccount(t, db)
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		for i := range 30 {
			if _, err := db.InsertPayOrderTx(ctx, tx, PayOrder{AccountID: acct, MchOrderNo: fmt.Sprintf("R%d", i), ProductID: 8000, Amount: 100, State: PayStateOpen}); err != nil {
				return err
			}
			if _, err := db.InsertPayoutTx(ctx, tx, Payout{AccountID: acct, MchTransOrderNo: fmt.Sprintf("RT%d", i), Amount: 100, State: PayoutSubmitted}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	lease := now.Add(time.Minute)
	taken := map[string]int{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 3 {
		wg.Go(func() {
			for {
				list, err := db.ClaimReconcileCandidates(ctx, now, 10*time.Minute, 24*time.Hour, lease, 4)
				if err != nil {
					t.Error(err)
					return
				}
				if len(list) == 0 {
					return
				}
				mu.Lock()
				for _, o := range list {
					taken[fmt.Sprint(o.Kind, o.ID)]++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(taken) != 60 {
		t.Fatalf("%d orders claimed, want 60", len(taken))
	}
	for k, n := range taken {
		if n != 1 {
			t.Errorf("%s claimed %d times", k, n)
		}
	}
	if list, _ := db.ReconcileCandidates(ctx, now, 10*time.Minute, 24*time.Hour, 100); len(list) != 0 {
		t.Errorf("%d orders due during the lease", len(list))
	}
	if list, _ := db.ReconcileCandidates(ctx, lease, 10*time.Minute, 24*time.Hour, 100); len(list) != 60 {
		t.Errorf("%d orders due after the lease, want 60", len(list))
	}
}
