// Command paydesk is a web console for a merchant's finance staff on an
// XxPay-style aggregated payment gateway. `paydesk` serves the console;
// subcommands manage users, check the audit log, back up the database and
// run the sandbox gateway alone. See README.md.
package main

//go:generate go tool templ generate

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"
	_ "time/tzdata" // the console's zone must load on machines without tzdata

	"paydesk/desk"
	"paydesk/internal/logdedup"
	"paydesk/store"
	"paydesk/web"
)

//go:embed static
var staticFS embed.FS

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdin, os.Stdout)
	switch {
	case errors.Is(err, flag.ErrHelp):
		// -h asked for the usage, which is printed: not a failure.
	case err != nil:
		fmt.Fprintln(os.Stderr, "paydesk:", err)
		stop()
		os.Exit(1)
	}
}

// run is the whole program, with its inputs made explicit so that tests can
// start it in-process.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "user":
			return runUser(ctx, args[1:], getenv, stdin, stdout)
		case "audit":
			return runAudit(ctx, args[1:], getenv, stdout)
		case "backup":
			return runBackup(ctx, args[1:], getenv, stdout)
		case "sandbox":
			return runSandbox(ctx, args[1:], getenv, stdout)
		}
	}
	return serve(ctx, args, getenv, stdout)
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

// openStore opens (creating) the database on the clock now: the PostgreSQL
// database at database when given, the SQLite file in dataDir otherwise.
// The data folder is made either way: it holds the master key and this
// instance's audit anchor.
func openStore(ctx context.Context, dataDir, database string, now func() time.Time) (*store.DB, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	if database != "" {
		return openDatabase(ctx, database, now)
	}
	return store.Open(ctx, filepath.Join(dataDir, "paydesk.db"), now)
}

// openDatabase opens the PostgreSQL database at database.
func openDatabase(ctx context.Context, database string, now func() time.Time) (*store.DB, error) {
	if !store.IsPostgresURL(database) {
		return nil, fmt.Errorf("-database must be a PostgreSQL URL such as postgres://paydesk:PASSWORD@db.example:5432/paydesk; leave it empty to use SQLite in the data folder")
	}
	return store.Open(ctx, database, now)
}

// The console's garbage collector settings, unless GOGC or GOMEMLIMIT say
// otherwise: the heap may grow to 5 times what is live between
// collections (GOGC=400) while the Go heap stays under gcBaseMemory plus
// what password hashing may hold at once (19 MiB a hash, one fewer hashes
// than cores: 48 MiB on 2 cores), past which the runtime collects as often
// as it needs to; a burst of sign-ins on a larger machine then does not
// keep the collector running. The live heap is
// small (about 10 MiB while callbacks flow), so that with Go's default of
// twice, it collected every few MiB of garbage. Against the built program
// (internal/ingestcheck, first callbacks, alternating runs) that took
// 9,279–10,240 callbacks/s to 10,687–11,002/s. The limit keeps a
// 100,000-row upload's peak under 100 MB (84–91 MiB, from 66–79).
const (
	gcPercent    = 400
	gcBaseMemory = 29 << 20
)

// gcMemoryLimit is the Go heap's soft limit tuneGC sets.
func gcMemoryLimit() int64 { return gcBaseMemory + desk.HashMemory(0) }

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(gcMemoryLimit())
	}
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	started := time.Now()
	c, err := loadConfig(args, getenv, stdout)
	if err != nil {
		return err
	}
	tuneGC(getenv)
	// An identical failure repeated (a full disk fails every request) is
	// logged once per 10 s with its count; the core's Run flushes it.
	dedup := logdedup.New(slog.NewTextHandler(stdout, nil), 10*time.Second, time.Now)
	log := slog.New(dedup)
	now := time.Now // the one clock of the store and the core
	db, err := openStore(ctx, c.DataDir, c.Database, now)
	if err != nil {
		return err
	}
	defer db.Close()
	masterKey, err := sealAudit(ctx, db, getenv, c.DataDir, log)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", c.Addr)
	if err != nil {
		return err
	}
	defer ln.Close()
	consoleURL := "http://" + ln.Addr().String()
	if c.PublicURL == "" {
		c.PublicURL = consoleURL
	}
	d, err := desk.New(desk.Config{
		Location: c.Location, MasterKey: masterKey, PublicURL: c.PublicURL, GatewayTimeout: c.GatewayTimeout,
		Payouts:      desk.PayoutOptions{FollowUp: c.PayoutFollowUp, Backoff: c.PayoutBackoff},
		PayoutWorker: true, PaymentResolver: true, Reconciler: true,
		Also: []func(context.Context){dedup.Run, auditHeadLog(db, log, auditHeadLogEvery)},
	}, db, log, now)
	if err != nil {
		return err
	}
	if err := firstAdmin(ctx, d, c.AdminPassword, consoleURL, log); err != nil {
		return err
	}
	gw, stopSandbox, err := gatewaySetup(ctx, c, db, log)
	if err != nil {
		return err
	}
	defer stopSandbox()
	srv, err := web.New(web.Config{
		SecureCookies: c.SecureCookies, TrustProxy: c.TrustProxy, TrustedProxies: c.Proxies,
		IdleTimeout: c.IdleTimeout, Lifetime: c.Lifetime, SandboxURL: gw.sandboxURL, GatewayRetryScale: gw.retryScale,
	}, d, db, log)
	if err != nil {
		return err
	}
	if err := gw.apply(ctx, d); err != nil {
		return err
	}
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return err
	}
	return serveUntilDone(ctx, c, srv, d, db, static, ln, log, started)
}

