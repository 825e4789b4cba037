package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Payout states: the console's lifecycle around the gateway call. The
// gateway's status is separate (Payout.Status).
const (
	PayoutDraft            = "draft"             // in a batch being prepared
	PayoutAwaitingApproval = "awaiting_approval" // the batch waits for approval
	PayoutApproved         = "approved"          // may be sent; not sent yet
	PayoutSubmitting       = "submitting"        // durably marked before the create call
	PayoutUnknown          = "unknown"           // the create answer was unclear; only a query decides
	PayoutSubmitted        = "submitted"         // the gateway has it; Status says how it goes
	PayoutRefused          = "refused"           // the gateway definitely refused the create
	PayoutRejected         = "rejected"          // the batch was rejected; never sent
	PayoutExpired          = "expired"           // approval did not come in time; never sent
	PayoutCancelled        = "cancelled"         // dropped before sending
)

// Payout is one row of payouts.
type Payout struct {
	ID              int64
	AccountID       int64
	BatchID         int64 // 0 when not part of a batch
	RowNo           int
	MchTransOrderNo string
	TransOrderID    string // "" until the gateway has given it
	ChannelOrderNo  string
	Amount          int64 // fen
	Currency        string
	AccountName     string
	AccountNo       string
	BankCode        string
	BankName        string
	Province        string
	City            string
	AccountType     string
	AccountAttr     string
	BankType        string
	Param1          string
	Param2          string
	Status          *int // gateway status; nil until known
	State           string
	SubmitAttempts  int
	LastError       string
	// RefusalUnconfirmed: the gateway refused the payout when it was sent
	// again, and no query has yet confirmed that it does not hold an
	// earlier send under the same number.
	RefusalUnconfirmed bool
	TransSuccAt        time.Time
	Origin             string
	CreatedBy          string
	CreatedAt          time.Time
	UpdatedAt          time.Time
}

// StatusOr returns the gateway status, or def when none is known.
func (p Payout) StatusOr(def int) int {
	if p.Status == nil {
		return def
	}
	return *p.Status
}

const payoutCols = `id, account_id, coalesce(batch_id, 0), row_no, mch_trans_order_no, coalesce(trans_order_id, ''), channel_order_no, amount, currency,
	account_name, account_no, bank_code, bank_name, province, city, account_type, account_attr, bank_type, param1, param2,
	status, state, submit_attempts, last_error, coalesce(CAST(trans_succ_at AS TEXT), ''), origin, created_by, created_at, updated_at, refusal_unconfirmed`

func scanPayout(row rowScanner) (Payout, error) {
	var p Payout
	var status sql.NullInt64
	var succ, created, updated string
	err := row.Scan(&p.ID, &p.AccountID, &p.BatchID, &p.RowNo, &p.MchTransOrderNo, &p.TransOrderID, &p.ChannelOrderNo, &p.Amount, &p.Currency,
		&p.AccountName, &p.AccountNo, &p.BankCode, &p.BankName, &p.Province, &p.City, &p.AccountType, &p.AccountAttr, &p.BankType, &p.Param1, &p.Param2,
		&status, &p.State, &p.SubmitAttempts, &p.LastError, &succ, &p.Origin, &p.CreatedBy, &created, &updated, &p.RefusalUnconfirmed)
	if status.Valid {
		s := int(status.Int64)
		p.Status = &s
	}
	p.TransSuccAt, p.CreatedAt, p.UpdatedAt = parseTime(succ), parseTime(created), parseTime(updated)
	return p, err
}

