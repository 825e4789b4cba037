package web

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/store"
	"paydesk/views"
)

// gatewayAttempts is how many times the gateway tries a callback: once at
// once, then 60, 120, 180, 240 and 300 s after each failed attempt.
const gatewayAttempts = 6

// retryDelay is the wait after failed attempt n (1-based), scaled like the
// gateway's (the sandbox's TimeScale).
func (s *Server) retryDelay(n int) time.Duration {
	return time.Duration(float64(time.Duration(n)*time.Minute) * s.cfg.GatewayRetryScale)
}

// resendWindow is how long after a resend the callback it asked for is awaited.
const resendWindow = time.Minute

// timelineEntries is an order's story, oldest first, for views.Timeline:
// its events (created, gateway answers, queries, resends, status changes),
// every callback linked to it, and what is expected next from the gateway.
func (s *Server) timelineEntries(ctx context.Context, kind string, ref int64) ([]views.TimelineEntry, error) {
	o, err := s.loadOrder(ctx, kind, ref)
	if err != nil {
		return nil, err
	}
	entries, _, err := s.timeline(ctx, o)
	return entries, err
}

type timelineItem struct {
	at time.Time
	e  views.TimelineEntry
}

// timeline builds the entries and says whether something is still
// expected, so that the page keeps polling.
func (s *Server) timeline(ctx context.Context, o orderInfo) ([]views.TimelineEntry, bool, error) {
	events, err := s.db.Events(ctx, o.kind, o.id)
	if err != nil {
		return nil, false, err
	}
	notes, err := s.db.NotificationsForOrder(ctx, o.kind, o.id)
	if err != nil {
		return nil, false, err
	}
	loc := s.loc
	var items []timelineItem
	for _, ev := range events {
		e := views.TimelineEntry{When: views.Time(ev.At, loc), Type: ev.Type, Actor: ev.Actor, Summary: ev.Summary, Detail: ev.Detail}
		switch ev.Type {
		case store.EventError:
			e.Tone = "err"
		case store.EventStatus, store.EventQuery, store.EventCreated:
			if ev.Status != nil {
				e.Tone = statusTone(o.kind, ev.Status)
			}
		}
		if ev.NotificationID != 0 {
			e.Href = "/notifications/" + strconv.FormatInt(ev.NotificationID, 10)
		}
		items = append(items, timelineItem{ev.At, e})
	}
	for _, n := range notes {
		items = append(items, timelineItem{n.ReceivedAt, s.callbackEntry(n)})
	}
	sort.SliceStable(items, func(i, j int) bool { return items[i].at.Before(items[j].at) })
	entries := make([]views.TimelineEntry, 0, len(items)+2)
	for _, it := range items {
		entries = append(entries, it.e)
	}
	expect, expecting := s.expectations(i18n.FromContext(ctx), o, events, notes)
	entries = append(entries, expect...)
	return entries, expecting || !o.final(), nil
}

func statusTone(kind string, st *int) string {
	switch {
	case st == nil:
		return ""
	case kind == store.KindPay && payments.IsPaid(*st), kind == store.KindTrans && payments.IsTransSucceeded(*st):
		return "ok"
	case kind == store.KindPay && (payments.IsPayFailed(*st) || *st == payments.PayExpired), kind == store.KindTrans && *st == payments.TransFailed:
		return "err"
	}
	return ""
}

func statusText(kind string, st *int) string {
	if st == nil {
		return "not known yet"
	}
	if kind == store.KindTrans {
		return payments.TransStatusText(*st)
	}
	return payments.PayStatusText(*st)
}

func replyText(code int, body string) string {
	if code == 0 {
		return "nothing yet"
	}
	return fmt.Sprintf("%d %s", code, body)
}

// callbackEntry is one received callback on a timeline.
func (s *Server) callbackEntry(n store.Notification) views.TimelineEntry {
	sig := "signature not checked"
	if n.SigValid != nil && *n.SigValid {
		sig = "signature valid"
	} else if n.SigValid != nil {
		sig = "signature INVALID"
	}
	summary := fmt.Sprintf("Callback (%s): %s · %s · %s · we answered %s", n.Method, statusText(n.Kind, n.Status), sig, n.Result, replyText(n.ReplyCode, n.ReplyBody))
	tone := ""
	switch n.Result {
	case store.NotifyApplied:
		tone = "ok"
	case store.NotifyRejected, store.NotifyAlert, store.NotifyPending:
		tone = "err"
	}
	detail := rawFieldsText(n.RawNotification)
	if n.Reason != "" {
		detail = "result: " + n.Result + " (" + n.Reason + ")\n\n" + detail
	}
	return views.TimelineEntry{When: views.Time(n.ReceivedAt, s.loc), Type: "callback", Actor: "gateway from " + n.ClientAddr,
		Summary: summary, Tone: tone, Detail: detail, Href: "/notifications/" + strconv.FormatInt(n.ID, 10)}
}

// rawFieldsText lists a stored callback's fields, one "key = value" a line,
// sorted; the raw text when it cannot be read.
func rawFieldsText(r store.RawNotification) string {
	n, err := payments.ParseNotification(payments.NotifyKind(r.Kind), r.Method, r.RawQuery, r.Header("Content-Type"), r.RawBody)
	if err != nil {
		return "query: " + r.RawQuery + "\nbody: " + string(r.RawBody)
	}
	return paramsText(n.Fields)
}

