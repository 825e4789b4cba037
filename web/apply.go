package web

// Placeholder until the shared apply helpers land in main.

import (
	"context"
	"database/sql"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

type observation struct {
	Source, Actor  string
	Status         int
	PayOrderID     string
	ChannelOrderNo string
	SuccTime       int64
	NotificationID int64
}

func (s *Server) applyPayObservation(ctx context.Context, tx *sql.Tx, o store.PayOrder, obs observation) (bool, error) {
	if o.Status != nil && !payments.PayAdvances(*o.Status, obs.Status) {
		return false, nil
	}
	next := o
	st := obs.Status
	next.Status = &st
	if next.PayOrderID == "" {
		next.PayOrderID = obs.PayOrderID
	}
	if obs.ChannelOrderNo != "" {
		next.ChannelOrderNo = obs.ChannelOrderNo
	}
	if obs.SuccTime > 0 {
		next.PaySuccAt = time.UnixMilli(obs.SuccTime)
	}
	if err := s.db.UpdatePayOrderTx(ctx, tx, o, next); err != nil {
		return false, err
	}
	return true, s.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindPay, OrderRef: o.ID, Type: store.EventStatus, Actor: obs.Actor,
		Summary: "Status: " + payments.PayStatusText(st) + " (" + obs.Source + ")", Status: &st, NotificationID: obs.NotificationID})
}

func (s *Server) applyTransObservation(ctx context.Context, tx *sql.Tx, p store.Payout, obs observation) (bool, error) {
	if p.Status != nil && !payments.TransAdvances(*p.Status, obs.Status) {
		return false, nil
	}
	next := p
	st := obs.Status
	next.Status = &st
	if next.TransOrderID == "" {
		next.TransOrderID = obs.PayOrderID
	}
	if obs.ChannelOrderNo != "" {
		next.ChannelOrderNo = obs.ChannelOrderNo
	}
	if obs.SuccTime > 0 {
		next.TransSuccAt = time.UnixMilli(obs.SuccTime)
	}
	if err := s.db.UpdatePayoutTx(ctx, tx, p, next); err != nil {
		return false, err
	}
	return true, s.db.AddEventTx(ctx, tx, store.Event{OrderKind: store.KindTrans, OrderRef: p.ID, Type: store.EventStatus, Actor: obs.Actor,
		Summary: "Status: " + payments.TransStatusText(st) + " (" + obs.Source + ")", Status: &st, NotificationID: obs.NotificationID})
}
