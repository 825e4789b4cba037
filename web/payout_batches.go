package web

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"strconv"

	"paydesk/desk"
	"paydesk/desk/payoutcsv"
	"paydesk/internal/i18n"
	"paydesk/internal/money"
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
	pr := i18n.FromContext(ctx)
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
		row := views.BatchListRow{ID: b.ID, Kind: pr.Msg(desk.BatchKindName(b.Kind)), FileName: b.FileName,
			State: pr.Msg(desk.BatchName(b)), Tone: batchTone(b), CreatedBy: b.CreatedBy, Created: views.Time(b.CreatedAt, s.loc),
			Rows: b.FileRows, ApprovedBy: b.ApprovedBy}
		if b.SecondApprovedBy != "" {
			row.ApprovedBy += ", " + b.SecondApprovedBy
		}
		// One grouped count per batch listed, by the index on batch_id.
		counts, err := s.db.BatchCounts(ctx, b.ID)
		if err != nil {
			return v, err
		}
		_, sum := batchTotals(counts)
		row.Total = money.Format(sum)
		var ok, bad int64
		for _, c := range counts {
			p := store.Payout{State: c.State, Status: c.Status}
			switch {
			case desk.PayoutFailed(p):
				bad += c.Sum
			case c.State == store.PayoutSubmitted && desk.PayoutFinal(p):
				ok += c.Sum
			}
		}
		if b.State == store.BatchApproved {
			row.Succeeded, row.Failed = money.Format(ok), money.Format(bad)
		}
		v.Batches = append(v.Batches, row)
	}
	return v, nil
}

// batchTone is the badge tone of a batch's state.
func batchTone(b store.Batch) string {
	tone := ""
	switch {
	case b.State == store.BatchAwaitingApproval, b.State == store.BatchApproved && b.Outcome == "":
		tone = "info"
	case b.Outcome == store.OutcomeSucceeded:
		tone = "ok"
	case b.Outcome == store.OutcomePartiallySucceeded:
		tone = "warn"
	case b.Outcome == store.OutcomeFailed, b.State == store.BatchRejected:
		tone = "err"
	}
	return tone
}

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
	tooLarge := tr(r).T("The file is larger than %d MiB. Split it into smaller files (at most %d rows each).", payoutcsv.MaxBytes>>20, payoutcsv.MaxRows)
	if err := r.ParseMultipartForm(4 << 20); err != nil {
		switch he := bodyError(err); {
		case he == nil:
			return fail(tr(r).T("The upload could not be read. Choose the CSV file again and upload it."))
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
		return fail(tr(r).T("Choose a CSV file to upload."))
	}
	defer file.Close()
	if hdr.Size > payoutcsv.MaxBytes {
		return failWith(http.StatusRequestEntityTooLarge, tooLarge)
	}
	id, err := s.desk.ImportBatch(ctx, s.actor(r), desk.BatchFile{AccountID: r.FormValue("account_id"), Name: filepath.Base(hdr.Filename), File: file})
	if refusal, ok := desk.AsRefusal(err); ok && refusal.Kind == desk.Invalid {
		return fail(tr(r).Msg(refusal.Message()))
	}
	if err != nil {
		return err
	}
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", id))
}
