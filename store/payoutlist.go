package store

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// PayoutPhases are the values of a payout's phase (migration 0081), which
// folds its state and the gateway's status into one word the payouts list
// filters on.
func PayoutPhases() []string {
	return []string{"draft", "awaiting_approval", "approved", "sending", "transferring", "unclear", "succeeded", "failed",
		"refused", "rejected", "expired", "cancelled"}
}

// IsPayoutPhase reports whether s is one of PayoutPhases.
func IsPayoutPhase(s string) bool {
	for _, p := range PayoutPhases() {
		if p == s {
			return true
		}
	}
	return false
}

// PayoutFilter selects payouts for the payouts list and its CSV export.
// Zero fields do not filter.
type PayoutFilter struct {
	Phase     string // one of PayoutPhases
	BatchID   int64
	AccountID int64     // the gateway account paid from
	From, To  time.Time // created at ≥ From and < To
	Name      string    // payee name prefix, any case
	BankCode  string    // exact, any case
	AccountNo string    // payee account number prefix (spaces ignored)
	MinAmount int64     // fen, inclusive
	MaxAmount int64     // fen, inclusive
	After     PayCursor // rows older than this (the next page)
	Before    PayCursor // rows newer than this (the previous page)
	Limit     int       // rows per page; 0 → 50

	// commonName: Name starts more than nameWide names, so the list
	// walks the index by time instead of sorting them all.
	commonName bool
	// fewAmounts: the amount range holds at most nameWide payouts, so the
	// list reads them through the amount index and sorts them.
	fewAmounts bool
}

// nameWide is how many payees a name prefix may match before the list
// reads by time instead of by name: for a common start (a surname) a
// page is found among the newest rows sooner than all its names sorted.
const nameWide = 2000

// PayoutPage is one page of the payouts list, newest first, with the
// cursors of its neighbours ("" when there is none).
type PayoutPage struct {
	Payouts []Payout
	Newer   string
	Older   string
}

// prefixEnd is the least string above every string that starts with p
// (compared byte by byte, as an index on text is): p with its last
// character raised by one. "" for an empty p.
func prefixEnd(p string) string {
	r, n := utf8.DecodeLastRuneInString(p)
	if n == 0 {
		return ""
	}
	if r == utf8.RuneError || r >= utf8.MaxRune || r == 0xD7FF {
		return p + string(utf8.MaxRune)
	}
	return p[:len(p)-n] + string(r+1)
}

// payoutSent is the WHERE of the payouts indexes that hold no drafts
// (migrations 0081 and 0091): payouts whose batch was sent for approval.
// A query says it in so many words for SQLite and PostgreSQL to use them.
// A name filter finds drafts only together with the draft status filter.
const payoutSent = `state <> 'draft'`

// payoutDrafts selects the drafts by their batches (a payout is a draft
// only while its batch is one): the status index holds no drafts.
const payoutDrafts = `phase = 'draft' AND batch_id IN (SELECT id FROM payout_batches WHERE state = 'draft')`

// prefixRange matches expr (a lower-cased, indexed expression) against
// the prefix p as a range, which an index seeks on, where LIKE 'p%' would
// scan.
func (db *DB) prefixRange(expr, p string) (string, []any) {
	p = strings.ToLower(p)
	expr = db.bytewise(expr)
	return expr + ` >= ? AND ` + expr + ` < ?`, []any{p, prefixEnd(p)}
}

func (f PayoutFilter) where(db *DB) (string, []any) {
	var conds []string
	var args []any
	add := func(c string, a ...any) {
		conds = append(conds, c)
		args = append(args, a...)
	}
	switch f.Phase {
	case "":
	case "draft":
		add(payoutDrafts)
	default:
		add(`phase = ? AND `+payoutSent, f.Phase)
	}
	if f.BatchID != 0 {
		add(`batch_id = ?`, f.BatchID)
	}
	if f.AccountID != 0 {
		add(`account_id = ?`, f.AccountID)
	}
	if !f.From.IsZero() {
		add(`created_at >= ?`, timeText(f.From))
	}
	if !f.To.IsZero() {
		add(`created_at < ?`, timeText(f.To))
	}
	if n := strings.TrimSpace(f.Name); n != "" {
		expr := `lower(account_name)`
		if f.commonName || f.Phase == "draft" {
			// Not the indexed expression: read by time (the name index
			// holds no drafts).
			expr = `(lower(account_name) || '')`
		}
		c, a := db.prefixRange(expr, n)
		if f.Phase != "draft" {
			c += ` AND ` + payoutSent
		}
		add(c, a...)
	}
	if b := strings.TrimSpace(f.BankCode); b != "" {
		add(`bank_code = ?`, strings.ToUpper(b))
	}
	if no := strings.ReplaceAll(strings.TrimSpace(f.AccountNo), " ", ""); no != "" {
		col := db.bytewise(`account_no`)
		add(col+` >= ? AND `+col+` < ?`, no, prefixEnd(no))
	}
	if f.MinAmount > 0 || f.MaxAmount > 0 {
		col := "amount"
		if !f.fewAmounts {
			// Not the indexed column: read by time, checking the amount
			// in the time index, which holds it.
			col = "+amount"
		}
		c, a := amountRange(col, f.MinAmount, f.MaxAmount)
		if f.Phase != "draft" {
			// The amount index holds no drafts.
			c += ` AND ` + payoutSent
		}
		add(c, a...)
	}
	return strings.Join(conds, " AND "), args
}

