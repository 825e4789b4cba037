package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// The payouts list selects and pages the same rows on both stores: every
// filter alone and some together, newest first, forward by the older
// cursor and back by the newer one, checked against the rule written
// here. The names and account numbers hold punctuation and mixed case,
// which a collation other than byte order would put inside or outside a
// prefix's range: on PostgreSQL the columns are given ICU's English
// collation, which sorts "a,b" between "a-" and "a." (bytes put it
// before), so that the ranges must compare bytes themselves.
func TestListPayoutsFiltersAndPages(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	acct := testAccount(t, db)
	if db.Postgres() {
		if _, err := db.ExecContext(ctx, `ALTER TABLE payouts ALTER COLUMN account_name TYPE TEXT COLLATE "en-x-icu",
			ALTER COLUMN account_no TYPE TEXT COLLATE "en-x-icu"`); err != nil {
			t.Fatal(err)
		}
	}
	base := time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)
	names := []string{"ab", "a-b", "AB Trading", "a b", "Abc", "ac", "王五", "王小明", "李四", "A-C", "a,b"}
	banks := []string{"ICBC", "CCB", "ABC"}
	type row struct {
		p     Payout
		phase string
	}
	var all []row
	err := db.InTx(ctx, func(tx *sql.Tx) error {
		var batches []int64
		for range 2 {
			id, err := db.CreateBatchTx(ctx, tx, Batch{AccountID: acct, Kind: BatchCSV, State: BatchApproved, CreatedBy: "a"})
			if err != nil {
				return err
			}
			batches = append(batches, id)
		}
		draftBatch, err := db.CreateBatchTx(ctx, tx, Batch{AccountID: acct, Kind: BatchCSV, State: BatchDraft, CreatedBy: "a"})
		if err != nil {
			return err
		}
		states := []string{PayoutDraft, PayoutAwaitingApproval, PayoutSubmitting, PayoutSubmitted, PayoutSubmitted, PayoutSubmitted, PayoutUnknown, PayoutRefused}
		for i := range 150 {
			state := states[i%len(states)]
			var status any
			phase := state
			switch state {
			case PayoutSubmitted:
				s := []int{1, 2, 3, 4}[(i/8)%4]
				status = s
				phase = map[int]string{1: "transferring", 2: "succeeded", 3: "failed", 4: "succeeded"}[s]
			case PayoutSubmitting:
				phase = "sending"
			case PayoutUnknown:
				phase = "unclear"
			}
			var batch any
			switch {
			case state == PayoutDraft:
				batch = draftBatch // a payout is a draft only in a batch being prepared
			case i%3 > 0:
				batch = batches[i%3-1]
			}
			at := base.Add(time.Duration(i/4) * time.Minute) // rows of one minute share their time
			p := Payout{AccountID: acct, MchTransOrderNo: fmt.Sprintf("L%03d", i), Amount: int64(100 * (1 + i%7)),
				AccountName: names[i%len(names)], AccountNo: fmt.Sprintf("6222-%02d %d", i%13, i), BankCode: banks[i%len(banks)], State: state, CreatedAt: at}
			if b, ok := batch.(int64); ok {
				p.BatchID = b
			}
			id, err := db.insertID(ctx, tx, `INSERT INTO payouts (account_id, batch_id, row_no, mch_trans_order_no, amount, account_name, account_no, bank_code,
				status, state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				acct, batch, i+2, p.MchTransOrderNo, p.Amount, p.AccountName, p.AccountNo, p.BankCode, status, state, timeText(at), timeText(at))
			if err != nil {
				return err
			}
			p.ID = id
			all = append(all, row{p, phase})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(all, func(a, b row) int {
		if c := b.p.CreatedAt.Compare(a.p.CreatedAt); c != 0 {
			return c
		}
		return int(b.p.ID - a.p.ID)
	})
	batchID := all[0].p.BatchID
	if batchID == 0 {
		batchID = all[1].p.BatchID
	}
	filters := []PayoutFilter{
		{},
		{Phase: "succeeded"}, {Phase: "draft"}, {Phase: "transferring"},
		{BatchID: batchID},
		{AccountID: acct},
		{From: base.Add(5 * time.Minute), To: base.Add(20 * time.Minute)},
		{Name: "ab"}, {Name: "A"}, {Name: "a-"}, {Name: "王"}, {Name: "ab", Phase: "draft"}, {Name: "Ab", Phase: "failed"},
		{BankCode: "icbc"},
		{AccountNo: "6222-0"}, {AccountNo: "6222-1 1"},
		{MinAmount: 300, MaxAmount: 500}, {MinAmount: 300, MaxAmount: 300}, {MaxAmount: 200, Phase: "draft"},
		{Phase: "succeeded", BankCode: "CCB", MinAmount: 200},
	}
	for _, f := range filters {
		var want []int64
		for _, r := range all {
			p := r.p
			name := strings.ToLower(strings.TrimSpace(f.Name))
			no := strings.ReplaceAll(f.AccountNo, " ", "")
			if (f.Phase == "" || r.phase == f.Phase) && (f.BatchID == 0 || p.BatchID == f.BatchID) && (f.AccountID == 0 || p.AccountID == f.AccountID) &&
				(f.From.IsZero() || !p.CreatedAt.Before(f.From)) && (f.To.IsZero() || p.CreatedAt.Before(f.To)) &&
				(name == "" || strings.HasPrefix(strings.ToLower(p.AccountName), name) && (p.State != PayoutDraft || f.Phase == "draft")) &&
				(f.BankCode == "" || p.BankCode == strings.ToUpper(f.BankCode)) && (no == "" || strings.HasPrefix(p.AccountNo, no)) &&
				(f.MinAmount == 0 || p.Amount >= f.MinAmount) && (f.MaxAmount == 0 || p.Amount <= f.MaxAmount) &&
				// Name and amount filters find drafts only with the draft
				// status (their indexes hold none).
				(f.MinAmount == 0 && f.MaxAmount == 0 || p.State != PayoutDraft || f.Phase == "draft") {
				want = append(want, p.ID)
			}
		}
		if len(want) == 0 && f.Phase != "draft" {
			t.Fatalf("%+v: no payout matches; the test needs some", f)
		}
		// Forward page by page, then back from the last page.
		f.Limit = 7
		var got []int64
		var pages []PayoutPage
		for {
			page, err := db.ListPayouts(ctx, f)
			if err != nil {
				t.Fatalf("%+v: %v", f, err)
			}
			pages = append(pages, page)
			for _, p := range page.Payouts {
				got = append(got, p.ID)
			}
			if page.Older == "" {
				break
			}
			f.After, _ = ParsePayCursor(page.Older)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%+v: forward %v, want %v", f, got, want)
			continue
		}
		g := f
		g.After = PayCursor{}
		for i := len(pages) - 1; i > 0; i-- {
			g.Before, _ = ParsePayCursor(pages[i].Newer)
			page, err := db.ListPayouts(ctx, g)
			if err != nil {
				t.Fatal(err)
			}
			if ids, wantIDs := payoutIDs(page.Payouts), payoutIDs(pages[i-1].Payouts); !slices.Equal(ids, wantIDs) {
				t.Errorf("%+v: back to page %d: %v, want %v", f, i-1, ids, wantIDs)
			}
		}
		var each []int64
		if err := db.EachPayout(ctx, f, func(p Payout) error { each = append(each, p.ID); return nil }); err != nil || !slices.Equal(each, want) {
			t.Errorf("%+v: each %v, want %v (%v)", f, each, want, err)
		}
	}
}

func payoutIDs(ps []Payout) []int64 {
	var out []int64
	for _, p := range ps {
		out = append(out, p.ID)
	}
	return out
}
