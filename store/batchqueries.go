package store

import (
	"context"
	"database/sql"
	"time"
)

// DraftTotalsTx counts the draft payouts of a batch and sums their
// amounts, inside tx.
func (db *DB) DraftTotalsTx(ctx context.Context, tx *sql.Tx, batchID int64) (n int, sum int64, err error) {
	err = tx.QueryRowContext(ctx, `SELECT count(*), CAST(coalesce(sum(amount), 0) AS BIGINT) FROM payouts WHERE batch_id = ? AND state = ?`, batchID, PayoutDraft).Scan(&n, &sum)
	return n, sum, err
}

// WarningRowsTx counts the rows of a batch with a warning, inside tx.
func (db *DB) WarningRowsTx(ctx context.Context, tx *sql.Tx, batchID int64) (int, error) {
	return warningRows(ctx, tx, batchID)
}

// WarningRows counts the rows of a batch with a warning.
func (db *DB) WarningRows(ctx context.Context, batchID int64) (int, error) {
	return warningRows(ctx, db.DB, batchID)
}

func warningRows(ctx context.Context, q querier, batchID int64) (int, error) {
	var n int
	err := q.QueryRowContext(ctx, `SELECT count(DISTINCT row_no) FROM payout_batch_issues WHERE batch_id = ? AND severity = ?`, batchID, IssueWarning).Scan(&n)
	return n, err
}

// SetBatchEncodingTx records the encoding a batch's file was read in.
func (db *DB) SetBatchEncodingTx(ctx context.Context, tx *sql.Tx, batchID int64, encoding string) error {
	_, err := tx.ExecContext(ctx, `UPDATE payout_batches SET encoding = ? WHERE id = ?`, encoding, batchID)
	return err
}

// AddBatchWarningTx adds a warning about one row of a batch, inside tx.
func (db *DB) AddBatchWarningTx(ctx context.Context, tx *sql.Tx, batchID int64, rowNo int, message string) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO payout_batch_issues (batch_id, row_no, severity, message) VALUES (?, ?, ?, ?)`, batchID, rowNo, IssueWarning, message)
	return err
}

// PayoutsUnconfirmedRefusals lists refused payouts whose refusal no query
// has confirmed yet and that are due to be asked about at now.
func (db *DB) PayoutsUnconfirmedRefusals(ctx context.Context, now time.Time, limit int) ([]Payout, error) {
	return db.payoutList(ctx, `SELECT `+payoutCols+` FROM payouts WHERE refusal_unconfirmed = 1 AND state = ?
		AND (next_try_at IS NULL OR next_try_at <= ?) ORDER BY id LIMIT ?`, PayoutRefused, timeText(now), limit)
}

// ReopenBatchTx takes back the outcome of a finished batch, one of whose
// payouts turned out not to be final: the worker records it again once
// every payout is.
func (db *DB) ReopenBatchTx(ctx context.Context, tx *sql.Tx, batchID int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE payout_batches SET outcome = '', finished_at = NULL, updated_at = ? WHERE id = ? AND state = ?`,
		timeText(db.now()), batchID, BatchApproved)
	return err
}

// UnconfirmedRefusals counts a batch's refused payouts whose refusal no
// query has confirmed yet.
func (db *DB) UnconfirmedRefusals(ctx context.Context, batchID int64) (int, error) {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM payouts WHERE refusal_unconfirmed = 1 AND state = ? AND batch_id = ?`, PayoutRefused, batchID).Scan(&n)
	return n, err
}
