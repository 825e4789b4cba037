package desk

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"paydesk/store"
)

// notifier is the single writer of inbound callbacks: Run runs it.
type notifier struct {
	d     *Desk
	jobs  chan *notifyJob
	sweep chan chan error
	stop  chan struct{} // closed when the writer takes no more jobs
	done  chan struct{} // closed when the writer has returned
}

func newNotifier(d *Desk) *notifier {
	return &notifier{
		d:     d,
		jobs:  make(chan *notifyJob, 4*maxNotifyBatch),
		sweep: make(chan chan error),
		stop:  make(chan struct{}),
		done:  make(chan struct{}),
	}
}

// submit queues a job and waits for its answer.
func (nf *notifier) submit(ctx context.Context, j *notifyJob) CallbackReply {
	select {
	case nf.jobs <- j:
	case <-nf.stop:
		return replyUnavailable()
	case <-ctx.Done():
		return replyUnavailable()
	}
	select {
	case rep := <-j.reply:
		return rep
	case <-nf.done:
		select {
		case rep := <-j.reply:
			return rep
		default:
			return replyUnavailable()
		}
	}
}

// SweepPendingCallbacks applies, in the callback writer, every stored
// callback still pending (a failed apply, or a crash between the two
// commits of a group retried apart), and waits for that. The writer also does it at start and every
// minute.
func (d *Desk) SweepPendingCallbacks(ctx context.Context) error {
	return d.notifier.sweepNow(ctx)
}

// sweepNow runs a sweep of pending rows in the writer and waits for it.
func (nf *notifier) sweepNow(ctx context.Context) error {
	ch := make(chan error, 1)
	select {
	case nf.sweep <- ch:
	case <-nf.done:
		return errors.New("the notification writer has stopped")
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-ch:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run writes callbacks until runCtx ends, then handles what is queued and
// returns. Its commits are not cut short by runCtx.
func (nf *notifier) run(runCtx context.Context) {
	defer close(nf.done)
	ctx := context.WithoutCancel(runCtx)
	if err := nf.sweepPending(ctx); err != nil {
		nf.d.log.Error("sweep pending notifications", "err", err)
	}
	tick := time.NewTicker(sweepEvery)
	defer tick.Stop()
	sweep := func(ch chan error) {
		err := nf.sweepPending(ctx)
		if ch != nil {
			ch <- err
		} else if err != nil {
			nf.d.log.Error("sweep pending notifications", "err", err)
		}
	}
	for {
		select {
		case j := <-nf.jobs:
			nf.cycle(ctx, nf.fill([]*notifyJob{j}))
		case ch := <-nf.sweep:
			sweep(ch)
		case <-tick.C:
			sweep(nil)
		case <-runCtx.Done():
			close(nf.stop)
			for {
				batch := nf.fill(nil)
				if len(batch) == 0 {
					return
				}
				nf.cycle(ctx, batch)
			}
		}
	}
}

// fill adds whatever jobs are queued to batch, up to maxNotifyBatch.
func (nf *notifier) fill(batch []*notifyJob) []*notifyJob {
	for len(batch) < maxNotifyBatch {
		select {
		case j := <-nf.jobs:
			batch = append(batch, j)
		default:
			return batch
		}
	}
	return batch
}

// cycle stores the incoming jobs raw and applies them, in one transaction,
// and answers them. Each row is written once, with its outcome: the
// callbacks are applied first, inside a savepoint, under the ids their rows
// then take. Should an apply fail, the savepoint is rolled back and the
// jobs applied one by one, each in a savepoint of its own: the one that
// fails is stored pending (for the sweep) and answered "not recorded",
// the others applied. So every callback answered "success" was stored and
// applied in the same commit, and none is applied without its raw row.
// Incoming rejected jobs beyond the budget are not stored but counted on
// their alerts in the same transaction, and answered after it. When the
// transaction fails, the jobs are stored raw in one transaction and
// applied in the next (process), so that one bad row cannot hold back the
// others.
func (nf *notifier) cycle(ctx context.Context, incoming []*notifyJob) {
	incoming, counted := splitCounted(incoming)
	if len(incoming) == 0 && len(counted) == 0 {
		return
	}
	d := nf.d
	replies := make([]CallbackReply, len(incoming))
	err := d.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := nf.storeApplied(ctx, tx, incoming, replies); err != nil {
			return err
		}
		return nf.count(ctx, tx, counted)
	})
	if err != nil {
		d.log.Warn("notification commit failed; storing raw first, then applying", "incoming", len(incoming), "counted", len(counted), "err", err)
		var ids []int64
		err = d.db.InTx(ctx, func(tx *sql.Tx) error {
			var err error
			if ids, err = nf.storeRaw(ctx, tx, incoming); err != nil {
				return err
			}
			return nf.count(ctx, tx, counted)
		})
		if err != nil {
			d.log.Error("store notifications", "count", len(incoming), "uncounted_rejected", len(counted), "err", err)
			for i := range replies {
				replies[i] = replyUnavailable()
			}
		} else {
			for i, j := range incoming {
				j.id = ids[i]
			}
			replies = nf.process(ctx, incoming)
		}
	}
	for i, j := range incoming {
		if j.reply != nil {
			j.reply <- replies[i]
		}
	}
	for _, j := range counted {
		rej, _ := j.rejection()
		j.reply <- rej.reply()
	}
}

