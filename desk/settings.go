package desk

import (
	"context"
	"database/sql"

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
