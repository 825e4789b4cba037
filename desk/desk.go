// Package desk is Paydesk's application core. It owns every operation that
// changes money, order state, users, settings or gateway accounts: each
// takes the acting user (an Actor) and returns a result or a *Refusal,
// and every rule is written here once, so that the page that explains it
// and the action that enforces it ask the same function. It also owns
// every background loop (the callback writer, the payout worker and
// resolver, the payment resolver, the reconciler, resend jobs, the WAL
// checkpointer, housekeeping), all started and waited for by Run. It
// composes the store's transactions and makes every gateway call; it
// knows nothing of HTTP.
package desk

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"paydesk/store"
)

// Config is the core's configuration, built once in main.
type Config struct {
	// Location is the zone times are written in, in sentences and audit
	// rows.
	Location *time.Location
	// MasterKey (32 bytes) seals gateway merchant keys and two-factor
	// secrets at rest.
	MasterKey []byte
	// PublicURL is the console's own base URL as the gateway and customers
	// reach it (the default notify base URL, payment links).
	PublicURL string
	// GatewayTimeout bounds every call to a gateway.
	GatewayTimeout time.Duration
	// HashConcurrency bounds how many argon2id password hashes run at once;
	// 0 means one fewer than the CPUs, at least one. HashWait is the
	// longest an operation waits for a turn before it is refused busy
	// (default 2 s).
	HashConcurrency int
	HashWait        time.Duration
	// SharedThrottle keeps the sign-in throttle's counts in the database,
	// shared by every console on it; always so on PostgreSQL, where
	// several consoles may share one. Alone on SQLite they stay in memory.
	SharedThrottle bool
	// Payouts tunes the payout worker.
	Payouts PayoutOptions
	// PayoutWorker, PaymentResolver and Reconciler choose which of these
	// loops Run starts; the callback writer, the checkpointer,
	// housekeeping and resend jobs always run.
	PayoutWorker    bool
	PaymentResolver bool
	Reconciler      bool
	// Also are further loops Run owns (the log's repeat counter, the audit
	// head's log line): started first and stopped last, once the core's
	// own loops are done, so that what those log on their way out is
	// flushed too.
	Also []func(ctx context.Context)
}

func (c *Config) defaults() {
	if c.Location == nil {
		c.Location = time.UTC
	}
	if c.GatewayTimeout <= 0 {
		c.GatewayTimeout = 15 * time.Second
	}
	c.Payouts.defaults()
}

// Desk is the application core on one database.
type Desk struct {
	cfg Config
	db  *store.DB
	log *slog.Logger
	now func() time.Time

	sealer   *Sealer
	gw       *http.Client  // every gateway call goes through it
	keys     *keyCache     // merchant keys by mchId, for verifying callbacks
	rejects  *rejectBudget // what rejected callbacks may store
	notifier *notifier     // the single writer of inbound callbacks
	resends  resendJobs    // bulk resend jobs running here
	throttle *throttle     // password and code guessing, per user and address
	hasher   *hashLimiter  // bounds concurrent argon2id evaluations
	sessions *store.SessionStore
	// payoutKick wakes the payout workers when a batch is approved.
	payoutKick chan struct{}
	health     healthCache // the last health check
	days       dayCache    // the home page's figures of past days

	bg background

	// instance names this console among those sharing the database (the
	// owner of the resend jobs it runs).
	instance string
}

// New makes the core on an open database. now is the clock the store was
// opened with; nothing runs in the background until Run.
func New(cfg Config, db *store.DB, log *slog.Logger, now func() time.Time) (*Desk, error) {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if now == nil {
		now = time.Now
	}
	sealer, err := NewSealer(cfg.MasterKey)
	if err != nil {
		return nil, err
	}
	d := &Desk{cfg: cfg, db: db, log: log, now: now, sealer: sealer, gw: newGatewayHTTPClient(), rejects: newRejectBudget(),
		throttle: newThrottle(now), hasher: newHashLimiter(cfg.HashConcurrency, cfg.HashWait), sessions: db.SessionStore(),
		payoutKick: make(chan struct{}, 1), instance: newInstanceName()}
	if cfg.SharedThrottle || db.Postgres() {
		d.throttle.shared(db, log)
	}
	d.keys = newKeyCache(d, 30*time.Second)
	d.notifier = newNotifier(d)
	return d, nil
}

// Now is the console's clock: the one the store and the core share.
func (d *Desk) Now() time.Time { return d.now() }

// PublicURL is the console's own base URL as the gateway and customers
// reach it.
func (d *Desk) PublicURL() string { return d.cfg.PublicURL }

// Location is the zone times are shown in.
func (d *Desk) Location() *time.Location { return d.cfg.Location }

// Run runs every background loop until ctx ends, then stops them all and
// returns once every one has returned (resend jobs started meanwhile
// included). Stop serving requests before ending ctx, and close the
// database only after Run returns.
func (d *Desk) Run(ctx context.Context) error {
	if !d.bg.begin(ctx) {
		return errors.New("desk: Run was called twice")
	}
	// The extra loops get a context of their own, ended last.
	alsoCtx, stopAlso := context.WithCancel(context.WithoutCancel(ctx))
	var also sync.WaitGroup
	for _, f := range d.cfg.Also {
		also.Add(1)
		go func() {
			defer also.Done()
			f(alsoCtx)
		}()
	}
	// Jobs left running by a stop are not resumed: mark them (those of
	// other consoles on the database that are still running excepted).
	if err := d.db.InterruptAbandonedResendJobs(ctx, d.now()); err != nil {
		d.log.Error("mark interrupted resend jobs", "err", err)
	}
	d.bg.spawn(d.notifier.run)
	if !d.db.Postgres() {
		// The WAL is SQLite's; PostgreSQL checkpoints by itself.
		d.bg.spawn(d.runCheckpointer)
	}
	d.bg.spawn(d.runHousekeeping)
	d.bg.spawn(d.runSessionCleanup)
	if d.cfg.PaymentResolver {
		d.bg.spawn(d.runPaymentResolver)
	}
	if d.cfg.Reconciler {
		d.bg.spawn(d.runReconciler)
	}
	if d.cfg.PayoutWorker {
		d.bg.spawn(func(ctx context.Context) { d.RunPayoutWorker(ctx, d.cfg.Payouts) })
	}
	<-ctx.Done()
	d.bg.end()
	stopAlso()
	also.Wait()
	return nil
}

// background is the set of goroutines Run owns.
type background struct {
	mu      sync.Mutex
	ctx     context.Context
	started bool
	closed  bool
	wg      sync.WaitGroup
}

// begin starts the set; it reports false when it was started before.
func (b *background) begin(ctx context.Context) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return false
	}
	b.started, b.ctx = true, ctx
	return true
}

// spawn runs f in a goroutine that end waits for; f must return when its
// context ends. It reports false, running nothing, when Run is not
// running.
func (b *background) spawn(f func(ctx context.Context)) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.started || b.closed {
		return false
	}
	b.wg.Add(1)
	ctx := b.ctx
	go func() {
		defer b.wg.Done()
		f(ctx)
	}()
	return true
}

// end refuses new goroutines and waits for the running ones.
func (b *background) end() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.wg.Wait()
}

// SessionStore is where the HTTP side keeps its sessions: the core's
// database, with expired sessions deleted by Run.
func (d *Desk) SessionStore() *store.SessionStore { return d.sessions }

// newInstanceName is a random name for this console's run.
func newInstanceName() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
