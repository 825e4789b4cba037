package desk

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"

	"paydesk/internal/money"
	"paydesk/store"
)

// errAdminOnly refuses a change only admins may make.
var errAdminOnly = refuse(Forbidden, "Only an admin may change this.")

// saveSettings stores settings with their audit row in one transaction;
// the entry's actor and client address are a's.
func (d *Desk) saveSettings(ctx context.Context, a Actor, values map[string]string, e store.AuditEntry) error {
	e.Actor, e.ClientAddr = a.Username, a.ClientAddr
	return d.db.InTx(ctx, func(tx *sql.Tx) error {
		for k, v := range values {
			if err := d.db.SetSettingTx(ctx, tx, k, v); err != nil {
				return err
			}
		}
		return d.db.AuditTx(ctx, tx, e)
	})
}

// Payments: the largest amount one payment may have.
const (
	settingMaxPaymentFen = "payments.max_amount_fen"
	defaultMaxPaymentFen = 100_000_000 // ¥1,000,000.00
)

// MaxPaymentFen is the largest amount a payment may have, in fen.
func (d *Desk) MaxPaymentFen(ctx context.Context) int64 {
	v, err := d.db.Setting(ctx, settingMaxPaymentFen, "")
	if err != nil {
		d.log.Error("read setting", "key", settingMaxPaymentFen, "err", err)
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil && n > 0 {
		return n
	}
	return defaultMaxPaymentFen
}

// SetMaxPayment saves the largest amount one payment may have, typed in
// yuan; it returns it in fen.
func (d *Desk) SetMaxPayment(ctx context.Context, a Actor, typed string) (int64, error) {
	if !a.AtLeast(store.RoleAdmin) {
		return 0, errAdminOnly
	}
	fen, err := money.Parse(typed)
	if err != nil {
		return 0, refuseField("max_amount", "The largest payment amount: %s", AmountProblem(err))
	}
	old := d.MaxPaymentFen(ctx)
	return fen, d.saveSettings(ctx, a, map[string]string{settingMaxPaymentFen: strconv.FormatInt(fen, 10)}, store.AuditEntry{
		Action: "settings.payment_max_amount", Subject: "setting:" + settingMaxPaymentFen,
		Detail: fmt.Sprintf("from %s to %s", money.Format(old), money.Format(fen))})
}

// RecordExport writes the audit row of a download of data (what, e.g.
// "payment.export", with a detail of what was selected).
func (d *Desk) RecordExport(ctx context.Context, a Actor, action, subject, detail string) error {
	return d.db.Audit(ctx, store.AuditEntry{Actor: a.Username, Action: action, Subject: subject, Detail: detail, ClientAddr: a.ClientAddr})
}
