package desk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/store"
)

// Inbound gateway callbacks (/notify/pay, /notify/trans).
//
// A request is read and verified in its own goroutine, then handed to one
// writer goroutine (notifier) that commits whatever requests are queued
// together (group commit). Each of its transactions stores the queued
// requests raw and applies them (order updates, alerts, outcomes): the
// applies run first, in a savepoint, and each request's row is then
// written once, with its outcome, so that a request is never applied
// without its raw row, and one whose apply fails is rolled back alone and
// stored pending. A request is answered only after the commit: `success`
// always means "stored and applied". Rows left pending (a failed apply, or
// a commit that failed and was retried as a raw store first) are swept at
// start and every sweepEvery, through the same code, so each is applied
// once (the conditional order updates make a repeat harmless anyway).

// MaxCallbackBytes bounds what is read of a callback's body and what is
// kept of its query; the gateway's callbacks are well under 2 KB.
const MaxCallbackBytes = 64 << 10

const (
	maxNotifyBody = MaxCallbackBytes
	// headerKeep and addrKeep bound what is stored of each kept header and
	// of the client address (which a trusted proxy's header gives).
	headerKeep = 256
	addrKeep   = 64
	// reasonKeep bounds a rejection's reason as stored and answered.
	reasonKeep = 300
	// maxNotifyBatch bounds how many queued callbacks share a commit.
	maxNotifyBatch = 512
	// sweepEvery is how often pending rows are looked for.
	sweepEvery = time.Minute
)

// notifyJob is one callback on its way through the notifier.
type notifyJob struct {
	raw      store.RawNotification
	id       int64 // set for rows already stored (sweep)
	n        *payments.Notification
	parseErr error
	lookErr  error // the account lookup failed: leave the row pending
	accounts []acctKey
	acct     *store.GatewayAccount    // the preferred account whose key verified the signature
	verified []*store.GatewayAccount  // every account whose key verified it, acct first
	verBuf   [2]*store.GatewayAccount // verified's first elements, saving an allocation
	// signed: the key of an account of the merchant id verifies it, whether
	// or not that account takes callbacks from the client address.
	signed bool
	// forbidden: no account of the merchant id takes callbacks from the
	// client address (see store.GatewayAccount.NotifySources).
	forbidden bool
	// rejectKey is the alert key of a rejected request by its address
	// (rejectBudget.take); counted marks one beyond the budget, which is
	// not stored, only counted.
	rejectKey string
	counted   bool
	reply     chan CallbackReply // nil for sweeps
	// pre is the order the callback names by its gateway number, read
	// for the whole group in one query (prefetchOrders); grp says which
	// orders callbacks before it in the group found, whose pre would be
	// out of date. Both nil outside a group. preMissing: that query found
	// no order with its gateway number, and no callback before it in the
	// group names that number, so none can have written it since.
	pre        *store.OrderBrief
	preMissing bool
	grp        *applyGroup
	// rowLater: the job's row is written after its outcome, and alerts
	// about it wait in alerts until then (callbackAlert).
	rowLater bool
	alerts   []store.Alert
}

// CallbackReply is what the gateway is answered: an HTTP status and body.
// Only 200 "success" stops its retries.
type CallbackReply struct {
	Code int
	Body string
}

// Callback is one inbound gateway callback as the HTTP side read it.
type Callback struct {
	Kind       payments.NotifyKind // by the endpoint it came to
	Method     string
	ClientAddr string
	Header     http.Header
	RawQuery   string
	// Body is at most MaxCallbackBytes of the body; BodyLen is how many
	// bytes arrived, ReadErr why reading stopped early.
	Body    []byte
	BodyLen int
	ReadErr error
}

// replyUnavailable answers a callback that could not be recorded or
// applied now: the gateway sends it again.
func replyUnavailable() CallbackReply {
	return CallbackReply{http.StatusServiceUnavailable, "fail: not recorded, send again"}
}

