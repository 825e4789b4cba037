package store

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// What a search hit matched.
const (
	MatchMchOrderNo      = "mchOrderNo"
	MatchPayOrderID      = "payOrderId"
	MatchChannelOrderNo  = "channelOrderNo"
	MatchSubject         = "subject"
	MatchMchTransOrderNo = "mchTransOrderNo"
	MatchTransOrderID    = "transOrderId"
	MatchPayee           = "payee"
	MatchAmount          = "amount"
)

// SearchQuery is what the search box asks for: Text matched as the start
// of every order number, of a payout's payee name and of a pay order's
// subject, in any case; and Amount (fen, 0: none), an exact amount.
type SearchQuery struct {
	Text   string
	Amount int64
	Limit  int // hits at most; 0 → 20
}

// SearchHit is one pay order or payout found, with what matched.
type SearchHit struct {
	Kind      string // KindPay or KindTrans
	ID        int64
	MchNo     string // mchOrderNo or mchTransOrderNo
	GateNo    string // payOrderId or transOrderId
	Channel   string
	Name      string // a payout's payee
	Subject   string // a pay order's subject
	Amount    int64
	Status    *int
	State     string
	CreatedAt time.Time
	Matched   string // one of the Match constants: the first field that matched
	// Exact: Text is the whole of the matched number (not just its start).
	Exact bool
}

// SearchResult is the newest hits first, at most the query's Limit.
// Partial: some field had more matches than a search reads (a short
// prefix such as "P"); the hits are then the newest among the most recent
// orders, and typing more finds the rest.
type SearchResult struct {
	Hits    []SearchHit
	Partial bool
}

// searchWide is how many matches of one field a search reads by the
// field's index before it takes the field for too common to sort them
// all; searchRecent is how many of the newest orders it then looks in.
const (
	searchWide   = 500
	searchRecent = 1000
	// searchRecentAmounts is how many of the newest payouts an amount is
	// looked for in.
	searchRecentAmounts = 20_000
)

type searchField struct {
	table, expr, match string
	// only is the WHERE of the field's partial index, which a query must
	// repeat for SQLite to use the index.
	only string
}

// searchFields are the fields the search box matches by their start.
func searchFields() []searchField {
	return []searchField{
		{"pay_orders", "lower(mch_order_no)", MatchMchOrderNo, ""},
		{"pay_orders", "lower(pay_order_id)", MatchPayOrderID, "pay_order_id IS NOT NULL"},
		{"pay_orders", "lower(channel_order_no)", MatchChannelOrderNo, "channel_order_no <> ''"},
		{"payouts", "lower(mch_trans_order_no)", MatchMchTransOrderNo, "state <> 'draft'"},
		{"payouts", "lower(trans_order_id)", MatchTransOrderID, "trans_order_id IS NOT NULL"},
		{"payouts", "lower(channel_order_no)", MatchChannelOrderNo, "channel_order_no <> ''"},
		{"payouts", "lower(account_name)", MatchPayee, "state <> 'draft'"},
		{"pay_orders", "lower(subject)", MatchSubject, ""},
	}
}

// cond is the condition that f starts with text, on f's index.
func (f searchField) cond(db *DB, text string) (string, []any) {
	cond, args := db.prefixRange(f.expr, text)
	if f.only != "" {
		cond += " AND " + f.only
	}
	return cond, args
}

