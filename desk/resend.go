package desk

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"sync"
	"time"

	"paydesk/internal/i18n"
	"paydesk/store"
)

const (
	// ResendCooldown is how long after a resend an order is not resent
	// again: the callback asked for needs that long to arrive.
	ResendCooldown = time.Minute
	// MaxBulkResend bounds one bulk resend.
	MaxBulkResend = 5000
	// resendPace spaces a bulk resend's queries, to spare the gateway.
	resendPace = 50 * time.Millisecond
)

// ResendVerdict says whether resending an order can help now.
type ResendVerdict int

const (
	ResendOK         ResendVerdict = iota
	ResendIneligible               // the gateway re-notifies only paid pay orders and finished payouts
	ResendCooling                  // resent less than ResendCooldown ago
)

// resendVerdict is the one rule for both a single resend and a bulk one.
func (d *Desk) resendVerdict(kind string, status *int, lastResend time.Time) ResendVerdict {
	switch {
	case !Notifiable(kind, status):
		return ResendIneligible
	case !lastResend.IsZero() && d.now().Sub(lastResend) < ResendCooldown:
		return ResendCooling
	}
	return ResendOK
}

// ResendPlan is what a bulk resend of some orders would do.
type ResendPlan struct {
	Items      []store.ResendItem // the orders it resends
	Ineligible int                // not paid, or not finished: no callback would come
	Cooling    int                // resent less than ResendCooldown ago
	TooMany    bool               // more than MaxBulkResend orders
}

// PlanResend sorts the orders of a list into those a bulk resend sends
// and those it leaves out, and why.
func (d *Desk) PlanResend(rows []store.OrderSummary) ResendPlan {
	p := ResendPlan{TooMany: len(rows) > MaxBulkResend}
	for _, o := range rows {
		switch d.resendVerdict(o.Kind, o.Status, o.LastResend) {
		case ResendIneligible:
			p.Ineligible++
		case ResendCooling:
			p.Cooling++
		default:
			p.Items = append(p.Items, store.ResendItem{OrderKind: o.Kind, OrderRef: o.ID})
		}
	}
	return p
}

// ResendOrder asks the gateway to send an order's callback again (a query
// with executeNotify), unless it was resent within ResendCooldown.
func (d *Desk) ResendOrder(ctx context.Context, a Actor, kind string, id int64) (QueryResult, error) {
	if !a.AtLeast(store.RoleOperator) {
		return QueryResult{}, errOperatorOnly
	}
	o, err := d.loadOrder(ctx, kind, id)
	if err != nil {
		return QueryResult{}, err
	}
	last, err := d.db.LastEventAt(ctx, o.kind, o.id, store.EventResend)
	if err != nil {
		return QueryResult{}, err
	}
	if wait := ResendCooldown - d.now().Sub(last); !last.IsZero() && wait > 0 {
		return QueryResult{}, refuse(TooMany, "This order was resent %s ago. Wait %s for that callback before resending again.",
			waitText(d.now().Sub(last)), waitText(wait))
	}
	return d.queryAndApply(ctx, o, querySpec{title: i18n.M("%s asked the gateway to notify again", a.Username), actor: a.Username, clientAddr: a.ClientAddr, executeNotify: true})
}

// StartBulkResend stores a resend job for the orders of the plan of rows
// (described by filter, for the record) and runs it in the background; it
// returns the job's id.
func (d *Desk) StartBulkResend(ctx context.Context, a Actor, filter i18n.Message, rows []store.OrderSummary) (int64, error) {
	if !a.AtLeast(store.RoleOperator) {
		return 0, errOperatorOnly
	}
	plan := d.PlanResend(rows)
	switch {
	case plan.TooMany:
		return 0, refuse(Invalid, "A resend takes at most %d orders; narrow the filter.", MaxBulkResend)
	case len(plan.Items) == 0:
		return 0, refuse(Invalid, "None of these orders can be resent now.")
	}
	var id int64
	err := d.db.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		id, err = d.db.CreateResendJobTx(ctx, tx, store.ResendJob{CreatedBy: a.Username, Filter: i18n.Encode(filter),
			Owner: d.instance, LeaseUntil: d.resendLeaseEnd()}, plan.Items)
		if err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: "resend.start", Subject: "resend_job:" + strconv.FormatInt(id, 10),
			Detail: fmt.Sprintf("%d orders matching %s", len(plan.Items), filter.String()), ClientAddr: a.ClientAddr})
	})
	if err != nil {
		return 0, err
	}
	if !d.resends.start(d, id, a) {
		// Shutting down: the job stays for the record, interrupted.
		if err := d.db.FinishResendJob(context.WithoutCancel(ctx), id, store.ResendInterrupted); err != nil {
			return id, err
		}
		return id, refuse(Busy, "The console is shutting down; the resend was not started.")
	}
	return id, nil
}