// storeApplied applies jobs not stored yet inside tx and stores each raw
// with its outcome (see cycle), filling replies.
func (nf *notifier) storeApplied(ctx context.Context, tx *sql.Tx, jobs []*notifyJob, replies []CallbackReply) error {
	if len(jobs) == 0 {
		return nil
	}
	d := nf.d
	ids, err := d.db.NotificationIDsTx(ctx, tx, len(jobs))
	if err != nil {
		return err
	}
	rows := make([]store.Notification, len(jobs))
	for i, j := range jobs {
		j.id = ids[i]
		rows[i].RawNotification = j.raw
	}
	if err := d.prefetchOrders(ctx, tx, jobs); err != nil {
		return err
	}
	defer func() {
		for _, j := range jobs {
			j.pre, j.preMissing, j.grp, j.rowLater, j.alerts = nil, false, nil, false, nil
		}
	}()
	applyAll := func(jobs []*notifyJob, rows []store.Notification, replies []CallbackReply) error {
		for i, j := range jobs {
			rows[i].NotificationOutcome = store.NotificationOutcome{ID: j.id, Result: store.NotifyPending}
			j.rowLater, j.alerts = true, nil
			if j.lookErr != nil {
				replies[i] = replyUnavailable()
				continue
			}
			out, err := d.handleNotification(ctx, tx, j)
			if err != nil {
				return fmt.Errorf("notification %d: %w", j.id, err)
			}
			replies[i] = CallbackReply{out.ReplyCode, out.ReplyBody}
			rows[i].NotificationOutcome = out
		}
		return nil
	}
	failed, err := inSavepoint(ctx, tx, func() error { return applyAll(jobs, rows, replies) })
	if err != nil {
		return err
	}
	if failed != nil {
		if len(jobs) > 1 {
			d.log.Warn("applying a group of notifications failed; applying them one by one", "count", len(jobs), "err", failed)
		}
		for i, j := range jobs {
			if len(jobs) > 1 {
				if failed, err = inSavepoint(ctx, tx, func() error { return applyAll(jobs[i:i+1], rows[i:i+1], replies[i:i+1]) }); err != nil {
					return err
				}
			}
			if failed != nil {
				d.log.Error("apply notification", "id", j.id, "err", failed)
				rows[i].NotificationOutcome = store.NotificationOutcome{ID: j.id, Result: store.NotifyPending}
				replies[i] = replyUnavailable()
				j.alerts = nil
			}
		}
	}
	if err := d.db.InsertNotificationsTx(ctx, tx, rows); err != nil {
		return err
	}
	for _, j := range jobs {
		for _, a := range j.alerts {
			if _, err := d.db.RaiseAlertTx(ctx, tx, a); err != nil {
				return err
			}
		}
	}
	return nil
}