// amountRange is the condition of an amount filter on col (fen,
// inclusive; 0 leaves that end open).
func amountRange(c string, lo, hi int64) (string, []any) {
	var conds []string
	var args []any
	if lo > 0 {
		conds, args = append(conds, c+` >= ?`), append(args, lo)
	}
	if hi > 0 {
		conds, args = append(conds, c+` <= ?`), append(args, hi)
	}
	return strings.Join(conds, " AND "), args
}

// ListPayouts returns one page of payouts matching f, newest first, paged
// by keyset (created_at, id) so that every page costs the same however
// deep it is.
func (db *DB) ListPayouts(ctx context.Context, f PayoutFilter) (PayoutPage, error) {
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	if n := strings.TrimSpace(f.Name); n != "" && f.Phase == "" && f.BatchID == 0 && f.From.IsZero() && f.To.IsZero() {
		c, a := db.prefixRange(`lower(account_name)`, n)
		matches, err := db.countUpTo(ctx, "payouts", c+` AND `+payoutSent, nameWide, a...)
		if err != nil {
			return PayoutPage{}, fmt.Errorf("list payouts: %w", err)
		}
		f.commonName = matches > nameWide
	}
	if (f.MinAmount > 0 || f.MaxAmount > 0) && f.Phase == "" && f.BatchID == 0 && f.From.IsZero() && f.To.IsZero() && strings.TrimSpace(f.Name) == "" {
		// An amount (or a narrow range) that few payouts have is read
		// through the amount index; one that many have, by time, where a
		// page is found among the newest.
		c, a := amountRange("amount", f.MinAmount, f.MaxAmount)
		matches, err := db.countUpTo(ctx, "payouts", c+` AND `+payoutSent, nameWide, a...)
		if err != nil {
			return PayoutPage{}, fmt.Errorf("list payouts: %w", err)
		}
		f.fewAmounts = matches <= nameWide
	}
	q, args, backward := db.payoutPageQuery(f, limit)
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return PayoutPage{}, fmt.Errorf("list payouts: %w", err)
	}
	defer rows.Close()
	var out []Payout
	for rows.Next() {
		p, err := scanPayout(rows)
		if err != nil {
			return PayoutPage{}, err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return PayoutPage{}, err
	}
	more := len(out) > limit
	if more {
		out = out[:limit]
	}
	if backward {
		for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
			out[i], out[j] = out[j], out[i]
		}
	}
	page := PayoutPage{Payouts: out}
	if len(out) == 0 {
		return page, nil
	}
	cur := func(p Payout) string { return PayCursor{CreatedAt: timeText(p.CreatedAt), ID: p.ID}.String() }
	first, last := cur(out[0]), cur(out[len(out)-1])
	switch {
	case backward:
		if more {
			page.Newer = first
		}
		page.Older = last
	case f.After.ID != 0:
		page.Newer = first
		if more {
			page.Older = last
		}
	default:
		if more {
			page.Older = last
		}
	}
	return page, nil
}

// EachPayout calls fn for every payout matching f, newest first, reading
// in keyset batches so that memory stays flat however many match. f's
// cursors and Limit are ignored.
func (db *DB) EachPayout(ctx context.Context, f PayoutFilter, fn func(Payout) error) error {
	f.Before, f.After, f.Limit = PayCursor{}, PayCursor{}, 1000
	for {
		page, err := db.ListPayouts(ctx, f)
		if err != nil {
			return err
		}
		for _, p := range page.Payouts {
			if err := fn(p); err != nil {
				return err
			}
		}
		if page.Older == "" {
			return nil
		}
		f.After, _ = ParsePayCursor(page.Older)
	}
}

// payoutPageQuery is the query of one page of ListPayouts: limit+1 rows,
// oldest first when the page is read backward (before a cursor).
func (db *DB) payoutPageQuery(f PayoutFilter, limit int) (q string, _ []any, backward bool) {
	where, args := f.where(db)
	conds, args, order, backward := keysetPage(where, args, f.After, f.Before)
	q = `SELECT ` + payoutCols + ` FROM payouts`
	if f.fewAmounts {
		q += ` ` + db.indexedBy("payouts_amount_idx")
	}
	if len(conds) > 0 {
		q += ` WHERE ` + strings.Join(conds, " AND ")
	}
	q += ` ORDER BY ` + order + ` LIMIT ?`
	args = append(args, limit+1)
	return q, args, backward
}