func (db *DB) onePayout(ctx context.Context, q querier, where string, args ...any) (Payout, error) {
	p, err := scanPayout(db.queryRow(ctx, q, `SELECT `+payoutCols+` FROM payouts WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return p, fmt.Errorf("payout: %w", ErrNotFound)
	}
	return p, err
}

// PayoutByID returns one payout, or ErrNotFound.
func (db *DB) PayoutByID(ctx context.Context, id int64) (Payout, error) {
	return db.onePayout(ctx, db, `id = ?`, id)
}

// PayoutByIDTx reads one payout inside tx.
func (db *DB) PayoutByIDTx(ctx context.Context, tx *sql.Tx, id int64) (Payout, error) {
	return db.onePayout(ctx, tx, `id = ?`, id)
}

// PayoutByMchTransOrderNo returns the payout an account holds under a merchant payout number.
func (db *DB) PayoutByMchTransOrderNo(ctx context.Context, accountID int64, no string) (Payout, error) {
	return db.onePayout(ctx, db, `account_id = ? AND mch_trans_order_no = ?`, accountID, no)
}

// PayoutByTransOrderID returns the payout with the gateway's trans order id.
func (db *DB) PayoutByTransOrderID(ctx context.Context, id string) (Payout, error) {
	return db.onePayout(ctx, db, `trans_order_id = ?`, id)
}

// PayoutByNumber finds a payout by any of its numbers: transOrderId,
// mchTransOrderNo or channel order number.
func (db *DB) PayoutByNumber(ctx context.Context, number string) (Payout, error) {
	number = strings.TrimSpace(number)
	if number == "" {
		return Payout{}, fmt.Errorf("payout: %w", ErrNotFound)
	}
	if p, err := db.onePayout(ctx, db, `trans_order_id = ?`, number); !errors.Is(err, ErrNotFound) {
		return p, err
	}
	if p, err := db.onePayout(ctx, db, `mch_trans_order_no = ? ORDER BY id DESC LIMIT 1`, number); !errors.Is(err, ErrNotFound) {
		return p, err
	}
	return db.onePayout(ctx, db, `channel_order_no = ? AND channel_order_no <> '' ORDER BY id DESC LIMIT 1`, number)
}

// InsertPayoutTx stores a new payout inside tx and returns its id. A
// merchant payout number the account already holds gives ErrConflict.
func (db *DB) InsertPayoutTx(ctx context.Context, tx *sql.Tx, p Payout) (int64, error) {
	now := timeText(db.now())
	if p.Currency == "" {
		p.Currency = "cny"
	}
	if p.Origin == "" {
		p.Origin = "console"
	}
	var batch any
	if p.BatchID != 0 {
		batch = p.BatchID
	}
	id, err := db.insertID(ctx, tx, `INSERT INTO payouts (account_id, batch_id, row_no, mch_trans_order_no, trans_order_id, channel_order_no, amount, currency,
		account_name, account_no, bank_code, bank_name, province, city, account_type, account_attr, bank_type, param1, param2,
		status, state, submit_attempts, last_error, trans_succ_at, origin, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.AccountID, batch, p.RowNo, p.MchTransOrderNo, nullString(p.TransOrderID), p.ChannelOrderNo, p.Amount, p.Currency,
		p.AccountName, p.AccountNo, p.BankCode, p.BankName, p.Province, p.City, p.AccountType, p.AccountAttr, p.BankType, p.Param1, p.Param2,
		nullStatus(p.Status), p.State, p.SubmitAttempts, p.LastError, nullTime(p.TransSuccAt), p.Origin, p.CreatedBy, now, now)
	if err != nil {
		if isUnique(err) {
			return 0, fmt.Errorf("payout %s exists already: %w", p.MchTransOrderNo, ErrConflict)
		}
		return 0, fmt.Errorf("insert payout: %w", err)
	}
	return id, nil
}

// UpdatePayoutTx writes the mutable fields of p (gateway ids, status,
// state, attempts, error, success time, unconfirmed refusal) inside tx, but only if the row
// still has the status and state it had when read (prev); ErrConflict
// otherwise, so that callers re-read and decide again.
func (db *DB) UpdatePayoutTx(ctx context.Context, tx *sql.Tx, prev, p Payout) error {
	var res sql.Result
	update := func() (err error) {
		res, err = db.execTx(ctx, tx, `UPDATE payouts SET trans_order_id = ?, channel_order_no = ?, status = ?, state = ?,
			submit_attempts = ?, last_error = ?, trans_succ_at = ?, refusal_unconfirmed = ?, updated_at = ?
			WHERE id = ? AND state = ? AND status IS NOT DISTINCT FROM ?`,
			nullString(p.TransOrderID), p.ChannelOrderNo, nullStatus(p.Status), p.State,
			p.SubmitAttempts, p.LastError, nullTime(p.TransSuccAt), p.RefusalUnconfirmed, timeText(db.now()),
			p.ID, prev.State, nullStatus(prev.Status))
		return err
	}
	var err error
	if p.TransOrderID != prev.TransOrderID {
		err = db.guard(ctx, tx, update) // the unique gateway id is set
	} else {
		err = update()
	}
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("trans order id %s belongs to another payout: %w", p.TransOrderID, ErrConflict)
		}
		return fmt.Errorf("update payout: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("payout %d changed meanwhile: %w", p.ID, ErrConflict)
	}
	return nil
}