// CancelResendJob stops a running job after the order it is on, or ends
// one left over from an earlier run of the console.
func (d *Desk) CancelResendJob(ctx context.Context, a Actor, id int64) error {
	if !a.AtLeast(store.RoleOperator) {
		return errOperatorOnly
	}
	j, _, err := d.db.ResendJobByID(ctx, id)
	if err != nil {
		return err
	}
	if !d.resends.cancel(id) && j.State == store.ResendRunning {
		if err := d.db.FinishResendJob(ctx, id, store.ResendCancelled); err != nil {
			return err
		}
	}
	return d.db.Audit(ctx, store.AuditEntry{Actor: a.Username, Action: "resend.cancel", Subject: "resend_job:" + strconv.FormatInt(id, 10),
		Detail: fmt.Sprintf("cancelled after %d of %d", j.Done, j.Total), ClientAddr: a.ClientAddr})
}

// resendJobs are the resend jobs running in this process, which Run owns.
type resendJobs struct {
	mu   sync.Mutex
	jobs map[int64]context.CancelFunc
}

// start runs job id in Run's background; false when Run is not running.
// The job can be cancelled from the moment start returns.
func (r *resendJobs) start(d *Desk, id int64, a Actor) bool {
	ctx, cancel := context.WithCancel(context.Background())
	r.mu.Lock()
	if r.jobs == nil {
		r.jobs = map[int64]context.CancelFunc{}
	}
	r.jobs[id] = cancel
	r.mu.Unlock()
	forget := func() {
		r.mu.Lock()
		delete(r.jobs, id)
		r.mu.Unlock()
		cancel()
	}
	ok := d.bg.spawn(func(runCtx context.Context) {
		defer forget()
		stop := context.AfterFunc(runCtx, cancel)
		defer stop()
		d.runResendJob(ctx, runCtx, id, a)
	})
	if !ok {
		forget()
	}
	return ok
}

// cancel cancels job id if it runs here.
func (r *resendJobs) cancel(id int64) bool {
	r.mu.Lock()
	cancel := r.jobs[id]
	r.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	return cancel != nil
}

// runResendJob works through a job's orders until done or cancelled
// (ctx); when runCtx ended meanwhile, the job was interrupted. The order
// in hand is finished even when cancelled meanwhile.
func (d *Desk) runResendJob(ctx, runCtx context.Context, id int64, a Actor) {
	work := context.WithoutCancel(ctx)
	_, items, err := d.db.ResendJobByID(work, id)
	if err != nil {
		d.log.Error("resend job", "job", id, "err", err)
		if err := d.db.FinishResendJob(work, id, store.ResendInterrupted); err != nil {
			d.log.Error("resend job", "job", id, "err", err)
		}
		return
	}
	state := store.ResendFinished
	for i, it := range items {
		if it.Result != "" {
			continue
		}
		if i > 0 {
			t := time.NewTimer(resendPace)
			select {
			case <-ctx.Done():
			case <-t.C:
			}
			t.Stop()
		}
		if ctx.Err() != nil {
			state = store.ResendCancelled
			break
		}
		// The lease tells other consoles on the database that this one
		// still runs the job; a job cancelled from another console stops.
		if running, err := d.db.RenewResendJob(work, id, d.resendLeaseEnd()); err != nil {
			d.log.Error("resend job", "job", id, "err", err)
		} else if !running {
			return
		}
		result, detail := d.resendOne(work, it, a)
		if err := d.db.InTx(work, func(tx *sql.Tx) error {
			return d.db.ResendItemDoneTx(work, tx, id, it.Seq, result, detail)
		}); err != nil {
			d.log.Error("resend job", "job", id, "err", err)
		}
	}
	if runCtx.Err() != nil {
		state = store.ResendInterrupted
	}
	if err := d.db.FinishResendJob(work, id, state); err != nil {
		d.log.Error("resend job", "job", id, "err", err)
	}
}

// resendOne resends one order of a job, unless it changed or was resent
// meanwhile.
func (d *Desk) resendOne(ctx context.Context, it store.ResendItem, a Actor) (result, detail string) {
	o, err := d.loadOrder(ctx, it.OrderKind, it.OrderRef)
	if err != nil {
		return "failed", err.Error()
	}
	last, err := d.db.LastEventAt(ctx, o.kind, o.id, store.EventResend)
	if err != nil {
		return "failed", err.Error()
	}
	switch d.resendVerdict(o.kind, o.status, last) {
	case ResendIneligible:
		return "skipped", i18n.Encode(i18n.M("the gateway re-notifies only %s", NotifiableText(o.kind)))
	case ResendCooling:
		return "skipped", i18n.Encode(i18n.M("resent %s ago", waitText(d.now().Sub(last))))
	}
	res, err := d.queryAndApply(ctx, o, querySpec{title: i18n.M("%s asked the gateway to notify again", a.Username), actor: a.Username, clientAddr: a.ClientAddr, executeNotify: true})
	switch {
	case err != nil:
		return "failed", err.Error()
	case !res.Answered:
		return "failed", i18n.Encode(res.Message)
	}
	return "sent", i18n.Encode(res.Message)
}

// waitText is a wait in whole seconds, rounded up: "3 s".
func waitText(d time.Duration) i18n.Message {
	secs := int((d + time.Second - 1) / time.Second)
	return i18n.M("%d s", max(secs, 1))
}

// resendLeaseEnd is the end of a resend job's lease renewed now: longer
// than one order's resend can take.
func (d *Desk) resendLeaseEnd() time.Time {
	return d.now().Add(2*d.cfg.GatewayTimeout + time.Minute)
}
