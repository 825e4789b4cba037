package store

import (
	"context"
	"database/sql"
	"encoding/csv"
	"strings"
)

// encodeCells keeps an error row's cells as one CSV record ("" for none).
func encodeCells(cells []string) string {
	if cells == nil {
		return ""
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write(cells)
	w.Flush()
	return strings.TrimSuffix(b.String(), "\n")
}

func decodeCells(s string) []string {
	if s == "" {
		return nil
	}
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	rec, err := r.Read()
	if err != nil {
		return nil
	}
	return rec
}

// ErrorRow is one row of a batch's file that did not become a payout: its
// errors, its cells as read (template order; nil for batches uploaded
// before they were kept) and the row as read.
type ErrorRow struct {
	RowNo    int
	Messages []string
	Cells    []string
	Raw      string
}

// BatchErrorRows calls fn for each row with errors of a batch, by row.
func (db *DB) BatchErrorRows(ctx context.Context, batchID int64, fn func(ErrorRow) error) error {
	rows, err := db.QueryContext(ctx, `SELECT row_no, message, raw, cells FROM payout_batch_issues
		WHERE batch_id = ? AND severity = ? ORDER BY row_no, id`, batchID, IssueError)
	if err != nil {
		return err
	}
	defer rows.Close()
	var cur ErrorRow
	have := false
	for rows.Next() {
		var rowNo int
		var msg, raw, cells string
		if err := rows.Scan(&rowNo, &msg, &raw, &cells); err != nil {
			return err
		}
		if have && rowNo != cur.RowNo {
			if err := fn(cur); err != nil {
				return err
			}
			have = false
		}
		if !have {
			cur, have = ErrorRow{RowNo: rowNo, Raw: raw}, true
		}
		cur.Messages = append(cur.Messages, msg)
		if cur.Cells == nil {
			cur.Cells = decodeCells(cells)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if have {
		return fn(cur)
	}
	return nil
}

// CopiedToTx is the newest batch a batch was copied or retried into; 0:
// none.
func (db *DB) CopiedToTx(ctx context.Context, tx *sql.Tx, batchID int64) (int64, error) {
	return copiedTo(ctx, tx, batchID)
}

// CopiedTo is CopiedToTx outside a transaction.
func (db *DB) CopiedTo(ctx context.Context, batchID int64) (int64, error) {
	return copiedTo(ctx, db.DB, batchID)
}

func copiedTo(ctx context.Context, q querier, batchID int64) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT coalesce(max(id), 0) FROM payout_batches WHERE retry_of = ?`, batchID).Scan(&id)
	return id, err
}