// serveUntilDone runs the core's loops and serves HTTP on ln until ctx
// ends or serving fails; then it stops taking requests, lets the running
// ones finish (up to 15 s), stops the core's loops and waits for them.
// The caller closes the database afterwards.
func serveUntilDone(ctx context.Context, c *Config, srv *web.Server, d *desk.Desk, db *store.DB, static fs.FS, ln net.Listener, log *slog.Logger, started time.Time) error {
	runCtx, stopRun := context.WithCancel(context.WithoutCancel(ctx))
	runDone := make(chan error, 1)
	go func() { runDone <- d.Run(runCtx) }()
	logAuditHead(log, db)
	hs := srv.HTTPServer(static)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("paydesk is listening", "url", "http://"+ln.Addr().String(), "data", c.DataDir, "startup", time.Since(started).Round(time.Millisecond))

	var err error
	select {
	case err = <-errc:
	case <-ctx.Done():
		log.Info("shutting down")
		shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		err = hs.Shutdown(shutCtx)
	}
	stopRun()
	if rerr := <-runDone; err == nil {
		err = rerr
	}
	logAuditHead(log, db)
	return err
}

// gatewayChoice is what start-up decided about the built-in sandbox
// gateway: with no real gateway account (and the sandbox not off), the
// console runs on the sandbox.
type gatewayChoice struct {
	sandbox    *desk.SandboxAccount // the running sandbox, for the "Sandbox" account
	retire     bool                 // a real account exists: disable the "Sandbox" account
	sandboxURL string
	retryScale float64 // the sandbox's time scale, for the timeline's retry predictions
}

// gatewaySetup starts the built-in sandbox when the console should run on
// it; the returned function stops it.
func gatewaySetup(ctx context.Context, c *Config, db *store.DB, log *slog.Logger) (gatewayChoice, func(), error) {
	var gw gatewayChoice
	realAccounts, err := db.CountRealGatewayAccounts(ctx)
	if err != nil {
		return gw, nil, err
	}
	if realAccounts > 0 {
		// A real gateway is configured: the sandbox's account would point
		// at a gateway that is not running. (With PAYDESK_SANDBOX=off alone
		// it is left as it is: it may point at a sandbox run elsewhere.)
		gw.retire = true
		return gw, func() {}, nil
	}
	if c.SandboxOff {
		return gw, func() {}, nil
	}
	st := c.Sandbox
	if st.Key, err = sandboxKey(st.Key, c.DataDir); err != nil {
		return gw, nil, err
	}
	_, base, stop, err := startSandbox(st, log)
	if err != nil {
		return gw, nil, err
	}
	gw.sandboxURL, gw.retryScale = base, st.TimeScale
	gw.sandbox = &desk.SandboxAccount{BaseURL: base, MchID: st.MchID, AppID: st.AppID, Key: st.Key}
	log.Info("no gateway account configured: the built-in sandbox gateway is running", "url", base, "page", base+"/sandbox")
	return gw, stop, nil
}

// apply points the "Sandbox" account at the running sandbox, or retires it.
func (gw gatewayChoice) apply(ctx context.Context, d *desk.Desk) error {
	switch {
	case gw.sandbox != nil:
		_, err := d.EnsureSandboxAccount(ctx, *gw.sandbox)
		return err
	case gw.retire:
		return d.RetireSandboxAccount(ctx, "an enabled gateway account other than the sandbox exists")
	}
	return nil
}

// firstAdmin creates the admin account when no user exists yet, and says
// how to sign in.
func firstAdmin(ctx context.Context, d *desk.Desk, password, consoleURL string, log *slog.Logger) error {
	generated, created, err := d.CreateFirstAdmin(ctx, password)
	switch {
	case err != nil || !created:
		return err
	}
	// The admin's argon2id hash took 19 MiB that an idle console would keep
	// until its next collection; hand it back now.
	debug.FreeOSMemory()
	switch {
	case generated != "":
		log.Info("first start: created user admin; sign in with this password (shown only now) and choose your own",
			"url", consoleURL+"/login", "username", "admin", "password", generated)
	default:
		log.Info("first start: created user admin with the password from PAYDESK_ADMIN_PASSWORD", "url", consoleURL+"/login")
	}
	return nil
}
