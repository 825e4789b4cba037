package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Batch kinds.
const (
	BatchCSV    = "csv"    // uploaded from a CSV file
	BatchSingle = "single" // one payout typed in the form: a batch of one
	BatchRetry  = "retry"  // the failed rows of another batch, with new numbers
)

// Batch states. Payouts of a batch carry the same state until the batch is
// approved; from then on each payout moves on its own.
const (
	BatchDraft            = "draft"
	BatchAwaitingApproval = "awaiting_approval"
	BatchApproved         = "approved"
	BatchRejected         = "rejected"
	BatchExpired          = "expired"
	BatchCancelled        = "cancelled"
)

// Batch outcomes, set once every payout of an approved batch is final.
const (
	OutcomeSucceeded          = "succeeded"
	OutcomePartiallySucceeded = "partially_succeeded"
	OutcomeFailed             = "failed"
)

// Batch is one row of payout_batches.
type Batch struct {
	ID               int64
	AccountID        int64
	Kind             string
	RetryOf          int64 // 0 unless Kind is BatchRetry
	FileName         string
	Encoding         string
	State            string
	FileRows         int // data rows read from the file
	ErrorRows        int // rows with blocking errors (not payouts)
	WarningRows      int
	ErrorsDropped    bool // the maker dropped the rows with errors
	TwoPerson        bool // the two-person rule was on when the batch was made
	NeedsSecond      bool // the total is above the second-approver limit
	CreatedBy        string
	SentBy           string
	SentAt           time.Time
	ExpiresAt        time.Time
	ApprovedBy       string
	ApprovedAt       time.Time
	ApprovalNote     string
	SecondApprovedBy string
	SecondApprovedAt time.Time
	RejectedBy       string
	RejectedAt       time.Time
	RejectReason     string
	Outcome          string
	FinishedAt       time.Time
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

const batchCols = `id, account_id, kind, coalesce(retry_of, 0), file_name, encoding, state, file_rows, error_rows, warning_rows, errors_dropped,
	two_person, needs_second, created_by, sent_by, coalesce(CAST(sent_at AS TEXT), ''), coalesce(CAST(expires_at AS TEXT), ''), approved_by, coalesce(CAST(approved_at AS TEXT), ''), approval_note,
	second_approved_by, coalesce(CAST(second_approved_at AS TEXT), ''), rejected_by, coalesce(CAST(rejected_at AS TEXT), ''), reject_reason, outcome, coalesce(CAST(finished_at AS TEXT), ''),
	created_at, updated_at`

func scanBatch(row rowScanner) (Batch, error) {
	var b Batch
	var sent, expires, approved, second, rejected, finished, created, updated string
	err := row.Scan(&b.ID, &b.AccountID, &b.Kind, &b.RetryOf, &b.FileName, &b.Encoding, &b.State, &b.FileRows, &b.ErrorRows, &b.WarningRows, &b.ErrorsDropped,
		&b.TwoPerson, &b.NeedsSecond, &b.CreatedBy, &b.SentBy, &sent, &expires, &b.ApprovedBy, &approved, &b.ApprovalNote,
		&b.SecondApprovedBy, &second, &b.RejectedBy, &rejected, &b.RejectReason, &b.Outcome, &finished, &created, &updated)
	b.SentAt, b.ExpiresAt, b.ApprovedAt, b.SecondApprovedAt = parseTime(sent), parseTime(expires), parseTime(approved), parseTime(second)
	b.RejectedAt, b.FinishedAt, b.CreatedAt, b.UpdatedAt = parseTime(rejected), parseTime(finished), parseTime(created), parseTime(updated)
	return b, err
}

// CreateBatchTx stores a new batch inside tx and returns its id.
func (db *DB) CreateBatchTx(ctx context.Context, tx *sql.Tx, b Batch) (int64, error) {
	now := timeText(db.now())
	var retry any
	if b.RetryOf != 0 {
		retry = b.RetryOf
	}
	id, err := db.insertID(ctx, tx, `INSERT INTO payout_batches (account_id, kind, retry_of, file_name, encoding, state, file_rows, error_rows, warning_rows,
		two_person, needs_second, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		b.AccountID, b.Kind, retry, b.FileName, b.Encoding, b.State, b.FileRows, b.ErrorRows, b.WarningRows, b.TwoPerson, b.NeedsSecond, b.CreatedBy, now, now)
	if err != nil {
		return 0, fmt.Errorf("insert batch: %w", err)
	}
	return id, nil
}

// BatchByID returns one batch, or ErrNotFound.
func (db *DB) BatchByID(ctx context.Context, id int64) (Batch, error) {
	return db.oneBatch(ctx, db, id)
}

// BatchByIDTx reads one batch inside tx.
func (db *DB) BatchByIDTx(ctx context.Context, tx *sql.Tx, id int64) (Batch, error) {
	return db.oneBatch(ctx, tx, id)
}

func (db *DB) oneBatch(ctx context.Context, q querier, id int64) (Batch, error) {
	b, err := scanBatch(q.QueryRowContext(ctx, `SELECT `+batchCols+` FROM payout_batches WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, fmt.Errorf("batch %d: %w", id, ErrNotFound)
	}
	return b, err
}

// UpdateBatchTx writes the mutable fields of b, but only if the batch is
// still in prev's state and unchanged since prev was read; ErrConflict
// otherwise.
func (db *DB) UpdateBatchTx(ctx context.Context, tx *sql.Tx, prev, b Batch) error {
	res, err := tx.ExecContext(ctx, `UPDATE payout_batches SET state = ?, file_rows = ?, error_rows = ?, warning_rows = ?, errors_dropped = ?,
		needs_second = ?, sent_by = ?, sent_at = ?, expires_at = ?, approved_by = ?, approved_at = ?, approval_note = ?,
		second_approved_by = ?, second_approved_at = ?, rejected_by = ?, rejected_at = ?, reject_reason = ?, outcome = ?, finished_at = ?, updated_at = ?
		WHERE id = ? AND state = ? AND updated_at = ?`,
		b.State, b.FileRows, b.ErrorRows, b.WarningRows, b.ErrorsDropped,
		b.NeedsSecond, b.SentBy, nullTime(b.SentAt), nullTime(b.ExpiresAt), b.ApprovedBy, nullTime(b.ApprovedAt), b.ApprovalNote,
		b.SecondApprovedBy, nullTime(b.SecondApprovedAt), b.RejectedBy, nullTime(b.RejectedAt), b.RejectReason, b.Outcome, nullTime(b.FinishedAt),
		timeText(db.now()), b.ID, prev.State, timeText(prev.UpdatedAt))
	if err != nil {
		return fmt.Errorf("update batch: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("batch %d changed meanwhile: %w", b.ID, ErrConflict)
	}
	return nil
}

// SetBatchOutcome records a finished batch's outcome once; later calls
// change nothing.
func (db *DB) SetBatchOutcome(ctx context.Context, id int64, outcome string) error {
	now := timeText(db.now())
	_, err := db.ExecContext(ctx, `UPDATE payout_batches SET outcome = ?, finished_at = ?, updated_at = ? WHERE id = ? AND outcome = ''`, outcome, now, now, id)
	return err
}

// Batches lists batches newest first, at most limit, with ids below before
// (0: from the newest).
func (db *DB) Batches(ctx context.Context, before int64, limit int) ([]Batch, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return collect(ctx, db, scanBatch, `SELECT `+batchCols+` FROM payout_batches WHERE id < ? ORDER BY id DESC LIMIT ?`, before, limit)
}

// ExpiredBatches lists batches awaiting approval whose approval time ran out.
func (db *DB) ExpiredBatches(ctx context.Context, now time.Time) ([]Batch, error) {
	return collect(ctx, db, scanBatch, `SELECT `+batchCols+` FROM payout_batches WHERE state = ? AND expires_at IS NOT NULL AND expires_at <= ? ORDER BY id`,
		BatchAwaitingApproval, timeText(now))
}

// UnfinishedApprovedBatches lists approved batches without an outcome yet.
func (db *DB) UnfinishedApprovedBatches(ctx context.Context) ([]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT id FROM payout_batches WHERE state = ? AND outcome = '' ORDER BY id`, BatchApproved)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// SetBatchPayoutsStateTx moves every payout of a batch that is in state from
// to state to, and returns how many moved.
func (db *DB) SetBatchPayoutsStateTx(ctx context.Context, tx *sql.Tx, batchID int64, from, to string) (int64, error) {
	res, err := tx.ExecContext(ctx, `UPDATE payouts SET state = ?, updated_at = ? WHERE batch_id = ? AND state = ?`, to, timeText(db.now()), batchID, from)
	if err != nil {
		return 0, fmt.Errorf("set batch payouts %s: %w", to, err)
	}
	return res.RowsAffected()
}

// BatchIssue is an error or a warning about one row of a batch.
type BatchIssue struct {
	BatchID  int64
	RowNo    int
	Severity string // "error" or "warning"
	Message  string
	Raw      string // the row as read, for error rows
	// Cells are an error row's cells in the template's column order, kept
	// with its first error (nil on the others and on warnings).
	Cells []string
}

// Issue severities.
const (
	IssueError   = "error"
	IssueWarning = "warning"
)

// BatchIssues lists a batch's issues of one severity by row, from offset.
func (db *DB) BatchIssues(ctx context.Context, batchID int64, severity string, offset, limit int) ([]BatchIssue, error) {
	rows, err := db.QueryContext(ctx, `SELECT batch_id, row_no, severity, message, raw FROM payout_batch_issues
		WHERE batch_id = ? AND severity = ? ORDER BY row_no, id LIMIT ? OFFSET ?`, batchID, severity, limit, offset)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []BatchIssue
	for rows.Next() {
		var i BatchIssue
		if err := rows.Scan(&i.BatchID, &i.RowNo, &i.Severity, &i.Message, &i.Raw); err != nil {
			return nil, err
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// BatchWriter inserts a batch's payouts and issues inside one transaction
// with prepared statements, many payouts per statement, for files of many
// thousand rows. Call Flush before the transaction commits.
type BatchWriter struct {
	db     *DB
	tx     *sql.Tx
	one    *sql.Stmt // one payout
	many   *sql.Stmt // writerRows payouts
	issue  *sql.Stmt
	now    string
	shared payoutShared // of the queued payouts
	buf    []any        // shared's arguments, then each queued payout's
	queued int
	// What RecentTwins looks for: the account numbers and amounts of the
	// payouts stored, and the first id they could have.
	keys    twinKeys
	firstID int64
}

// payoutShared are the columns a file's payouts have in common: bound once
// per statement rather than once per payout (numbered parameters ?1–?6),
// which spares the driver a third of its work binding.
type payoutShared struct {
	accountID, batchID int64
	currency, state    string
	createdBy          string
}

// writerRows is how many payouts one multi-row insert carries.
const writerRows = 50

// OR FAIL spares SQLite the statement journal that OR ABORT keeps to undo a
// half-done multi-row insert (a quarter of the insert time for 100,000
// rows). Nothing half-done survives anyway: a single-row insert checks every
// constraint before it writes, and a failing multi-row insert (Payout) fails
// the whole transaction.
const payoutInsertCols = `INSERT OR FAIL INTO payouts (account_id, batch_id, currency, state, created_by, created_at, updated_at,
	row_no, mch_trans_order_no, amount, account_name, account_no, bank_code, bank_name, province, city, account_type, account_attr,
	bank_type, param1, param2, origin) VALUES `

// payoutInsertValues is one payout: the shared columns, then payoutRowArgs
// anonymous parameters, which SQLite numbers from 7 on.
const payoutInsertValues = `(?1, ?2, ?3, ?4, ?5, ?6, ?6, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'console')`

const (
	payoutSharedArgs = 6
	payoutRowArgs    = 14
)

// NewBatchWriter prepares the inserts inside tx. Close it before the
// transaction ends.
//
// The connection keeps its 2 MiB page cache: every index of payouts gets a
// file's rows at one place, so a larger cache would save no time and cost
// memory.
func (db *DB) NewBatchWriter(ctx context.Context, tx *sql.Tx) (*BatchWriter, error) {
	w := &BatchWriter{db: db, tx: tx, now: timeText(db.now())}
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) + 1 FROM payouts`).Scan(&w.firstID); err != nil {
		return nil, err
	}
	var err error
	cols := payoutInsertCols
	if db.pg {
		// PostgreSQL keeps no statement journal to spare, and has no OR FAIL.
		cols = strings.Replace(cols, "INSERT OR FAIL", "INSERT", 1)
	}
	if w.one, err = tx.PrepareContext(ctx, cols+payoutInsertValues); err != nil {
		return nil, err
	}
	if w.many, err = tx.PrepareContext(ctx, cols+strings.TrimSuffix(strings.Repeat(payoutInsertValues+",", writerRows), ",")); err != nil {
		w.one.Close()
		return nil, err
	}
	if w.issue, err = tx.PrepareContext(ctx, `INSERT INTO payout_batch_issues (batch_id, row_no, severity, message, raw, cells) VALUES (?, ?, ?, ?, ?, ?)`); err != nil {
		w.one.Close()
		w.many.Close()
		return nil, err
	}
	w.buf = make([]any, 0, payoutSharedArgs+writerRows*payoutRowArgs)
	return w, nil
}

func (w *BatchWriter) sharedOf(p Payout) payoutShared {
	if p.Currency == "" {
		p.Currency = "cny"
	}
	return payoutShared{p.AccountID, p.BatchID, p.Currency, p.State, p.CreatedBy}
}

func (w *BatchWriter) sharedArgs(buf []any, sh payoutShared) []any {
	return append(buf, sh.accountID, sh.batchID, sh.currency, sh.state, sh.createdBy, w.now)
}

func rowArgs(buf []any, p Payout) []any {
	return append(buf, p.RowNo, p.MchTransOrderNo, p.Amount, p.AccountName, p.AccountNo, p.BankCode, p.BankName, p.Province, p.City,
		p.AccountType, p.AccountAttr, p.BankType, p.Param1, p.Param2)
}

// Payout queues p for insertion, many at a time. Use it for payouts whose
// merchant payout number cannot exist yet (generated from the batch id); a
// conflict then fails the whole transaction.
func (w *BatchWriter) Payout(ctx context.Context, p Payout) error {
	sh := w.sharedOf(p)
	if w.queued > 0 && sh != w.shared {
		if err := w.Flush(ctx); err != nil {
			return err
		}
	}
	if w.queued == 0 {
		w.shared = sh
		w.buf = w.sharedArgs(w.buf[:0], sh)
	}
	w.keys.add(p.RowNo, p.AccountNo, p.Amount)
	w.buf = rowArgs(w.buf, p)
	w.queued++
	if w.queued == writerRows {
		return w.Flush(ctx)
	}
	return nil
}

// PayoutNow inserts p at once. A merchant payout number the account already
// holds gives ErrConflict, and the transaction can go on.
func (w *BatchWriter) PayoutNow(ctx context.Context, p Payout) error {
	args := rowArgs(w.sharedArgs(make([]any, 0, payoutSharedArgs+payoutRowArgs), w.sharedOf(p)), p)
	if err := w.db.guard(ctx, w.tx, func() error {
		_, err := w.one.ExecContext(ctx, args...)
		return err
	}); err != nil {
		if isUnique(err) {
			return fmt.Errorf("payout %s exists already: %w", p.MchTransOrderNo, ErrConflict)
		}
		return fmt.Errorf("insert payout: %w", err)
	}
	w.keys.add(p.RowNo, p.AccountNo, p.Amount)
	return nil
}

// Flush inserts the queued payouts.
func (w *BatchWriter) Flush(ctx context.Context) error {
	var err error
	switch {
	case w.queued == 0:
		return nil
	case w.queued == writerRows:
		_, err = w.many.ExecContext(ctx, w.buf...)
	default:
		args := make([]any, payoutSharedArgs, payoutSharedArgs+payoutRowArgs)
		copy(args, w.buf)
		for i := 0; i < w.queued && err == nil; i++ {
			from := payoutSharedArgs + i*payoutRowArgs
			_, err = w.one.ExecContext(ctx, append(args, w.buf[from:from+payoutRowArgs]...)...)
		}
	}
	w.buf, w.queued = w.buf[:0], 0
	if err != nil {
		return fmt.Errorf("insert payouts: %w", err)
	}
	return nil
}

// Issue inserts one error or warning.
func (w *BatchWriter) Issue(ctx context.Context, i BatchIssue) error {
	_, err := w.issue.ExecContext(ctx, i.BatchID, i.RowNo, i.Severity, i.Message, i.Raw, encodeCells(i.Cells))
	return err
}

// Close releases the prepared statements; queued payouts not flushed are
// dropped. It may be called more than once.
func (w *BatchWriter) Close() {
	if w.one == nil {
		return
	}
	w.one.Close()
	w.many.Close()
	w.issue.Close()
	w.one = nil
}

// MchTransOrderNoTaken reports whether an account already holds a merchant
// payout number.
func (db *DB) MchTransOrderNoTaken(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, accountID int64, no string) (bool, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM payouts WHERE account_id = ? AND mch_trans_order_no = ?`, accountID, no).Scan(&n)
	return n > 0, err
}

// BatchPayouts lists a batch's payouts by row, from offset.
func (db *DB) BatchPayouts(ctx context.Context, batchID int64, offset, limit int) ([]Payout, error) {
	return db.payoutList(ctx, `SELECT `+payoutCols+` FROM payouts WHERE batch_id = ? ORDER BY row_no, id LIMIT ? OFFSET ?`, batchID, limit, offset)
}

// BatchPayoutsAll calls fn for every payout of a batch, by row, streaming.
func (db *DB) BatchPayoutsAll(ctx context.Context, batchID int64, fn func(Payout) error) error {
	rows, err := db.QueryContext(ctx, `SELECT `+payoutCols+` FROM payouts WHERE batch_id = ? ORDER BY row_no, id`, batchID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		p, err := scanPayout(rows)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Payouts lists payouts newest first with ids below before (0: from the newest).
func (db *DB) Payouts(ctx context.Context, before int64, limit int) ([]Payout, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	return db.payoutList(ctx, `SELECT `+payoutCols+` FROM payouts WHERE id < ? ORDER BY id DESC LIMIT ?`, before, limit)
}

func (db *DB) payoutList(ctx context.Context, q string, args ...any) ([]Payout, error) {
	return collect(ctx, db, scanPayout, q, args...)
}

// StateCount is how many payouts of a batch are in one state and gateway
// status, and their sum.
type StateCount struct {
	State  string
	Status *int
	Count  int
	Sum    int64 // fen
}

// BatchCounts counts a batch's payouts per state and gateway status.
func (db *DB) BatchCounts(ctx context.Context, batchID int64) ([]StateCount, error) {
	rows, err := db.QueryContext(ctx, `SELECT state, status, count(*), CAST(sum(amount) AS BIGINT) FROM payouts WHERE batch_id = ? GROUP BY state, status ORDER BY state, status`, batchID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []StateCount
	for rows.Next() {
		var c StateCount
		var status sql.NullInt64
		if err := rows.Scan(&c.State, &status, &c.Count, &c.Sum); err != nil {
			return nil, err
		}
		if status.Valid {
			s := int(status.Int64)
			c.Status = &s
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// The worker's queries: by state, through indexes that hold no drafts.
const (
	payoutsDueWhere     = `state = ? AND ` + payoutSent + ` AND (next_try_at IS NULL OR next_try_at <= ?) ORDER BY id LIMIT ?`
	payoutsUnknownWhere = `state = ? AND ` + payoutSent + ` AND id > ? ORDER BY id LIMIT ?`
	payoutsStuckWhere   = `state = ? AND ` + payoutSent + ` AND updated_at <= ? ORDER BY updated_at, id LIMIT ?`
)

// PayoutsDue lists payouts in state whose next try time has come (or is
// unset), oldest first.
func (db *DB) PayoutsDue(ctx context.Context, state string, now time.Time, limit int) ([]Payout, error) {
	return db.payoutList(ctx, `SELECT `+payoutCols+` FROM payouts WHERE `+payoutsDueWhere,
		state, timeText(now), limit)
}

// PayoutsUnsettled lists payouts the gateway has (state submitted) whose
// status is not final yet, that have not changed since before and are due
// at now, oldest first.
func (db *DB) PayoutsUnsettled(ctx context.Context, now, before time.Time, limit int) ([]Payout, error) {
	return db.payoutList(ctx, `SELECT `+payoutCols+` FROM payouts `+db.indexedBy("payouts_unsettled_idx")+` WHERE state = 'submitted' AND (status IS NULL OR status IN (0, 1))
		AND updated_at <= ? AND (next_try_at IS NULL OR next_try_at <= ?) ORDER BY updated_at, id LIMIT ?`, timeText(before), timeText(now), limit)
}

// SetPayoutNextTryTx sets when the worker may next look at a payout (zero:
// at once).
func (db *DB) SetPayoutNextTryTx(ctx context.Context, tx *sql.Tx, id int64, at time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE payouts SET next_try_at = ? WHERE id = ?`, nullTime(at), id)
	return err
}

// PayoutsUnknownAfter lists unknown payouts with ids above after, due or
// not, by id.
func (db *DB) PayoutsUnknownAfter(ctx context.Context, after int64, limit int) ([]Payout, error) {
	return db.payoutList(ctx, `SELECT `+payoutCols+` FROM payouts WHERE `+payoutsUnknownWhere, PayoutUnknown, after, limit)
}

// PayoutsStuck lists payouts in state unchanged since before, oldest first.
func (db *DB) PayoutsStuck(ctx context.Context, state string, before time.Time, limit int) ([]Payout, error) {
	return db.payoutList(ctx, `SELECT `+payoutCols+` FROM payouts WHERE `+payoutsStuckWhere,
		state, timeText(before), limit)
}

// BatchHistory lists the audit rows about a batch (subject "batch:ID"),
// oldest first: what happened to it, by whom.
func (db *DB) BatchHistory(ctx context.Context, batchID int64) ([]AuditEntry, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, at, actor, action, detail FROM audit_log WHERE subject = ? ORDER BY id`, fmt.Sprintf("batch:%d", batchID))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Detail); err != nil {
			return nil, err
		}
		e.At = parseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}
