package desk

import (
	"context"
	"time"

	"paydesk/internal/i18n"
)

// Reconciliation: orders that sit in created/paying/transferring longer
// than reconcileAfter are queried in the background and what is learned is
// applied; a status learned this way, without a callback, is flagged as a
// missed callback (recordQuery). An order that stays open is asked again
// after reconcileAfter × 2^n, and not after reconcileMaxAge.
const (
	reconcileEvery  = time.Minute
	reconcileAfter  = 10 * time.Minute
	reconcileMaxAge = 7 * 24 * time.Hour
	reconcileBatch  = 100
)

// runReconciler reconciles every reconcileEvery until ctx ends.
func (d *Desk) runReconciler(ctx context.Context) {
	tick := time.NewTicker(reconcileEvery)
	defer tick.Stop()
	for {
		if n, err := d.Reconcile(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("reconcile", "err", err)
		} else if n > 0 {
			d.log.Info("reconciled", "orders", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Reconcile queries the open orders due now and returns how many it asked
// about; Run does it every minute.
func (d *Desk) Reconcile(ctx context.Context) (int, error) {
	now := d.now()
	// Claimed, so that of several consoles on the database one asks
	// about each order; a console that stops leaves them due again at
	// the lease's end.
	lease := now.Add(time.Duration(reconcileBatch) * (d.cfg.GatewayTimeout + time.Second))
	cands, err := d.db.ClaimReconcileCandidates(ctx, now, reconcileAfter, reconcileMaxAge, lease, reconcileBatch)
	if err != nil {
		return 0, err
	}
	for i, c := range cands {
		if ctx.Err() != nil {
			return i, ctx.Err()
		}
		o, err := d.loadOrder(ctx, c.Kind, c.ID)
		if err != nil {
			return i, err
		}
		next := now.Add(reconcileAfter << min(c.ReconcileCount, 10))
		if _, err := d.queryAndApply(ctx, o, querySpec{title: i18n.M("Reconciliation asked the gateway"), actor: "reconciler", reconcile: true, reconcileNext: next}); err != nil {
			return i, err
		}
	}
	return len(cands), nil
}
