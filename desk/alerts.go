package desk

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
	"unicode/utf8"

	"paydesk/internal/i18n"
	"paydesk/store"
)

// AckAlert closes an alert with a note saying what was done about it
// (operators and above); the order it is about gets the note on its
// timeline.
func (d *Desk) AckAlert(ctx context.Context, a Actor, id int64, note string) error {
	if !a.AtLeast(store.RoleOperator) {
		return errOperatorOnly
	}
	note = strings.TrimSpace(note)
	if note == "" || utf8.RuneCountInString(note) > 500 {
		return refuseField("note", "Write a note of at most 500 characters saying what was done about the alert.")
	}
	al, err := d.db.AlertByID(ctx, id)
	if err != nil {
		return err
	}
	return d.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := d.db.AckAlertTx(ctx, tx, id, a.Username, note); err != nil {
			return err
		}
		if al.OrderKind != "" {
			if err := d.db.AddEventTx(ctx, tx, store.Event{OrderKind: al.OrderKind, OrderRef: al.OrderRef, Type: store.EventNote, Actor: a.Username,
				Summary: i18n.Encode(i18n.M("Alert acknowledged (%s): %s", AlertKindName(al.Kind), note))}); err != nil {
				return err
			}
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: "alert.ack", Subject: "alert:" + strconv.FormatInt(id, 10),
			Detail: al.Kind + ": " + note, ClientAddr: a.ClientAddr})
	})
}