// inSavepoint runs fn inside a savepoint of tx: when fn fails, what it
// wrote is rolled back and tx goes on; fn's error is returned as failed.
// An error of the savepoint itself is returned as err: tx cannot go on.
func inSavepoint(ctx context.Context, tx *sql.Tx, fn func() error) (failed, err error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT notify_apply`); err != nil {
		return nil, err
	}
	if failed = fn(); failed != nil {
		if _, err := tx.ExecContext(ctx, `ROLLBACK TO notify_apply`); err != nil {
			return failed, err
		}
	}
	_, err = tx.ExecContext(ctx, `RELEASE notify_apply`)
	return failed, err
}

// splitCounted separates the jobs to be counted only; it allocates only
// when there are any.
func splitCounted(jobs []*notifyJob) (rest, counted []*notifyJob) {
	for i, j := range jobs {
		if !j.counted {
			continue
		}
		rest = append(make([]*notifyJob, 0, len(jobs)), jobs[:i]...)
		for _, j := range jobs[i:] {
			if j.counted {
				counted = append(counted, j)
			} else {
				rest = append(rest, j)
			}
		}
		return rest, counted
	}
	return jobs, nil
}

// count adds rejected callbacks that are not stored to the counts of their
// alerts, one update per alert.
func (nf *notifier) count(ctx context.Context, tx *sql.Tx, jobs []*notifyJob) error {
	type tally struct {
		alert store.Alert
		n     int
	}
	var tallies []*tally
	byKey := map[[2]string]*tally{}
	for _, j := range jobs {
		rej, _ := j.rejection()
		a := store.Alert{Kind: rej.alert, DedupeKey: j.alertKey(rej), Summary: j.alertSummary(rej)}
		t := byKey[[2]string{a.Kind, a.DedupeKey}]
		if t == nil {
			t = &tally{}
			byKey[[2]string{a.Kind, a.DedupeKey}] = t
			tallies = append(tallies, t)
		}
		t.alert = a
		t.n++
	}
	for _, t := range tallies {
		if _, err := nf.d.db.RepeatAlertTx(ctx, tx, t.alert, t.n); err != nil {
			return err
		}
	}
	return nil
}

func (nf *notifier) storeRaw(ctx context.Context, tx *sql.Tx, jobs []*notifyJob) ([]int64, error) {
	if len(jobs) == 0 {
		return []int64{}, nil
	}
	raws := make([]store.RawNotification, len(jobs))
	for i, j := range jobs {
		raws[i] = j.raw
	}
	return nf.d.db.InsertRawNotificationsTx(ctx, tx, raws)
}

// apply decides and records the outcome of stored jobs inside tx, filling
// replies. Jobs whose account lookup failed stay pending for the sweep.
func (nf *notifier) apply(ctx context.Context, tx *sql.Tx, jobs []*notifyJob, replies []CallbackReply) error {
	if len(jobs) == 0 {
		return nil
	}
	d := nf.d
	// With several consoles on one database another one's sweep may have
	// processed some of jobs meanwhile: those are answered as it recorded
	// and not applied again.
	ids := make([]int64, len(jobs))
	for i, j := range jobs {
		ids[i] = j.id
	}
	done, err := d.db.ProcessedNotificationsTx(ctx, tx, ids)
	if err != nil {
		return err
	}
	outs := make([]store.NotificationOutcome, 0, len(jobs))
	for i, j := range jobs {
		if r, ok := done[j.id]; ok {
			replies[i] = CallbackReply{r.Code, r.Body}
			continue
		}
		if j.lookErr != nil {
			replies[i] = replyUnavailable()
			continue
		}
		out, err := d.handleNotification(ctx, tx, j)
		if err != nil {
			return fmt.Errorf("notification %d: %w", j.id, err)
		}
		replies[i] = CallbackReply{out.ReplyCode, out.ReplyBody}
		outs = append(outs, out)
	}
	stale, err := d.db.FinishNotificationsTx(ctx, tx, outs)
	if stale > 0 {
		d.log.Warn("notifications processed twice; the second outcome was dropped", "count", stale)
	}
	return err
}

// process applies stored jobs in one transaction, falling back to one
// transaction per job when the batch fails. A job whose transaction fails
// stays pending.
func (nf *notifier) process(ctx context.Context, batch []*notifyJob) []CallbackReply {
	d := nf.d
	replies := make([]CallbackReply, len(batch))
	run := func(jobs []*notifyJob, reps []CallbackReply) error {
		return d.db.InTx(ctx, func(tx *sql.Tx) error { return nf.apply(ctx, tx, jobs, reps) })
	}
	if len(batch) == 0 {
		return replies
	}
	if err := run(batch, replies); err == nil {
		return replies
	} else if len(batch) == 1 {
		d.log.Error("apply notification", "id", batch[0].id, "err", err)
		replies[0] = replyUnavailable()
		return replies
	}
	for i, j := range batch {
		if err := run([]*notifyJob{j}, replies[i:i+1]); err != nil {
			d.log.Error("apply notification", "id", j.id, "err", err)
			replies[i] = replyUnavailable()
		}
	}
	return replies
}

// sweepPending processes every stored row still pending: rows whose
// processing failed or was cut short by a crash.
func (nf *notifier) sweepPending(ctx context.Context) error {
	d := nf.d
	for {
		rows, err := d.db.PendingNotifications(ctx, d.now().Add(time.Second), maxNotifyBatch)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		batch := make([]*notifyJob, len(rows))
		for i, row := range rows {
			j := &notifyJob{raw: row.RawNotification, id: row.ID}
			if row.Cut() {
				// Only a rejected request is cut: it stays rejected.
				j.parseErr = errors.New("only the start of the request was kept")
			}
			d.prepareNotify(ctx, j)
			batch[i] = j
		}
		replies := nf.process(ctx, batch)
		stuck := 0
		for _, rep := range replies {
			if rep == replyUnavailable() {
				stuck++
			}
		}
		d.log.Info("swept pending notifications", "count", len(rows), "still_pending", stuck)
		if stuck > 0 || len(rows) < maxNotifyBatch {
			if stuck > 0 {
				return fmt.Errorf("%d notifications could not be applied and stay pending", stuck)
			}
			return nil
		}
	}
}
