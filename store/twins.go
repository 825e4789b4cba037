package store

import (
	"bytes"
	"context"
	"database/sql"
	"hash/maphash"
	"slices"
	"strings"
	"time"
)

// RecentTwin is an earlier payout to the same account number with the same
// amount as a payout of a batch.
type RecentTwin struct {
	RowNo           int   // the batch payout's row
	ID              int64 // the earlier payout's
	MchTransOrderNo string
	BatchID         int64
	CreatedAt       time.Time
	Succeeded       bool
}

// How twins are found. The payouts made since `since` are read by time
// from payouts_created_idx, which holds their account numbers and amounts,
// and matched in memory against the batch's payouts; only the matches are
// read from the table. Looking each payout of a batch up in an index by
// account number cost more, and so did keeping that index: a file's
// account numbers come in no order, so every row of every uploaded file
// went into it at a random place.

// twinKeys are a batch's payouts' account numbers and amounts, kept
// compactly (a file of 100,000 rows takes about 6 MB): the account numbers
// one after another in one buffer, each payout chained to the one before
// with the same hash of account number and amount.
type twinKeys struct {
	seed    maphash.Seed
	last    map[uint64]int32 // hash → the latest payout with it, an index into payouts
	payouts []twinPayout
	text    []byte // the account numbers
}

type twinPayout struct {
	rowNo    int32
	prev     int32 // the payout before with the same hash, or -1
	amount   int64
	from, to uint32 // its account number in text
}

func (k *twinKeys) hash(accountNo []byte, amount int64) uint64 {
	return maphash.Bytes(k.seed, accountNo) ^ uint64(amount)*0x9e3779b97f4a7c15
}

func (k *twinKeys) add(rowNo int, accountNo string, amount int64) {
	if k.last == nil {
		k.seed, k.last = maphash.MakeSeed(), make(map[uint64]int32)
	}
	from := len(k.text)
	k.text = append(k.text, accountNo...)
	h := k.hash(k.text[from:], amount)
	prev, ok := k.last[h]
	if !ok {
		prev = -1
	}
	k.last[h] = int32(len(k.payouts))
	k.payouts = append(k.payouts, twinPayout{rowNo: int32(rowNo), prev: prev, amount: amount, from: uint32(from), to: uint32(len(k.text))})
}

// has reports whether a payout has this account number and amount.
func (k *twinKeys) has(accountNo []byte, amount int64) bool {
	i, ok := k.last[k.hash(accountNo, amount)]
	for ok && i >= 0 {
		p := k.payouts[i]
		if p.amount == amount && bytes.Equal(k.text[p.from:p.to], accountNo) {
			return true
		}
		i = p.prev
	}
	return false
}

// rows calls fn with the row of every payout with this account number and
// amount, latest first.
func (k *twinKeys) rows(accountNo []byte, amount int64, fn func(rowNo int)) {
	i, ok := k.last[k.hash(accountNo, amount)]
	for ok && i >= 0 {
		p := k.payouts[i]
		if p.amount == amount && bytes.Equal(k.text[p.from:p.to], accountNo) {
			fn(int(p.rowNo))
		}
		i = p.prev
	}
}

// twinInList is how many account numbers a lookup passes to SQLite to
// filter the recent payouts with, instead of matching all of them here.
const twinInList = 200

// twinDetailChunk is how many matched payouts one query reads.
const twinDetailChunk = 500

// findTwins finds the twins of keys among the payouts made since `since`
// with ids below `below` and not of batchID: earlier payouts to the same
// account number with the same amount that were or may be paid (not draft,
// rejected, expired, cancelled, refused or failed). They are returned by
// the batch payout's row, then by id.
func (db *DB) findTwins(ctx context.Context, tx *sql.Tx, keys *twinKeys, batchID int64, since time.Time, below int64) ([]RecentTwin, error) {
	if len(keys.payouts) == 0 {
		return nil, nil
	}
	q := `SELECT account_no, amount, id FROM payouts ` + db.indexedBy("payouts_created_idx") + ` WHERE created_at >= ? AND id < ?`
	args := []any{timeText(since), below}
	if len(keys.last) <= twinInList {
		// A few payouts (a single one, say): SQLite skips the others itself.
		seen := make(map[string]bool)
		for _, p := range keys.payouts {
			if a := string(keys.text[p.from:p.to]); !seen[a] {
				seen[a] = true
				args = append(args, a)
			}
		}
		q += ` AND account_no IN (` + strings.TrimSuffix(strings.Repeat("?, ", len(seen)), ", ") + `)`
	}
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	var matches []int64 // ids of recent payouts with a key of the batch
	var account sql.RawBytes
	var amount, id int64
	for rows.Next() {
		if err := rows.Scan(&account, &amount, &id); err != nil {
			rows.Close()
			return nil, err
		}
		if keys.has(account, amount) {
			matches = append(matches, id)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	var out []RecentTwin
	for len(matches) > 0 {
		chunk := matches[:min(len(matches), twinDetailChunk)]
		matches = matches[len(chunk):]
		args := make([]any, 0, len(chunk)+1)
		for _, id := range chunk {
			args = append(args, id)
		}
		args = append(args, batchID)
		rows, err := tx.QueryContext(ctx, `SELECT id, mch_trans_order_no, coalesce(batch_id, 0), created_at, CASE WHEN status IN (2, 4) THEN 1 ELSE 0 END, account_no, amount
			FROM payouts WHERE id IN (`+strings.TrimSuffix(strings.Repeat("?, ", len(chunk)), ", ")+`) AND (batch_id IS NULL OR batch_id <> ?)
			AND state NOT IN ('draft', 'rejected', 'expired', 'cancelled', 'refused') AND coalesce(status, -1) <> 3`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var t RecentTwin
			var at string
			if err := rows.Scan(&t.ID, &t.MchTransOrderNo, &t.BatchID, &at, &t.Succeeded, &account, &amount); err != nil {
				rows.Close()
				return nil, err
			}
			t.CreatedAt = parseTime(at)
			keys.rows(account, amount, func(rowNo int) {
				t.RowNo = rowNo
				out = append(out, t)
			})
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	slices.SortFunc(out, func(a, b RecentTwin) int {
		if a.RowNo != b.RowNo {
			return a.RowNo - b.RowNo
		}
		return int(a.ID - b.ID)
	})
	return out, nil
}

// RecentTwinsTx finds, for every payout of batchID, earlier payouts of other
// batches made since `since` to the same account number with the same
// amount that were or may be paid (not rejected, expired, cancelled,
// refused or failed), by row, then by id.
func (db *DB) RecentTwinsTx(ctx context.Context, tx *sql.Tx, batchID int64, since time.Time) ([]RecentTwin, error) {
	rows, err := tx.QueryContext(ctx, `SELECT row_no, account_no, amount FROM payouts WHERE batch_id = ? ORDER BY row_no, id`, batchID)
	if err != nil {
		return nil, err
	}
	var keys twinKeys
	for rows.Next() {
		var rowNo int
		var account string
		var amount int64
		if err := rows.Scan(&rowNo, &account, &amount); err != nil {
			rows.Close()
			return nil, err
		}
		keys.add(rowNo, account, amount)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return db.findTwins(ctx, tx, &keys, batchID, since, 1<<63-1)
}

// RecentTwins is RecentTwinsTx for the payouts w stored (call Flush
// first), without reading them back.
func (w *BatchWriter) RecentTwins(ctx context.Context, batchID int64, since time.Time) ([]RecentTwin, error) {
	return w.db.findTwins(ctx, w.tx, &w.keys, batchID, since, w.firstID)
}
