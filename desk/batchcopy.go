package desk

import (
	"context"
	"database/sql"
	"fmt"

	"paydesk/internal/i18n"
	"paydesk/internal/money"
	"paydesk/store"
)

// CopyBatch copies the payouts of a batch that was sent back (rejected or
// expired) or failed into a new draft batch, with new merchant payout
// numbers, as BatchActionsFor allows; the copy needs its own approval. It
// returns the new batch's id and how many payouts it holds.
func (d *Desk) CopyBatch(ctx context.Context, a Actor, id int64) (int64, int, error) {
	if !a.AtLeast(store.RoleOperator) {
		return 0, 0, errOperatorOnly
	}
	b, err := d.db.BatchByID(ctx, id)
	if err != nil {
		return 0, 0, err
	}
	f, err := d.batchFacts(ctx, b, nil)
	if err != nil {
		return 0, 0, err
	}
	if ok, note := copyRule(a, b, f); !ok {
		if note.Key == "" {
			note = i18n.M("Only a batch that was rejected, expired or failed can be copied into a new draft.")
			if f.Count == 0 && (b.State == store.BatchRejected || b.State == store.BatchExpired || b.Outcome == store.OutcomeFailed) {
				note = i18n.M("The batch has no payouts to copy.")
			}
		}
		return 0, 0, refuseMessage(Conflict, "", note)
	}
	var rows []store.Payout
	if err := d.db.BatchPayoutsAll(ctx, id, func(p store.Payout) error {
		if p.State != store.PayoutCancelled {
			rows = append(rows, p)
		}
		return nil
	}); err != nil {
		return 0, 0, err
	}
	rules, err := d.PayoutRules(ctx)
	if err != nil {
		return 0, 0, err
	}
	var newID int64
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		// Two staff copying at once: the second is refused here.
		if to, err := d.db.CopiedToTx(ctx, tx, id); err != nil {
			return err
		} else if to != 0 {
			return refuse(Conflict, "This batch was copied into batch #%d.", to)
		}
		var sum int64
		var err error
		if newID, sum, err = d.draftOfTx(ctx, tx, a, b, rows, rules.TwoPerson); err != nil {
			return err
		}
		if err := d.addBatchTwinWarnings(ctx, tx, newID); err != nil {
			return err
		}
		prev, err := d.db.BatchByIDTx(ctx, tx, newID)
		if err != nil {
			return err
		}
		next := prev
		if next.WarningRows, err = d.db.WarningRowsTx(ctx, tx, newID); err != nil {
			return err
		}
		if err := d.db.UpdateBatchTx(ctx, tx, prev, next); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: "payout.batch.copy", Subject: fmt.Sprintf("batch:%d", newID),
			Detail: fmt.Sprintf("copy of the %d payouts of batch #%d (%s), %s, new numbers", len(rows), b.ID, b.State, money.Format(sum)), ClientAddr: a.ClientAddr})
	})
	if err != nil {
		return 0, 0, err
	}
	return newID, len(rows), nil
}
