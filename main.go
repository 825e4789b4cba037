// Command paydesk is a web console for a merchant's finance staff on an
// XxPay-style aggregated payment gateway. `paydesk` serves the console;
// subcommands manage users, check the audit log, back up the database and
// run the sandbox gateway alone. See README.md.
package main

//go:generate go tool templ generate

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"
	_ "time/tzdata" // the console's zone must load on machines without tzdata

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

// Config is everything the console's serve command is configured with.
type Config struct {
	Addr          string
	DataDir       string
	SandboxAddr   string
	Zone          string
	SecureCookies bool
	TrustProxy    bool
	// TrustedProxies is the -trusted-proxies list as given: CIDR ranges or
	// single addresses, separated by commas.
	TrustedProxies string
	IdleTimeout    time.Duration
	Lifetime       time.Duration
	AdminPassword  string
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}

func envDuration(getenv func(string) string, key string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(getenv(key)); err == nil && d > 0 {
		return d
	}
	return def
}

func envBool(getenv func(string) string, key string) bool {
	switch strings.ToLower(getenv(key)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}

func serveFlags(getenv func(string) string, stdout io.Writer) (*flag.FlagSet, *Config) {
	c := &Config{}
	fset := flag.NewFlagSet("paydesk", flag.ContinueOnError)
	fset.SetOutput(stdout)
	fset.StringVar(&c.Addr, "addr", envOr(getenv, "PAYDESK_ADDR", "127.0.0.1:8080"), "address the console listens on (env PAYDESK_ADDR)")
	fset.StringVar(&c.DataDir, "data", envOr(getenv, "PAYDESK_DATA", "./data"), "folder for the SQLite database and other files (env PAYDESK_DATA)")
	fset.StringVar(&c.SandboxAddr, "sandbox-addr", envOr(getenv, "PAYDESK_SANDBOX_ADDR", "127.0.0.1:3020"), "address of the built-in sandbox gateway, started when no gateway is configured (env PAYDESK_SANDBOX_ADDR)")
	fset.StringVar(&c.Zone, "zone", envOr(getenv, "PAYDESK_ZONE", "Asia/Shanghai"), "time zone times are shown in (env PAYDESK_ZONE)")
	fset.BoolVar(&c.SecureCookies, "secure-cookies", envBool(getenv, "PAYDESK_SECURE_COOKIES"), "mark cookies Secure: set when users reach the console over HTTPS through a proxy (env PAYDESK_SECURE_COOKIES)")
	fset.BoolVar(&c.TrustProxy, "trust-proxy", envBool(getenv, "PAYDESK_TRUST_PROXY"), "take client addresses from X-Forwarded-For, as written by the proxies of -trusted-proxies (env PAYDESK_TRUST_PROXY)")
	fset.StringVar(&c.TrustedProxies, "trusted-proxies", getenv("PAYDESK_TRUSTED_PROXIES"), "with -trust-proxy: address ranges of your proxies, as CIDR,CIDR,... (default the loopback ranges 127.0.0.0/8,::1/128) (env PAYDESK_TRUSTED_PROXIES)")
	fset.DurationVar(&c.IdleTimeout, "idle-timeout", envDuration(getenv, "PAYDESK_IDLE_TIMEOUT", 30*time.Minute), "sign users out after this long without a request (env PAYDESK_IDLE_TIMEOUT)")
	fset.DurationVar(&c.Lifetime, "session-lifetime", envDuration(getenv, "PAYDESK_SESSION_LIFETIME", 12*time.Hour), "sign users out this long after sign-in (env PAYDESK_SESSION_LIFETIME)")
	c.AdminPassword = getenv("PAYDESK_ADMIN_PASSWORD")
	fset.Usage = func() {
		fmt.Fprintf(stdout, `Usage: paydesk [flags]            serve the console
       paydesk user add -username NAME -role ROLE [-data DIR]   (password on standard input)
       paydesk user passwd -username NAME [-data DIR]           (password on standard input)
       paydesk audit verify [-data DIR]   check that the audit log is intact
       paydesk backup [-data DIR] FILE    write a consistent copy of the database to FILE
       paydesk sandbox [flags]            run the sandbox gateway alone

Roles: viewer (reads), operator (payments, payouts, resends), approver (also
approves payout batches), admin (also users, gateway accounts, settings).

Flags:
`)
		fset.PrintDefaults()
		fmt.Fprintf(stdout, `
Environment only:
  PAYDESK_ADMIN_PASSWORD   password of the first admin, created when no user exists
                           (otherwise a random one is printed once to the log)
  PAYDESK_MASTER_KEY       64 hex digits: the key sealing gateway merchant keys
                           and the audit log (otherwise DATA/master.key,
                           created on first start)
  PAYDESK_PUBLIC_URL       the console's base URL as customers and the gateway
                           reach it (default: the listening address)
`)
	}
	return fset, c
}

func openStore(ctx context.Context, dataDir string) (*store.DB, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data folder: %w", err)
	}
	return store.Open(ctx, filepath.Join(dataDir, "paydesk.db"), nil)
}