// Notify records and applies an inbound callback, and says what to answer
// the gateway. It is read and verified here, in the caller's goroutine,
// then stored and applied by the single callback writer; it returns once
// both are committed, or when ctx ends (the gateway then sends it again).
func (d *Desk) Notify(ctx context.Context, cb Callback) CallbackReply {
	var hb strings.Builder
	// The request headers kept with a callback, each cut to headerKeep.
	for _, h := range [...]string{"Content-Type", "Content-Length", "User-Agent", "X-Forwarded-For", "X-Real-Ip", "Forwarded"} {
		if v := cb.Header.Get(h); v != "" {
			fmt.Fprintf(&hb, "%s: %s\n", h, clip(v, headerKeep))
		}
	}
	body := cb.Body
	if len(body) > maxNotifyBody {
		body = body[:maxNotifyBody]
	}
	job := &notifyJob{
		raw: store.RawNotification{
			ReceivedAt: d.now(),
			Kind:       string(cb.Kind),
			Method:     cb.Method,
			ClientAddr: clip(cb.ClientAddr, addrKeep),
			Headers:    hb.String(),
			RawQuery:   cb.RawQuery,
			RawBody:    body,
			QueryLen:   len(cb.RawQuery),
			BodyLen:    max(cb.BodyLen, len(cb.Body)),
		},
		reply: make(chan CallbackReply, 1),
	}
	if len(job.raw.RawQuery) > maxNotifyBody {
		job.raw.RawQuery = job.raw.RawQuery[:maxNotifyBody]
		job.parseErr = fmt.Errorf("the query string is longer than %d bytes", maxNotifyBody)
	}
	switch {
	case job.parseErr != nil:
	case job.raw.BodyLen > maxNotifyBody:
		job.parseErr = fmt.Errorf("the body is larger than %d bytes", maxNotifyBody)
	case cb.ReadErr != nil:
		job.parseErr = fmt.Errorf("the body could not be read: %.80v", cb.ReadErr)
	}
	d.prepareNotify(ctx, job)
	if _, rejected := job.rejection(); rejected && !job.signed {
		// Anyone can send this: keep its start, within the budget.
		var keep bool
		keep, job.rejectKey = d.rejects.take(rejectKey(job.raw.ClientAddr), job.raw.ReceivedAt)
		if keep {
			job.raw = cutRejected(job.raw)
		} else {
			job.counted = true
			job.raw.RawQuery, job.raw.RawBody = "", nil
		}
		if job.n != nil {
			// What the rejection names, without the fields read, which may
			// hold most of the request while the job waits for the writer.
			job.n = &payments.Notification{Kind: job.n.Kind, MchID: strings.Clone(clip(job.n.MchID, rejectedFieldKeep))}
		}
	}
	return d.notifier.submit(ctx, job)
}

// cutRejected is what is stored of a request that failed verification or
// parsing: the start of its query and body (copied, so that the rest can
// be freed) and of the values read from it. QueryLen and BodyLen keep the
// lengths received.
func cutRejected(r store.RawNotification) store.RawNotification {
	if len(r.RawQuery) > rejectedKeep {
		r.RawQuery = strings.Clone(r.RawQuery[:rejectedKeep])
	}
	if len(r.RawBody) > rejectedKeep {
		r.RawBody = bytes.Clone(r.RawBody[:rejectedKeep])
	}
	r.MchID, r.OrderNo, r.MchOrderNo = clip(r.MchID, rejectedFieldKeep), clip(r.OrderNo, rejectedFieldKeep), clip(r.MchOrderNo, rejectedFieldKeep)
	return r
}

