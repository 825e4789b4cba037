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
// callback still pending (a crash between its two commits, or a failed
// apply), and waits for that. The writer also does it at start and every
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
	// stored holds the jobs whose raw rows are committed and whose outcome
	// is not: the next transaction applies them and stores the jobs queued
	// meanwhile, so that each cycle costs one commit while every request
	// is still stored raw in a commit before the one that applies it.
	var stored []*notifyJob
	sweep := func(ch chan error) {
		stored = nf.cycle(ctx, stored, nil)
		err := nf.sweepPending(ctx)
		if ch != nil {
			ch <- err
		} else if err != nil {
			nf.d.log.Error("sweep pending notifications", "err", err)
		}
	}
	for {
		if len(stored) > 0 {
			select {
			case <-tick.C:
				sweep(nil)
				continue
			case ch := <-nf.sweep:
				sweep(ch)
				continue
			default:
			}
			stored = nf.cycle(ctx, stored, nf.fill(nil))
			continue
		}
		select {
		case j := <-nf.jobs:
			stored = nf.cycle(ctx, nil, nf.fill([]*notifyJob{j}))
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
				nf.cycle(ctx, nf.cycle(ctx, nil, batch), nil)
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

// cycle applies the stored jobs and stores the incoming ones raw, in one
// transaction; it answers the stored jobs and returns the incoming ones,
// now stored (nil when storing them failed: they are answered "not
// recorded"). Incoming rejected jobs beyond the budget are not stored but
// counted on their alerts in the same transaction, and answered after it.
// When the transaction fails, the two halves are retried apart so that one
// bad row cannot hold back the others.
func (nf *notifier) cycle(ctx context.Context, stored, incoming []*notifyJob) []*notifyJob {
	incoming, counted := splitCounted(incoming)
	if len(stored) == 0 && len(incoming) == 0 && len(counted) == 0 {
		return nil
	}
	d := nf.d
	replies := make([]CallbackReply, len(stored))
	var ids []int64
	storeAndCount := func(tx *sql.Tx) error {
		var err error
		if ids, err = nf.storeRaw(ctx, tx, incoming); err != nil {
			return err
		}
		return nf.count(ctx, tx, counted)
	}
	err := d.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := nf.apply(ctx, tx, stored, replies); err != nil {
			return err
		}
		return storeAndCount(tx)
	})
	if err != nil {
		d.log.Warn("notification commit failed; retrying its parts apart", "stored", len(stored), "incoming", len(incoming), "err", err)
		replies = nf.process(ctx, stored)
		ids = nil
		if len(incoming) > 0 || len(counted) > 0 {
			if err = d.db.InTx(ctx, storeAndCount); err != nil {
				ids = nil
				d.log.Error("store notifications", "count", len(incoming), "uncounted_rejected", len(counted), "err", err)
			}
		}
	}
	for i, j := range stored {
		if j.reply != nil {
			j.reply <- replies[i]
		}
	}
	for _, j := range counted {
		rej, _ := j.rejection()
		j.reply <- rej.reply()
	}
	if ids == nil {
		for _, j := range incoming {
			if j.reply != nil {
				j.reply <- replyUnavailable()
			}
		}
		return nil
	}
	for i, j := range incoming {
		j.id = ids[i]
	}
	return incoming
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