func serve(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	started := time.Now()
	fset, c := serveFlags(getenv, stdout)
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("unknown command %q (see paydesk -h)", fset.Arg(0))
	}
	proxies, err := parseTrustedProxies(c.TrustedProxies, c.TrustProxy)
	if err != nil {
		return err
	}
	// An identical failure repeated (a full disk fails every request) is
	// logged once per 10 s with its count.
	dedup := logdedup.New(slog.NewTextHandler(stdout, nil), 10*time.Second, time.Now)
	log := slog.New(dedup)
	dedupCtx, stopDedup := context.WithCancel(context.Background())
	dedupDone := make(chan struct{})
	go func() { dedup.Run(dedupCtx); close(dedupDone) }()
	defer func() { stopDedup(); <-dedupDone }() // last: counts logged during shutdown too
	loc, err := time.LoadLocation(c.Zone)
	if err != nil {
		return fmt.Errorf("zone %q: %w", c.Zone, err)
	}
	db, err := openStore(ctx, c.DataDir)
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

	if err := firstAdmin(ctx, db, c.AdminPassword, consoleURL, log); err != nil {
		return err
	}
	publicURL := envOr(getenv, "PAYDESK_PUBLIC_URL", consoleURL)

	// With no real gateway account, the console runs on the built-in sandbox.
	var sbAccount *web.SandboxAccount
	sandboxURL := ""
	retryScale := 0.0 // the sandbox's time scale, for the timeline's retry predictions
	realAccounts, err := db.CountRealGatewayAccounts(ctx)
	if err != nil {
		return err
	}
	if realAccounts == 0 && !strings.EqualFold(getenv("PAYDESK_SANDBOX"), "off") {
		st := sandboxSettings{
			Addr:  c.SandboxAddr,
			MchID: envOr(getenv, "PAYDESK_SANDBOX_MCH_ID", defaultSandboxMchID),
			AppID: envOr(getenv, "PAYDESK_SANDBOX_APP_ID", defaultSandboxAppID),
		}
		if st.TimeScale, err = parseTimeScale(getenv("PAYDESK_SANDBOX_TIME_SCALE")); err != nil {
			return err
		}
		if st.Key, err = sandboxKey(getenv("PAYDESK_SANDBOX_KEY"), c.DataDir); err != nil {
			return err
		}
		st.Faults = getenv("PAYDESK_SANDBOX_FAULTS")
		_, base, stopSandbox, err := startSandbox(ctx, st, log)
		if err != nil {
			return err
		}
		defer stopSandbox()
		sandboxURL = base
		retryScale = st.TimeScale
		sbAccount = &web.SandboxAccount{BaseURL: base, MchID: st.MchID, AppID: st.AppID, Key: st.Key}
		log.Info("no gateway account configured: the built-in sandbox gateway is running", "url", base, "page", base+"/sandbox")
	}

	srv, err := web.New(web.Config{
		Location:       loc,
		SecureCookies:  c.SecureCookies,
		TrustProxy:     c.TrustProxy,
		TrustedProxies: proxies,
		IdleTimeout:    c.IdleTimeout,
		Lifetime:       c.Lifetime,
		MasterKey:      masterKey,
		PublicURL:      publicURL,
		SandboxURL:     sandboxURL,
		// Bounds every gateway call; an unclear payout is then resolved by query.
		GatewayTimeout:    envDuration(getenv, "PAYDESK_GATEWAY_TIMEOUT", 15*time.Second),
		GatewayRetryScale: retryScale,
	}, db, log, time.Now)
	if err != nil {
		return err
	}
	if sbAccount != nil {
		if _, err := srv.EnsureSandboxAccount(ctx, *sbAccount); err != nil {
			return err
		}
	} else if realAccounts > 0 {
		// A real gateway is configured: the sandbox's account would point at
		// a gateway that is not running. (With PAYDESK_SANDBOX=off alone it is
		// left as it is: it may point at a sandbox run elsewhere.)
		if err := srv.RetireSandboxAccount(ctx, "an enabled gateway account other than the sandbox exists"); err != nil {
			return err
		}
	}
	srv.StartPaymentResolver(ctx)
	srv.StartReconciler(ctx)
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return err
	}
	hs := srv.HTTPServer(static)
	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	waitPayouts := srv.StartPayoutWorker(workCtx, web.PayoutWorkerOptions{
		FollowUp: envDuration(getenv, "PAYDESK_PAYOUT_FOLLOW_UP", 30*time.Second),
		Backoff:  envDuration(getenv, "PAYDESK_PAYOUT_BACKOFF", time.Second),
	})
	logAuditHead(log, db)
	waitHeadLog := startAuditHeadLog(workCtx, db, log, auditHeadLogEvery)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("paydesk is listening", "url", consoleURL, "data", c.DataDir, "startup", time.Since(started).Round(time.Millisecond))

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	err = hs.Shutdown(shutCtx)
	stopWork()
	waitPayouts()
	waitHeadLog()
	srv.Close(shutCtx)
	logAuditHead(log, db)
	return err
}

