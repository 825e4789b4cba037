package desk

import (
	"context"
	"slices"
	"strconv"
	"sync"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

// Home is what the home page shows a user: where their work waits, and
// the console's money and outcomes for today, 7 and 30 days. Money is in
// fen; no sentence is built here.
type Home struct {
	// AwaitingMe: batches the user may approve now (BatchActionsFor says
	// Approve): none for a role that cannot approve, not the user's own
	// while the two-person rule is on, not one waiting for a second
	// approver the user already was. Oldest first.
	AwaitingMe HomeBatches
	// SentBack: the user's batches rejected or expired and not copied
	// into a new draft yet. Newest first.
	SentBack HomeBatches
	// UnclearPayouts: payouts whose outcome only a query can tell.
	UnclearPayouts int
	// OpenAlerts: alerts nobody has acknowledged.
	OpenAlerts int
	// RejectedCallbacks: callbacks rejected in the last 24 hours, by
	// reason (most first), and their total.
	RejectedCallbacks      []store.ReasonCount
	RejectedCallbacksTotal int
	// Periods: today, the last 7 days and the last 30 days (days in the
	// console's zone, today included).
	Periods []HomePeriod
}

// HomeBatches is a count, a total and the first of the batches.
type HomeBatches struct {
	Count   int
	Sum     int64 // fen
	Batches []HomeBatch
}

// HomeBatch is one batch on the home page.
type HomeBatch struct {
	ID           int64
	FileName     string
	State        string // store.Batch* state
	Count        int    // payouts as sent for approval
	Sum          int64  // fen
	CreatedBy    string
	SentAt       time.Time
	ExpiresAt    time.Time // approval time runs out
	WarningRows  int
	NeedsSecond  bool   // a second approver is needed
	RejectedBy   string // sent back: who rejected it ("" when it expired)
	RejectReason string
	At           time.Time // sent back: when
}

// HomePeriod is one period's money and outcomes.
type HomePeriod struct {
	Days           int       // 1, 7 or 30
	From, To       time.Time // [From, To): from the start of the first day to now
	Collected      int64     // paid pay orders, fen
	CollectedCount int
	PaidOut        int64 // succeeded payouts, fen
	PaidOutCount   int
	// Fees: amount − income over the paid orders whose callback gave
	// income (FeesCount of them).
	Fees      int64
	FeesCount int
	// Success rates: successes out of final outcomes of the orders made
	// in the period, per pay product (Key: product id, Label: its name)
	// and per bank (Key: bank code, Label: its name); most finals first.
	Products []HomeRate
	Banks    []HomeRate
	// CallbackDelay: from the gateway's success time to the receipt of
	// the first callback, over DelayCount paid orders, to 10 ms (1 s
	// above a minute); 0 when none.
	DelayP50, DelayP95 time.Duration
	DelayCount         int
}

// HomeRate is a success rate: Successes of Finals; PerMille is the rate
// in thousandths (rounded down), for a bar.
type HomeRate struct {
	Key, Label string
	Successes  int
	Finals     int
	PerMille   int
}

// homeBatchesShown is how many batches each list of the home page holds.
const homeBatchesShown = 10

// HomeFor reads the home page of a in one call.
func (d *Desk) HomeFor(ctx context.Context, a Actor) (Home, error) {
	var h Home
	var err error
	if h.AwaitingMe, err = d.awaiting(ctx, a); err != nil {
		return h, err
	}
	sent, n, err := d.db.SentBack(ctx, a.Username, homeBatchesShown)
	if err != nil {
		return h, err
	}
	h.SentBack.Count = n
	for _, b := range sent {
		h.SentBack.Sum += b.Sum
		h.SentBack.Batches = append(h.SentBack.Batches, HomeBatch{ID: b.ID, FileName: b.FileName, State: b.State, Count: b.Count, Sum: b.Sum,
			RejectedBy: b.RejectedBy, RejectReason: b.RejectReason, At: b.RejectedAt})
	}
	if h.UnclearPayouts, err = d.db.UnclearPayouts(ctx); err != nil {
		return h, err
	}
	if h.OpenAlerts, err = d.db.OpenAlerts(ctx); err != nil {
		return h, err
	}
	now := d.now()
	if h.RejectedCallbacks, err = d.db.RejectedCallbacksSince(ctx, now.Add(-24*time.Hour)); err != nil {
		return h, err
	}
	for _, rc := range h.RejectedCallbacks {
		h.RejectedCallbacksTotal += rc.Count
	}
	h.Periods, err = d.periods(ctx, now)
	return h, err
}

// ApprovalBadge counts the batches a may approve now, for the badge next
// to the payouts menu.
func (d *Desk) ApprovalBadge(ctx context.Context, a Actor) (int, error) {
	if !a.AtLeast(store.RoleApprover) {
		return 0, nil
	}
	hb, err := d.awaiting(ctx, a)
	return hb.Count, err
}

// awaitingRead bounds the batches waiting for approval read per call;
// more than that waiting is not a state a console stays in.
const awaitingRead = 1000

func (d *Desk) awaiting(ctx context.Context, a Actor) (HomeBatches, error) {
	var hb HomeBatches
	if !a.AtLeast(store.RoleApprover) {
		return hb, nil
	}
	waiting, err := d.db.BatchesInState(ctx, store.BatchAwaitingApproval, awaitingRead)
	if err != nil {
		return hb, err
	}
	now := d.now()
	for _, b := range waiting {
		if !BatchActionsFor(a, b.Batch, BatchFacts{}, now).Approve {
			continue
		}
		hb.Count++
		hb.Sum += b.Sum
		if len(hb.Batches) < homeBatchesShown {
			hb.Batches = append(hb.Batches, HomeBatch{ID: b.ID, FileName: b.FileName, State: b.State, Count: b.Count, Sum: b.Sum,
				CreatedBy: b.CreatedBy, SentAt: b.SentAt, ExpiresAt: b.ExpiresAt, WarningRows: b.WarningRows, NeedsSecond: b.NeedsSecond})
		}
	}
	return hb, nil
}

// dayCache keeps the figures of past days: a day's figures change only
// when a late callback or query lands in it, so they are read again after
// a while (dayFresh), each day at its own time so that not all at once.
type dayCache struct {
	mu   sync.Mutex
	days map[time.Time]cachedDay
}

type cachedDay struct {
	f  dayData
	at time.Time
}

// dayData is a day's figures with its callback delays counted into a
// histogram, which adds up over 30 days without sorting every delay.
type dayData struct {
	store.DayFigures
	delays delayHist
}

// delayHist counts delays: 10 ms buckets up to a minute, then 1 s buckets
// up to an hour, then one for longer.
type delayHist []int32

const (
	histFine   = 6000 // 10 ms buckets: up to 60 s
	histCoarse = 3540 // 1 s buckets: 60 s to 1 h
)

func newDelayHist(ds []time.Duration) delayHist {
	h := make(delayHist, histFine+histCoarse+1)
	for _, d := range ds {
		switch {
		case d < time.Minute:
			h[d/(10*time.Millisecond)]++
		case d < time.Hour:
			h[histFine+int((d-time.Minute)/time.Second)]++
		default:
			h[histFine+histCoarse]++
		}
	}
	return h
}

// lower is the lower bound of bucket i.
func (h delayHist) lower(i int) time.Duration {
	switch {
	case i < histFine:
		return time.Duration(i) * 10 * time.Millisecond
	case i < histFine+histCoarse:
		return time.Minute + time.Duration(i-histFine)*time.Second
	}
	return time.Hour
}

// percentile is the lower bound of the bucket holding the p-th percentile
// (0 < p ≤ 100) of n delays.
func (h delayHist) percentile(n int, p int) time.Duration {
	rank := (n*p + 99) / 100 // the rank-th smallest, 1-based
	seen := 0
	for i, c := range h {
		seen += int(c)
		if seen >= rank {
			return h.lower(i)
		}
	}
	return 0
}

const dayFresh = 10 * time.Minute

// day returns the figures of [from, to), from the cache when to is past
// and they are fresh.
func (d *Desk) day(ctx context.Context, from, to, now time.Time, i int) (dayData, error) {
	if !to.After(now) {
		d.days.mu.Lock()
		c, ok := d.days.days[from]
		d.days.mu.Unlock()
		if ok && now.Sub(c.at) < dayFresh+time.Duration(i)*20*time.Second {
			return c.f, nil
		}
	}
	raw, err := d.db.DayFigures(ctx, from, to)
	if err != nil {
		return dayData{}, err
	}
	f := dayData{DayFigures: raw, delays: newDelayHist(raw.Delays)}
	f.DayFigures.Delays = nil
	f.DelayCount = len(raw.Delays)
	if to.After(now) {
		return f, nil
	}
	d.days.mu.Lock()
	defer d.days.mu.Unlock()
	if d.days.days == nil {
		d.days.days = map[time.Time]cachedDay{}
	}
	for k := range d.days.days {
		if k.Before(from.AddDate(0, 0, -40)) {
			delete(d.days.days, k) // long out of every period
		}
	}
	d.days.days[from] = cachedDay{f: f, at: now}
	return f, nil
}

// periods adds the days up into today, 7 and 30 days.
func (d *Desk) periods(ctx context.Context, now time.Time) ([]HomePeriod, error) {
	loc := d.cfg.Location
	local := now.In(loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	days := make([]dayData, 30) // days[0] is today
	for i := range days {
		from := today.AddDate(0, 0, -i)
		to := from.AddDate(0, 0, 1)
		if i == 0 {
			to = now
		}
		f, err := d.day(ctx, from, to, now, i)
		if err != nil {
			return nil, err
		}
		days[i] = f
	}
	var out []HomePeriod
	for _, n := range []int{1, 7, 30} {
		p := HomePeriod{Days: n, From: today.AddDate(0, 0, -(n - 1)), To: now}
		products, banks := map[string]*store.Rate{}, map[string]*store.Rate{}
		delays := newDelayHist(nil)
		for _, f := range days[:n] {
			p.Collected += f.PaidSum
			p.CollectedCount += f.PaidCount
			p.PaidOut += f.PayoutSum
			p.PaidOutCount += f.PayoutCount
			p.Fees += f.FeeSum
			p.FeesCount += f.FeeCount
			addRates(products, f.Products)
			addRates(banks, f.Banks)
			for i, c := range f.delays {
				delays[i] += c
			}
			p.DelayCount += f.DelayCount
		}
		p.Products = rates(products, func(k string) string {
			id, _ := strconv.Atoi(k)
			if pr, ok := payments.ProductByID(id); ok {
				return pr.Name
			}
			return k
		})
		p.Banks = rates(banks, func(k string) string {
			if b, ok := payments.BankByCode(k); ok {
				return b.Name
			}
			return k
		})
		if p.DelayCount > 0 {
			p.DelayP50 = delays.percentile(p.DelayCount, 50)
			p.DelayP95 = delays.percentile(p.DelayCount, 95)
		}
		out = append(out, p)
	}
	return out, nil
}

func addRates(to, from map[string]*store.Rate) {
	for k, r := range from {
		t, ok := to[k]
		if !ok {
			t = &store.Rate{Key: k}
			to[k] = t
		}
		t.Successes += r.Successes
		t.Finals += r.Finals
	}
}

func rates(m map[string]*store.Rate, label func(string) string) []HomeRate {
	var out []HomeRate
	for k, r := range m {
		hr := HomeRate{Key: k, Label: label(k), Successes: r.Successes, Finals: r.Finals}
		if r.Finals > 0 {
			hr.PerMille = r.Successes * 1000 / r.Finals
		}
		out = append(out, hr)
	}
	slices.SortFunc(out, func(a, b HomeRate) int {
		if a.Finals != b.Finals {
			return b.Finals - a.Finals
		}
		if a.Key < b.Key {
			return -1
		}
		return 1
	})
	return out
}
