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

	"paydesk/desk"
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
	pr := i18n.FromContext(ctx)
	var items []timelineItem
	for _, ev := range events {
		summary, tech := pr.TextTech(ev.Summary)
		detail := strings.TrimSpace(strings.Join([]string{tech, ev.Detail}, "\n"))
		e := views.TimelineEntry{When: views.Time(ev.At, loc), Type: ev.Type, Actor: actorName(pr, ev.Actor), Summary: summary, Detail: detail}
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
		items = append(items, timelineItem{n.ReceivedAt, s.callbackEntry(pr, n)})
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

// actorName names who did something on a timeline: a person by their
// username, the console's own workers in words.
func actorName(pr *i18n.Printer, actor string) string {
	switch actor {
	case "gateway":
		return pr.T("the gateway")
	case "worker":
		return pr.T("the payout sender")
	case "reconciler":
		return pr.T("reconciliation")
	case "resolver", "paydesk", "system":
		return pr.T("Paydesk")
	case "gateway callback":
		return pr.T("a gateway callback")
	}
	return actor
}

func replyText(pr *i18n.Printer, code int, body string) string {
	if code == 0 {
		return pr.T("nothing yet")
	}
	return fmt.Sprintf("%d %s", code, body)
}

// callbackEntry is one received callback on a timeline: what it meant
// for the order, and behind it the protocol's side (method, status code,
// signature, our reply, the raw fields).
func (s *Server) callbackEntry(pr *i18n.Printer, n store.Notification) views.TimelineEntry {
	sig := "sign=unchecked"
	if n.SigValid != nil && *n.SigValid {
		sig = "sign=valid"
	} else if n.SigValid != nil {
		sig = "sign=INVALID"
	}
	status := pr.Msg(desk.StatusName(n.Kind, n.Status))
	var summary string
	switch n.Result {
	case store.NotifyApplied:
		summary = pr.T("Gateway notification received and applied: the order is %s.", status)
	case store.NotifyDuplicate:
		summary = pr.T("Gateway notification received again: nothing to change, the order is %s already.", status)
	case store.NotifyStale:
		summary = pr.T("An out-of-date gateway notification arrived (%s): nothing changed.", status)
	case store.NotifyAlert:
		summary = pr.T("A gateway notification did not fit the order: nothing changed. See the alert under Notifications.")
	case store.NotifyRejected:
		summary = pr.T("A notification was refused: it could not be verified as the gateway's. Nothing changed.")
	default:
		summary = pr.T("Gateway notification received (%s); it is being applied.", status)
	}
	status0 := "—"
	if n.Status != nil {
		status0 = strconv.Itoa(*n.Status)
	}
	tech := fmt.Sprintf("%s /notify/%s · status=%s · %s · result=%s · reply=%s", n.Method, n.Kind, status0, sig, n.Result, replyText(nil, n.ReplyCode, n.ReplyBody))
	tone := ""
	switch n.Result {
	case store.NotifyApplied:
		tone = "ok"
	case store.NotifyRejected, store.NotifyAlert, store.NotifyPending:
		tone = "err"
	}
	detail := tech + "\n\n" + rawFieldsText(n.RawNotification)
	if n.Reason != "" {
		detail = tech + "\nreason=" + n.Reason + "\n\n" + rawFieldsText(n.RawNotification)
	}
	return views.TimelineEntry{When: views.Time(n.ReceivedAt, s.loc), Type: "callback", Actor: pr.T("the gateway, from %s", n.ClientAddr),
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
		x.pending(last, "err", x.p.T("The gateway has stopped retrying: %d notifications were not acknowledged. Fix the cause, then resend the notification.", k))
		return
	}
	next := last.Add(x.retryDelay(k))
	x.pending(next, "pending", x.p.T("The gateway will notify again: attempt %d of 6 expected around %s (%s after the last one).",
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
		x.pending(x.now, "err", x.p.T("No notification of this outcome reached Paydesk in all the gateway's attempts: a missed callback. Resend the notification."))
		return
	}
	x.pending(at, "pending", x.p.T("No notification of this outcome has reached Paydesk yet. The gateway's attempt %d of 6 is expected around %s; the earlier ones did not arrive (refused or lost on the way).",
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
		x.pending(lastResend, "", x.p.T("Notifications of this order go to the merchant's other systems, not to Paydesk, so the resent notification cannot be seen here."))
	case !o.notifiable():
		x.pending(lastResend, "", x.p.T("The gateway re-notifies only %s; no callback is expected from this resend.", x.p.Msg(o.notifiableText())))
	default:
		i := slices.IndexFunc(notes, func(n store.Notification) bool { return !n.ReceivedAt.Before(lastResend) })
		switch {
		case i >= 0:
			x.pending(notes[i].ReceivedAt, "ok", x.p.T("The notification asked for by the resend arrived %s after it.", waitText(x.p, notes[i].ReceivedAt.Sub(lastResend))))
		case x.now.Sub(lastResend) < resendWindow:
			x.pending(x.now, "pending", x.p.T("Waiting for the notification the resend asked for (%s so far).", waitText(x.p, x.now.Sub(lastResend))))
			x.expecting = true
		default:
			x.pending(lastResend.Add(resendWindow), "err", x.p.T("No notification arrived within a minute of the resend."))
		}
	}
}