// clip cuts s to at most n bytes, on a character boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// prepareNotify parses a callback, checks its client address against the
// gateway source addresses of the accounts with its merchant id, and its
// signature against their keys. It does not touch the database but for the
// (cached) account lookup.
func (d *Desk) prepareNotify(ctx context.Context, j *notifyJob) {
	if j.parseErr != nil {
		return
	}
	n, err := payments.ParseNotification(payments.NotifyKind(j.raw.Kind), j.raw.Method, j.raw.RawQuery, j.raw.Header("Content-Type"), j.raw.RawBody)
	if err != nil {
		j.parseErr = err
		return
	}
	j.n = n
	st, amount := n.Status, n.Amount
	j.raw.MchID, j.raw.OrderNo, j.raw.MchOrderNo, j.raw.Status, j.raw.Amount = n.MchID, n.OrderID, n.MchOrderNo, &st, &amount
	if n.MchID == "" {
		return
	}
	accounts, err := d.keys.lookup(ctx, n.MchID)
	if err != nil {
		j.lookErr = err
		return
	}
	j.accounts = accounts
	src := sourceCheck{addr: j.raw.ClientAddr}
	j.forbidden = true
	for i := range accounts {
		if src.allows(&accounts[i]) {
			j.forbidden = false
			break
		}
	}
	j.verify(&src)
}

// sourceCheck tells whether an account takes callbacks from the client
// address addr: any address when it lists none. The address is parsed
// when an account lists its sources.
type sourceCheck struct {
	addr   string
	from   netip.Addr
	parsed bool
}

func (c *sourceCheck) allows(a *acctKey) bool {
	if len(a.sources) == 0 {
		return true
	}
	if !c.parsed {
		c.parsed = true
		if from, err := netip.ParseAddr(c.addr); err == nil {
			c.from = from.Unmap().WithZone("")
		}
	}
	if !c.from.IsValid() {
		return false
	}
	for _, p := range a.sources {
		if p.Contains(c.from) {
			return true
		}
	}
	return false
}

// verify checks the callback's signature with the keys of j.accounts: it
// notes whether any verifies (signed) and lists in j.verified those whose
// key verifies and that take callbacks from its address (src).
func (j *notifyJob) verify(src *sourceCheck) {
	n, accounts := j.n, j.accounts
	// Every account whose key verifies and that takes callbacks from this
	// address, the one whose appId the callback names first: accounts on
	// one merchant id may share a key, and the callback may apply only to
	// an order of one of them.
	type checked struct {
		key string
		ok  bool
	}
	var done [4]checked // keys verified already: one MD5 per distinct key
	ndone := 0
	verifies := func(key string) bool {
		for _, c := range done[:ndone] {
			if c.key == key {
				return c.ok
			}
		}
		ok := n.Verify(key)
		if ndone < len(done) {
			done[ndone] = checked{key, ok}
			ndone++
		}
		return ok
	}
	j.verified = j.verBuf[:0]
	for pass := range 2 {
		for i := range accounts {
			a := &accounts[i]
			if (pass == 0) != (n.AppID != "" && a.acct.AppID == n.AppID) {
				continue
			}
			if verifies(a.key) {
				j.signed = true
				if src.allows(a) {
					j.verified = append(j.verified, &a.acct)
				}
			}
		}
	}
	if len(j.verified) > 0 {
		j.acct = j.verified[0]
	}
}

// rejection says why a prepared callback is refused before it is matched
// with an order, if it is. It depends on the request and the accounts
// only, so the request's goroutine knows it before anything is stored.
func (j *notifyJob) rejection() (rejection, bool) {
	r, ok := j.rejectionReason()
	r.reason = clip(r.reason, reasonKeep)
	return r, ok
}

