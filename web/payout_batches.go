package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"

	"paydesk/desk/payoutcsv"
	"paydesk/store"
	"paydesk/views"
)

// maxUploadBytes bounds a batch upload request: the file limit plus room
// for the multipart envelope.
const maxUploadBytes = payoutcsv.MaxBytes + 1<<20

func (s *Server) batchesView(ctx context.Context, before int64) (views.BatchesView, error) {
	u, _ := userFrom(ctx)
	v := views.BatchesView{MaxRows: views.Count(payoutcsv.MaxRows), MaxMiB: payoutcsv.MaxBytes >> 20,
		CanMake: roleAccess(u.Role) >= operator}
	for _, c := range payoutcsv.Columns() {
		v.Columns = append(v.Columns, views.CSVColumn{Header: c.Header, Help: c.Help, Required: c.Required})
	}
	accts, _, err := s.accountOptions(ctx)
	if err != nil {
		return v, err
	}
	v.Accounts = accts
	list, err := s.db.Batches(ctx, before, pageRows+1)
	if err != nil {
		return v, err
	}
	for i, b := range list {
		if i == pageRows {
			v.NextURL = fmt.Sprintf("/payouts/batches?before=%d", list[i-1].ID)
			break
		}
		state, tone := batchState(b)
		v.Batches = append(v.Batches, views.BatchListRow{ID: b.ID, Kind: b.Kind, FileName: b.FileName, State: state, Tone: tone,
			Outcome: outcomeText(b.Outcome), CreatedBy: b.CreatedBy, Created: views.Time(b.CreatedAt, s.loc)})
	}
	return v, nil
}

func batchState(b store.Batch) (string, string) {
	switch b.State {
	case store.BatchDraft:
		return "draft", ""
	case store.BatchAwaitingApproval:
		return "awaiting approval", "info"
	case store.BatchApproved:
		switch b.Outcome {
		case store.OutcomeSucceeded:
			return "succeeded", "ok"
		case store.OutcomePartiallySucceeded:
			return "partially succeeded", "warn"
		case store.OutcomeFailed:
			return "failed", "err"
		}
		return "approved, sending", "info"
	case store.BatchRejected:
		return "rejected", "err"
	}
	return b.State, ""
}

func outcomeText(o string) string { return strings.ReplaceAll(o, "_", " ") }

func (s *Server) batchesPage(w http.ResponseWriter, r *http.Request) error {
	before, _ := strconv.ParseInt(r.URL.Query().Get("before"), 10, 64)
	v, err := s.batchesView(r.Context(), before)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, views.Batches(s.page(r, "Payout batches", "payouts"), v))
}

// isUpload tells the payout file upload, which reads its own body.
func isUpload(r *http.Request) bool {
	return r.Method == http.MethodPost && r.URL.Path == "/payouts/batches"
}

// uploadBatch reads a CSV file into a new draft batch: valid rows become
// payouts with their numbers fixed, the others are kept as errors.
func (s *Server) uploadBatch(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	failWith := func(status int, msg string) error {
		v, err := s.batchesView(ctx, 0)
		if err != nil {
			return err
		}
		v.Error = msg
		return s.render(w, r, status, views.Batches(s.page(r, "Payout batches", "payouts"), v))
	}
	fail := func(msg string) error { return failWith(http.StatusUnprocessableEntity, msg) }
	tooLarge := fmt.Sprintf("The file is larger than %d MiB. Split it into smaller files (at most %d rows each).", payoutcsv.MaxBytes>>20, payoutcsv.MaxRows)
	if err := r.ParseMultipartForm(4 << 20); err != nil {
		switch he := bodyError(err); {
		case he == nil:
			return fail("The upload could not be read. Choose the CSV file again and upload it.")
		case he.status == http.StatusRequestEntityTooLarge:
			return failWith(he.status, tooLarge)
		default:
			return he // the request's context has ended: no page to build
		}
	}
	defer r.MultipartForm.RemoveAll()
	if err := checkText(r.MultipartForm.Value); err != nil {
		return err
	}
	file, hdr, err := r.FormFile("file")
	if err != nil {
		return fail("Choose a CSV file to upload.")
	}
	defer file.Close()
	if payoutcsv.HasControl(hdr.Filename, false) {
		return fail("The file's name contains a control character; rename the file and upload it again.")
	}
	if hdr.Size > payoutcsv.MaxBytes {
		return failWith(http.StatusRequestEntityTooLarge, tooLarge)
	}
	acct, err := s.pickAccount(ctx, r.FormValue("account_id"))
	if err != nil {
		return err
	}
	u, _ := userFrom(ctx)
	id, err := s.importBatch(ctx, importInput{Account: acct, FileName: filepath.Base(hdr.Filename), File: file, By: u.Username, ClientAddr: s.clientAddr(r)})
	var fe *payoutcsv.FileError
	if errors.As(err, &fe) {
		return fail(fe.Msg)
	}
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", id))
}

type importInput struct {
	Account    store.GatewayAccount
	FileName   string
	File       io.ReadSeeker
	By         string
	ClientAddr string
}