func paramsText(p payments.Params) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%s = %s\n", k, payments.ValueString(p[k]))
	}
	return b.String()
}

// expectations predicts what the gateway will do next, from what Paydesk
// has seen: the retry chain after callbacks we did not acknowledge, the
// chain of an outcome learned without a callback, and the callback a
// resend asked for. It says whether something is still expected.
func (s *Server) expectations(p *i18n.Printer, o orderInfo, events []store.Event, notes []store.Notification) ([]views.TimelineEntry, bool) {
	x := expecter{p: p, now: s.now(), loc: s.loc, retryDelay: s.retryDelay}
	reachesUs := o.origin != "external" || len(notes) > 0
	x.retryChain(notes)
	x.outcomeWithoutCallback(o, events, notes, reachesUs)
	x.resendCallback(o, events, notes, reachesUs)
	return x.out, x.expecting
}

// expecter collects the entries of expectations.
type expecter struct {
	p          *i18n.Printer
	now        time.Time
	loc        *time.Location
	retryDelay func(n int) time.Duration
	out        []views.TimelineEntry
	expecting  bool
}

func (x *expecter) pending(at time.Time, tone, summary string) {
	x.out = append(x.out, views.TimelineEntry{When: views.Time(at, x.loc), Type: "pending", Tone: tone, Summary: summary})
}

// retryChain predicts the gateway's next attempt after deliveries we did
// not acknowledge.
func (x *expecter) retryChain(notes []store.Notification) {
	if len(notes) == 0 || notes[len(notes)-1].ReplyCode == http.StatusOK {
		return
	}
	k := 0
	for i := len(notes) - 1; i >= 0 && notes[i].ReplyCode != http.StatusOK; i-- {
		k++
	}
	last := notes[len(notes)-1].ReceivedAt
	if k >= gatewayAttempts {
		x.pending(last, "err", fmt.Sprintf("The gateway's retry chain is exhausted: %d deliveries were not acknowledged. Fix the cause, then resend the notification.", k))
		return
	}
	next := last.Add(x.retryDelay(k))
	x.pending(next, "pending", fmt.Sprintf("The gateway will try again: attempt %d of 6 expected around %s (+%s after the last delivery).",
		k+1, views.Time(next, x.loc), waitText(x.p, x.retryDelay(k))))
	x.expecting = true
}

// outcomeWithoutCallback predicts the chain of an outcome known from a
// query or a create answer, which no callback brought yet.
func (x *expecter) outcomeWithoutCallback(o orderInfo, events []store.Event, notes []store.Notification, reachesUs bool) {
	if !o.notifiable() || !reachesUs || slices.ContainsFunc(notes, func(n store.Notification) bool { return n.Status != nil && o.sameOutcome(*n.Status) }) {
		return
	}
	start := o.succAt
	if start.IsZero() {
		for _, ev := range events {
			if ev.Type == store.EventStatus && ev.Status != nil && o.sameOutcome(*ev.Status) {
				start = ev.At
				break
			}
		}
	}
	if start.IsZero() {
		return
	}
	at, attempt := start, 1
	for attempt <= gatewayAttempts && !at.After(x.now) {
		if attempt < gatewayAttempts {
			at = at.Add(x.retryDelay(attempt))
		}
		attempt++
	}
	if attempt > gatewayAttempts {
		x.pending(x.now, "err", "No callback for this outcome reached Paydesk during the gateway's whole retry chain: a missed callback. Resend the notification.")
		return
	}
	x.pending(at, "pending", fmt.Sprintf("No callback for this outcome has reached Paydesk yet. The gateway's attempt %d of 6 is expected around %s; the earlier ones did not arrive (refused or lost on the way).",
		attempt, views.Time(at, x.loc)))
	x.expecting = true
}

// resendCallback follows the callback the last resend asked for.
func (x *expecter) resendCallback(o orderInfo, events []store.Event, notes []store.Notification, reachesUs bool) {
	var lastResend time.Time
	for _, ev := range events {
		if ev.Type == store.EventResend {
			lastResend = ev.At
		}
	}
	switch {
	case lastResend.IsZero():
	case !reachesUs:
		x.pending(lastResend, "", "Callbacks for this order go to the merchant's other systems, not to Paydesk, so the resent callback cannot be seen here.")
	case !o.notifiable():
		x.pending(lastResend, "", "The gateway re-notifies only "+o.notifiableText()+"; no callback is expected from this resend.")
	default:
		i := slices.IndexFunc(notes, func(n store.Notification) bool { return !n.ReceivedAt.Before(lastResend) })
		switch {
		case i >= 0:
			x.pending(notes[i].ReceivedAt, "ok", fmt.Sprintf("The callback asked for by the resend arrived %s after it.", waitText(x.p, notes[i].ReceivedAt.Sub(lastResend))))
		case x.now.Sub(lastResend) < resendWindow:
			x.pending(x.now, "pending", fmt.Sprintf("Waiting for the callback the resend asked for (%s so far).", waitText(x.p, x.now.Sub(lastResend))))
			x.expecting = true
		default:
			x.pending(lastResend.Add(resendWindow), "err", "No callback arrived within a minute of the resend.")
		}
	}
}