// parseTrustedProxies reads -trusted-proxies: CIDR ranges or single
// addresses separated by commas.
func parseTrustedProxies(list string, trustProxy bool) ([]netip.Prefix, error) {
	if strings.TrimSpace(list) == "" {
		return nil, nil
	}
	if !trustProxy {
		return nil, errors.New("-trusted-proxies is set but -trust-proxy is off: set -trust-proxy as well, or leave -trusted-proxies out")
	}
	var out []netip.Prefix
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		p, err := netip.ParsePrefix(f)
		if err != nil {
			a, aerr := netip.ParseAddr(f)
			if aerr != nil {
				return nil, fmt.Errorf("-trusted-proxies: %q is not an address range such as 10.0.0.0/8 or fd00::/8, nor an address such as 10.0.0.7", f)
			}
			p = netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen())
		}
		out = append(out, p.Masked())
	}
	return out, nil
}

// firstAdmin creates the admin account when no user exists yet.
func firstAdmin(ctx context.Context, db *store.DB, password, consoleURL string, log *slog.Logger) error {
	n, err := db.CountUsers(ctx)
	if err != nil || n > 0 {
		return err
	}
	generated := password == ""
	if generated {
		password = web.RandomPassword()
	} else if err := web.ValidatePassword(password); err != nil {
		return fmt.Errorf("PAYDESK_ADMIN_PASSWORD: %w", err)
	}
	hash, err := web.HashPassword(password)
	if err != nil {
		return err
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.CreateUserTx(ctx, tx, "admin", store.RoleAdmin, hash, generated); err != nil {
			return err
		}
		return db.AuditTx(ctx, tx, store.AuditEntry{Actor: "system", Action: "user.create", Subject: "user:admin", Detail: "first admin, role admin"})
	})
	if err != nil {
		return err
	}
	if generated {
		log.Info("first start: created user admin; sign in with this password (shown only now) and choose your own",
			"url", consoleURL+"/login", "username", "admin", "password", password)
	} else {
		log.Info("first start: created user admin with the password from PAYDESK_ADMIN_PASSWORD", "url", consoleURL+"/login")
	}
	return nil
}
