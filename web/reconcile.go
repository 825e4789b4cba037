package web

import (
	"context"
	"time"
)

// Reconciliation: orders that sit in created/paying/transferring longer
// than reconcileAfter are queried in the background and what is learned is
// applied; a status learned this way, without a callback, is flagged as a
// missed callback (queryAndApply). An order that stays open is asked again
// after reconcileAfter × 2^n, and not after reconcileMaxAge.
const (
	reconcileEvery  = time.Minute
	reconcileAfter  = 10 * time.Minute
	reconcileMaxAge = 7 * 24 * time.Hour
	reconcileBatch  = 100
)

// StartReconciler starts the background reconciler; it stops when ctx ends
// or the server closes. main calls it once after New.
func (s *Server) StartReconciler(ctx context.Context) {
	if err := s.db.InterruptRunningResendJobs(ctx); err != nil {
		s.log.Error("mark interrupted resend jobs", "err", err)
	}
	s.bg.start(func(bgctx context.Context) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() {
			<-bgctx.Done()
			cancel()
		}()
		tick := time.NewTicker(reconcileEvery)
		defer tick.Stop()
		for {
			if n, err := s.reconcileOnce(ctx, reconcileAfter); err != nil && ctx.Err() == nil {
				s.log.Error("reconcile", "err", err)
			} else if n > 0 {
				s.log.Info("reconciled", "orders", n)
			}
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	})
}

// reconcileOnce queries the orders due now and returns how many it asked about.
func (s *Server) reconcileOnce(ctx context.Context, after time.Duration) (int, error) {
	now := s.now()
	cands, err := s.db.ReconcileCandidates(ctx, now, after, reconcileMaxAge, reconcileBatch)
	if err != nil {
		return 0, err
	}
	for i, c := range cands {
		if ctx.Err() != nil {
			return i, ctx.Err()
		}
		o, err := s.loadOrder(ctx, c.Kind, c.ID)
		if err != nil {
			return i, err
		}
		next := now.Add(after << min(c.ReconcileCount, 10))
		if _, err := s.queryAndApply(ctx, o, querySpec{source: "reconciler", actor: "reconciler", reconcile: true, reconcileNext: next}); err != nil {
			return i, err
		}
	}
	return len(cands), nil
}
