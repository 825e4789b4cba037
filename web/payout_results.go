package web

import (
	"encoding/csv"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"paydesk/desk"
	"paydesk/desk/payoutcsv"
	"paydesk/internal/money"
	"paydesk/store"
)

// batchResults is the results CSV: every payout's numbers, status and
// error, then the rows that never became payouts. UTF-8 with BOM, CRLF,
// formula-safe.
func (s *Server) batchResults(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := s.db.BatchByID(ctx, id); err != nil {
		return err
	}
	csvDownload(w, fmt.Sprintf("payout-batch-%d-results.csv", id))
	io.WriteString(w, payoutcsv.BOM)
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	pr := tr(r)
	cw.Write([]string{pr.T("Row"), pr.T("Merchant payout no."), pr.T("Gateway payout no."), pr.T("Account name"), pr.T("Account number"),
		pr.T("Bank code"), pr.T("Bank name"), pr.T("Amount (yuan)"), pr.T("Result"), pr.T("Gateway status code"), pr.T("Error")})
	err = s.db.BatchPayoutsAll(ctx, id, func(p store.Payout) error {
		state := pr.Msg(desk.PayoutName(p))
		status := ""
		if p.Status != nil {
			status = strconv.Itoa(*p.Status)
		}
		errText := ""
		if desk.PayoutFailed(p) || p.State == store.PayoutUnknown {
			errText = pr.Text(p.LastError)
		}
		rec := []string{strconv.Itoa(p.RowNo), p.MchTransOrderNo, p.TransOrderID, p.AccountName, p.AccountNo, p.BankCode, p.BankName,
			money.Plain(p.Amount), state, status, errText}
		for i := range rec {
			rec[i] = payoutcsv.ExcelText(rec[i])
		}
		return cw.Write(rec)
	})
	if err != nil {
		return err
	}
	for off := 0; ; off += 1000 {
		issues, err := s.db.BatchIssues(ctx, id, store.IssueError, off, 1000)
		if err != nil {
			return err
		}
		for _, i := range issues {
			cw.Write([]string{strconv.Itoa(i.RowNo), "", "", "", "", "", "", "", payoutcsv.ExcelText(pr.T("not sent")), "", payoutcsv.ExcelText(pr.Text(i.Message))})
		}
		if len(issues) < 1000 {
			break
		}
	}
	cw.Flush()
	return cw.Error()
}