func (j *notifyJob) rejectionReason() (rejection, bool) {
	addr := j.raw.ClientAddr
	switch {
	case errors.Is(j.parseErr, payments.ErrWrongKind):
		return rejection{http.StatusBadRequest, store.AlertWrongEndpoint, "wrong endpoint: " + strings.TrimPrefix(j.parseErr.Error(), "notification: ")}, true
	case j.parseErr != nil:
		return rejection{http.StatusBadRequest, store.AlertUnreadable, "unreadable: " + j.parseErr.Error()}, true
	case j.lookErr != nil, j.acct != nil:
		return rejection{}, false
	case j.n.MchID == "":
		return rejection{http.StatusForbidden, store.AlertUnknownMerchant, "the callback names no merchant id (mchId)"}, true
	case len(j.accounts) == 0:
		return rejection{http.StatusForbidden, store.AlertUnknownMerchant, "no enabled gateway account has merchant id " + quoteClip(j.n.MchID)}, true
	case j.signed:
		return rejection{http.StatusForbidden, store.AlertForbiddenSource, "correctly signed, but " + addr + " is not among the gateway source addresses of merchant id " +
			j.n.MchID + "; if the gateway sends from a new address, add it to the gateway account"}, true
	case j.forbidden:
		return rejection{http.StatusForbidden, store.AlertForbiddenSource, addr + " is not among the gateway source addresses of merchant id " + j.n.MchID}, true
	}
	return rejection{http.StatusForbidden, store.AlertBadSignature, "the signature does not verify with the merchant key of " + j.n.MchID}, true
}

// rejection is a callback refused before it is matched with an order.
type rejection struct {
	code   int
	alert  string // alert kind
	reason string
}

// reply is what the sender of a rejected callback gets.
func (r rejection) reply() CallbackReply {
	return CallbackReply{r.code, "fail: " + r.reason}
}

// alertKey is the dedupe key of the alert a rejected callback counts on:
// the merchant id, where it is an account's (a bounded set), else the
// client address as the budget names it (see rejectBudget.take).
func (j *notifyJob) alertKey(r rejection) string {
	if (r.alert == store.AlertBadSignature || r.alert == store.AlertForbiddenSource) && len(j.accounts) > 0 {
		return j.n.MchID
	}
	if j.rejectKey == "" {
		return rejectKey(j.raw.ClientAddr)
	}
	return j.rejectKey
}

// alertSummary is the sentence of the alert a rejected callback counts on.
func (j *notifyJob) alertSummary(r rejection) string {
	addr := clip(j.raw.ClientAddr, 64)
	var m i18n.Message
	switch r.alert {
	case store.AlertBadSignature:
		m = i18n.M("A callback from %s claims to come from the gateway, but its signature does not match the merchant key. It was refused: nothing changed and no money moved. If it keeps coming, check that the gateway account's key is the gateway's; otherwise someone may be forging callbacks.", addr)
	case store.AlertUnknownMerchant:
		m = i18n.M("A callback from %s names a merchant no gateway account has. It was refused: nothing changed and no money moved. If the merchant is yours, add its gateway account; otherwise nothing needs doing.", addr)
	case store.AlertWrongEndpoint:
		m = i18n.M("A callback from %s came to the notification address of the other kind (payments or payouts). It was refused: nothing changed and no money moved. Check the notify addresses the gateway uses for this merchant.", addr)
	case store.AlertForbiddenSource:
		m = i18n.M("A callback came from %s, which is not one of this gateway account's source addresses. It was refused: nothing changed and no money moved. If the gateway has moved, add the address under Settings → Gateway accounts.", addr)
	default:
		m = i18n.M("A callback from %s could not be read. It was refused: nothing changed and no money moved. If it came from the gateway, give its support the technical details.", addr)
	}
	if j.counted {
		m = i18n.M("%s More such callbacks came than are stored: they are counted here.", m)
	}
	m.Tech = clip(fmt.Sprintf("%s callback from %s: %s", j.raw.Kind, j.raw.ClientAddr, r.reason), reasonKeep+100)
	return i18n.Encode(m)
}

// quoteClip quotes a value read from an unverified request, cut short.
func quoteClip(v string) string {
	if len(v) > 40 {
		return strconv.Quote(clip(v, 40)) + "…"
	}
	return strconv.Quote(v)
}
