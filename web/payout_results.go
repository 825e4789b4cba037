package web

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"paydesk/desk"
	"paydesk/desk/payoutcsv"
	"paydesk/internal/i18n"
	"paydesk/internal/money"
	"paydesk/store"
)

// batchResults is the results CSV: one line per row of the file, in the
// file's order: every payout's numbers, status and error, and the rows
// that never became payouts with their cells as read and their errors.
// UTF-8 with BOM, CRLF, formula-safe.
func (s *Server) batchResults(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.db.BatchByID(ctx, id); err != nil {
		return err
	}
	// The rows with errors are at most a file's rows; they are merged by
	// row number into the payouts as those stream.
	var errRows []store.ErrorRow
	if err := s.db.BatchErrorRows(ctx, id, func(e store.ErrorRow) error {
		errRows = append(errRows, e)
		return nil
	}); err != nil {
		return err
	}
	csvDownload(w, fmt.Sprintf("payout-batch-%d-results.csv", id))
	io.WriteString(w, payoutcsv.BOM)
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	pr := tr(r)
	cw.Write([]string{pr.T("Row"), pr.T("Merchant payout no."), pr.T("Gateway payout no."), pr.T("Account name"), pr.T("Account number"),
		pr.T("Bank code"), pr.T("Bank name"), pr.T("Amount (yuan)"), pr.T("Result"), pr.T("Gateway status code"), pr.T("Error")})
	write := func(rec []string) error {
		for i := range rec {
			rec[i] = payoutcsv.ExcelText(rec[i])
		}
		return cw.Write(rec)
	}
	cell := func(e store.ErrorRow, key string) string {
		if i := payoutcsv.ColumnIndex(key); i >= 0 && i < len(e.Cells) {
			return e.Cells[i]
		}
		return ""
	}
	next := 0
	flushErrors := func(before int) error {
		for ; next < len(errRows) && (before < 0 || errRows[next].RowNo < before); next++ {
			e := errRows[next]
			if err := write([]string{strconv.Itoa(e.RowNo), cell(e, "mch_trans_order_no"), "", cell(e, "account_name"), cell(e, "account_no"),
				cell(e, "bank_code"), cell(e, "bank_name"), cell(e, "amount"), pr.T("not sent"), "", messages(pr, e)}); err != nil {
				return err
			}
		}
		return nil
	}
	err = s.db.BatchPayoutsAll(ctx, id, func(p store.Payout) error {
		if err := flushErrors(p.RowNo); err != nil {
			return err
		}
		state := pr.Msg(desk.PayoutName(p))
		status := ""
		if p.Status != nil {
			status = strconv.Itoa(*p.Status)
		}
		errText := ""
		if desk.PayoutFailed(p) || p.State == store.PayoutUnknown {
			errText = pr.Text(p.LastError)
		}
		return write([]string{strconv.Itoa(p.RowNo), p.MchTransOrderNo, p.TransOrderID, p.AccountName, p.AccountNo, p.BankCode, p.BankName,
			money.Plain(p.Amount), state, status, errText})
	})
	if err != nil {
		return err
	}
	if err := flushErrors(-1); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// batchErrors is the file of a batch's rows with errors, in the template's
// columns and order plus a column saying what is wrong, so that staff fix
// the cells in Excel and upload the file again (the reader ignores the
// error column). Rows uploaded before their cells were kept come back with
// the row as read in the error column only.
func (s *Server) batchErrors(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.db.BatchByID(ctx, id); err != nil {
		return err
	}
	csvDownload(w, fmt.Sprintf("payout-batch-%d-errors.csv", id))
	io.WriteString(w, payoutcsv.BOM)
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	head := append(payoutcsv.Headers(), payoutcsv.ErrorHeader)
	cw.Write(head)
	err = s.db.BatchErrorRows(ctx, id, func(e store.ErrorRow) error {
		rec := make([]string, len(head))
		for i := 0; i < len(head)-1 && i < len(e.Cells); i++ {
			rec[i] = payoutcsv.ExcelText(e.Cells[i])
		}
		msg := messages(tr(r), e)
		if e.Cells == nil && e.Raw != "" {
			msg += " (" + e.Raw + ")"
		}
		rec[len(rec)-1] = payoutcsv.FormulaSafe(msg)
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// copyBatch copies a batch that was sent back or failed into a new draft
// (desk.CopyBatch) and shows it.
func (s *Server) copyBatch(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	newID, n, err := s.desk.CopyBatch(r.Context(), s.actor(r), id)
	if err != nil {
		return err
	}
	s.flash(r, tr(r).T("Batch #%d holds the %d payouts of batch #%d with new numbers. Check the control totals and send it for approval.", newID, n, id))
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", newID))
}

// messages is a row's errors in the reader's language, one after another.
func messages(pr *i18n.Printer, e store.ErrorRow) string {
	texts := make([]string, len(e.Messages))
	for i, m := range e.Messages {
		texts[i] = pr.Text(m)
	}
	return strings.Join(texts, "; ")
}