// importBatch parses, checks and stores a CSV file as a draft batch in one
// transaction; a *payoutcsv.FileError leaves nothing behind.
func (s *Server) importBatch(ctx context.Context, in importInput) (int64, error) {
	rules, err := s.payoutRules(ctx)
	if err != nil {
		return 0, err
	}
	var id int64
	err = s.db.InTx(ctx, func(tx *sql.Tx) error {
		now := s.now()
		b := store.Batch{AccountID: in.Account.ID, Kind: store.BatchCSV, FileName: in.FileName, State: store.BatchDraft,
			TwoPerson: rules.TwoPerson, CreatedBy: in.By}
		var err error
		if id, err = s.db.CreateBatchTx(ctx, tx, b); err != nil {
			return err
		}
		bw, err := s.db.NewBatchWriter(ctx, tx)
		if err != nil {
			return err
		}
		defer bw.Close()
		errorRows := 0
		sum, err := payoutcsv.Parse(in.File, func(row *payoutcsv.Row) error {
			if len(row.Errors) == 0 {
				var err error
				if row.MchTransOrderNo == "" {
					err = bw.Payout(ctx, rowPayout(row, in.Account.ID, id, mchNo(now, id, row.RowNo), store.PayoutDraft, in.By))
				} else {
					err = bw.PayoutNow(ctx, rowPayout(row, in.Account.ID, id, row.MchTransOrderNo, store.PayoutDraft, in.By))
				}
				no := row.MchTransOrderNo
				if errors.Is(err, store.ErrConflict) {
					row.Errors = append(row.Errors, fmt.Sprintf("Row %d: merchant payout number %s was used before; every payout needs a number never used before (or leave the column empty)", row.RowNo, no))
					row.Raw = row.AccountName + ", " + row.AccountNo + ", " + views.YuanPlain(row.Amount)
				} else if err != nil {
					return err
				}
			}
			if len(row.Errors) > 0 {
				errorRows++
				for _, msg := range row.Errors {
					if err := bw.Issue(ctx, store.BatchIssue{BatchID: id, RowNo: row.RowNo, Severity: store.IssueError, Message: msg, Raw: row.Raw}); err != nil {
						return err
					}
				}
			}
			for _, msg := range row.Warnings {
				if err := bw.Issue(ctx, store.BatchIssue{BatchID: id, RowNo: row.RowNo, Severity: store.IssueWarning, Message: msg}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if err := bw.Flush(ctx); err != nil {
			return err
		}
		bw.Close()
		if err := s.addBatchTwinWarnings(ctx, tx, id); err != nil {
			return err
		}
		prev, err := s.db.BatchByIDTx(ctx, tx, id)
		if err != nil {
			return err
		}
		next := prev
		next.Encoding, next.FileRows, next.ErrorRows = sum.Encoding, sum.Rows, errorRows
		if err := tx.QueryRowContext(ctx, `SELECT count(DISTINCT row_no) FROM payout_batch_issues WHERE batch_id = ? AND severity = 'warning'`, id).Scan(&next.WarningRows); err != nil {
			return err
		}
		if err := s.db.UpdateBatchTx(ctx, tx, prev, next); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE payout_batches SET encoding = ? WHERE id = ?`, sum.Encoding, id); err != nil {
			return err
		}
		return s.db.AuditTx(ctx, tx, store.AuditEntry{Actor: in.By, Action: "payout.batch.upload", Subject: fmt.Sprintf("batch:%d", id),
			Detail:     fmt.Sprintf("file %q (%s): %d rows, %d with errors, %d payouts, %s", in.FileName, sum.Encoding, sum.Rows, errorRows, sum.Rows-errorRows, views.Money(sum.Total)),
			ClientAddr: in.ClientAddr})
	})
	return id, err
}

// addBatchTwinWarnings warns about payouts of a batch that repeat an
// earlier payout (same account number and amount) of the last 7 days.
func (s *Server) addBatchTwinWarnings(ctx context.Context, tx *sql.Tx, batchID int64) error {
	twins, err := s.db.RecentTwinsTx(ctx, tx, batchID, s.now().Add(-twinWindow))
	if err != nil {
		return err
	}
	last := -1
	for _, t := range twins {
		if t.RowNo == last {
			continue // one warning per row is enough
		}
		last = t.RowNo
		what := "was sent"
		if t.Succeeded {
			what = "was paid"
		}
		where := ""
		if t.BatchID != 0 {
			where = fmt.Sprintf(" in batch #%d", t.BatchID)
		}
		msg := fmt.Sprintf("Row %d: a payout to the same account with the same amount %s%s on %s (%s); check that it is not paid twice",
			t.RowNo, what, where, views.Time(t.CreatedAt, s.loc), t.MchTransOrderNo)
		if _, err := tx.ExecContext(ctx, `INSERT INTO payout_batch_issues (batch_id, row_no, severity, message) VALUES (?, ?, 'warning', ?)`, batchID, t.RowNo, msg); err != nil {
			return err
		}
	}
	return nil
}
