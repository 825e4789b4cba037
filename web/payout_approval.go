package web

import (
	"fmt"
	"net/http"
	"strconv"

	"paydesk/desk"
	"paydesk/store"
)

// batchRefused shows the batch page again with a refusal of the core next
// to its form; it reports false for the refusals answered by the error
// adapter (forbidden, not found) and any other error.
func (s *Server) batchRefused(w http.ResponseWriter, r *http.Request, err error, ctlCount, ctlSum string) (error, bool) {
	refusal, ok := desk.AsRefusal(err)
	if !ok || refusal.Kind == desk.Forbidden || refusal.Kind == desk.NotFound {
		return err, false
	}
	return s.renderBatch(w, r, refusalError(refusal).status, tr(r).Msg(refusal.Message()), ctlCount, ctlSum), true
}

func (s *Server) dropBatchErrors(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	b, err := s.desk.DropBatchErrors(r.Context(), s.actor(r), id)
	if err != nil {
		return err
	}
	s.flash(r, tr(r).T("The %d rows with errors were dropped.", b.ErrorRows))
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", b.ID))
}

func (s *Server) sendBatch(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	ctlCount, ctlSum := r.PostForm.Get("control_count"), r.PostForm.Get("control_sum")
	_, err = s.desk.SendBatch(r.Context(), s.actor(r), id, ctlCount, ctlSum)
	if refusal, ok := desk.AsRefusal(err); ok && refusal.Kind == desk.Invalid {
		return s.renderBatch(w, r, http.StatusUnprocessableEntity, tr(r).Msg(refusal.Message()), ctlCount, ctlSum)
	}
	if err != nil {
		return err
	}
	s.flash(r, tr(r).T("The batch was sent for approval."))
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", id))
}

func (s *Server) cancelBatch(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	b, err := s.desk.CancelBatch(r.Context(), s.actor(r), id)
	if err != nil {
		return err
	}
	s.flash(r, tr(r).T("Batch #%s was discarded.", strconv.FormatInt(b.ID, 10)))
	return redirect(w, r, "/payouts/batches")
}

// approveBatch records an approval (the core asks for a step-up above its
// limit, and for a second approver above the other).
func (s *Server) approveBatch(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	b, err := s.desk.ApproveBatch(r.Context(), s.actor(r), id, r.PostForm.Get("note"), r.PostForm.Get("step_up"), r.PostForm.Get("checked_warnings"))
	if err, refused := s.batchRefused(w, r, err, "", ""); refused || err != nil {
		return err
	}
	if b.State == store.BatchApproved {
		s.flash(r, tr(r).T("The batch was approved; its payouts are being sent."))
	} else {
		s.flash(r, tr(r).T("Your approval is recorded. A second approver must approve too."))
	}
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", id))
}

func (s *Server) rejectBatch(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	id, err := pathID(r)
	if err != nil {
		return err
	}
	_, err = s.desk.RejectBatch(r.Context(), s.actor(r), id, r.PostForm.Get("reason"))
	if err, refused := s.batchRefused(w, r, err, "", ""); refused || err != nil {
		return err
	}
	s.flash(r, tr(r).T("The batch was rejected; nothing was sent."))
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", id))
}

// retryBatch makes a new draft batch of the failed payouts of a finished
// batch, with new merchant payout numbers; it needs a fresh approval.
func (s *Server) retryBatch(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	newID, n, err := s.desk.RetryBatch(r.Context(), s.actor(r), id)
	if err != nil {
		return err
	}
	s.flash(r, tr(r).T("Batch #%s holds the %d failed payouts with new numbers. Check the control totals and send it for approval.", strconv.FormatInt(newID, 10), n))
	return redirect(w, r, fmt.Sprintf("/payouts/batches/%d", newID))
}