// Search finds pay orders and payouts for the search box. Every field is
// one index range (or an exact amount on the amount index), so a search
// costs about the same with a million orders as with a thousand.
func (db *DB) Search(ctx context.Context, q SearchQuery) (SearchResult, error) {
	var res SearchResult
	limit := q.Limit
	if limit <= 0 {
		limit = 20
	}
	text := strings.ToLower(strings.TrimSpace(q.Text))
	type key struct {
		kind string
		id   int64
	}
	seen := map[key]bool{}
	var hits []SearchHit
	add := func(h SearchHit) {
		k := key{h.Kind, h.ID}
		if seen[k] {
			return
		}
		seen[k] = true
		hits = append(hits, h)
	}
	if text != "" {
		// A draft payout is outside the start indexes; its whole number,
		// as given or upper-cased (Paydesk's numbers are), still finds it.
		typed := strings.TrimSpace(q.Text)
		drafts, err := db.searchRows(ctx, "payouts", MatchMchTransOrderNo, `mch_trans_order_no IN (?, ?) AND state = 'draft' ORDER BY created_at DESC, id DESC LIMIT ?`,
			typed, strings.ToUpper(typed), limit)
		if err != nil {
			return res, err
		}
		for _, h := range drafts {
			add(h)
		}
		for _, f := range searchFields() {
			found, partial, err := db.searchField(ctx, f, text, limit)
			if err != nil {
				return res, err
			}
			res.Partial = res.Partial || partial
			for _, h := range found {
				add(h)
			}
		}
	}
	if q.Amount > 0 {
		// Pay orders have an index by amount; payouts do not (it would slow
		// every upload), so their amounts are looked for among the newest
		// searchRecentAmounts payouts, in the index by time, which holds
		// the amount; the result is then partial.
		found, err := db.searchRows(ctx, "pay_orders", MatchAmount, `amount = ? ORDER BY created_at DESC, id DESC LIMIT ?`, q.Amount, limit)
		if err != nil {
			return res, err
		}
		var since string
		err = db.QueryRowContext(ctx, `SELECT coalesce(CAST((SELECT created_at FROM payouts ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET `+
			fmt.Sprint(searchRecentAmounts-1)+`) AS TEXT), '')`).Scan(&since)
		if err != nil {
			return res, fmt.Errorf("search amount: %w", err)
		}
		from := since
		if from == "" {
			from = timeText(time.Time{}) // before every payout: a time on PostgreSQL, as '' is not
		}
		recent, err := db.searchRows(ctx, "payouts", MatchAmount, `created_at >= ? AND amount = ? ORDER BY created_at DESC, id DESC LIMIT ?`, from, q.Amount, limit)
		if err != nil {
			return res, err
		}
		if since != "" {
			res.Partial = true
		}
		for _, h := range append(found, recent...) {
			add(h)
		}
	}
	for i := range hits {
		switch hits[i].Matched {
		case MatchMchOrderNo, MatchMchTransOrderNo:
			hits[i].Exact = strings.ToLower(hits[i].MchNo) == text
		case MatchPayOrderID, MatchTransOrderID:
			hits[i].Exact = strings.ToLower(hits[i].GateNo) == text
		case MatchChannelOrderNo:
			hits[i].Exact = strings.ToLower(hits[i].Channel) == text
		}
	}
	sort.SliceStable(hits, func(i, j int) bool {
		if !hits[i].CreatedAt.Equal(hits[j].CreatedAt) {
			return hits[i].CreatedAt.After(hits[j].CreatedAt)
		}
		return hits[i].ID > hits[j].ID
	})
	if len(hits) > limit {
		hits = hits[:limit]
	}
	res.Hits = hits
	return res, nil
}

// searchField finds the newest rows of f's table whose f.expr starts with
// text: all of them by the index when there are few, else among the
// newest searchRecent rows, topped up with the first in the index's order.
func (db *DB) searchField(ctx context.Context, f searchField, text string, limit int) ([]SearchHit, bool, error) {
	cond, args := f.cond(db, text)
	n, err := db.countUpTo(ctx, f.table, cond, searchWide, args...)
	if err != nil {
		return nil, false, fmt.Errorf("search %s: %w", f.match, err)
	}
	if n == 0 {
		return nil, false, nil
	}
	if n <= searchWide {
		hits, err := db.searchRows(ctx, f.table, f.match, cond+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)...)
		return hits, false, err
	}
	recent := `id IN (SELECT id FROM ` + f.table + ` ORDER BY created_at DESC, id DESC LIMIT ` + fmt.Sprint(searchRecent) + `) AND ` + cond
	hits, err := db.searchRows(ctx, f.table, f.match, recent+` ORDER BY created_at DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil || len(hits) >= limit {
		return hits, true, err
	}
	// Too few among the newest: the first matches in the index's order
	// (alphabetical), so that a common start still shows some.
	more, err := db.searchRows(ctx, f.table, f.match, cond+` ORDER BY `+db.bytewise(f.expr)+` LIMIT ?`, append(args, limit)...)
	return append(hits, more...), true, err
}

// searchRows reads the hits of one table matching where (with its ORDER
// BY and LIMIT).
func (db *DB) searchRows(ctx context.Context, table, match, where string, args ...any) ([]SearchHit, error) {
	kind, cols := KindPay, `id, mch_order_no, coalesce(pay_order_id, ''), channel_order_no, '', subject, amount, status, state, created_at`
	if table == "payouts" {
		kind, cols = KindTrans, `id, mch_trans_order_no, coalesce(trans_order_id, ''), channel_order_no, account_name, '', amount, status, state, created_at`
	}
	rows, err := db.QueryContext(ctx, `SELECT `+cols+` FROM `+table+` WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("search %s: %w", match, err)
	}
	defer rows.Close()
	var out []SearchHit
	for rows.Next() {
		h := SearchHit{Kind: kind, Matched: match}
		var status *int64
		var created string
		if err := rows.Scan(&h.ID, &h.MchNo, &h.GateNo, &h.Channel, &h.Name, &h.Subject, &h.Amount, &status, &h.State, &created); err != nil {
			return nil, err
		}
		if status != nil {
			s := int(*status)
			h.Status = &s
		}
		h.CreatedAt = parseTime(created)
		out = append(out, h)
	}
	return out, rows.Err()
}
