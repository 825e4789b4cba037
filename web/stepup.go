package web

import (
	"context"
	"net/http"

	"paydesk/desk"
	"paydesk/store"
)

// stepUpNeeded reports whether approving batch b asks for the password or a
// code again, and the limit it is above.
func (s *Server) stepUpNeeded(ctx context.Context, b store.Batch) (bool, int64, error) {
	limit, err := s.desk.StepUpLimit(ctx)
	if err != nil || limit == 0 {
		return false, 0, err
	}
	counts, err := s.db.BatchCounts(ctx, b.ID)
	if err != nil {
		return false, 0, err
	}
	_, sum := batchTotals(counts)
	return sum > limit, limit, nil
}

// approvalStepUp checks the step-up of an approval of batch id by u, when
// one is needed. It returns how u confirmed ("" when no step-up was
// needed), or a refusal sentence when the password or code is missing or
// wrong. A batch u may not approve anyway is left to the approval's own
// refusals.
func (s *Server) approvalStepUp(r *http.Request, id int64, u store.User) (how, refusal string, err error) {
	ctx := r.Context()
	b, err := s.db.BatchByID(ctx, id)
	if err != nil || b.State != store.BatchAwaitingApproval || s.approveRefusal(b, u) != "" {
		return "", "", err
	}
	need, limit, err := s.stepUpNeeded(ctx, b)
	if err != nil || !need {
		return "", "", err
	}
	how, err = s.desk.ApprovalStepUp(ctx, s.actor(r), id, r.PostForm.Get("step_up"), limit)
	if ref, ok := desk.AsRefusal(err); ok {
		return "", ref.Error(), nil
	}
	return how, "", err
}
