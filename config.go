package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

// Config is everything the console's serve command is configured with:
// flags, each falling back to an environment variable, and the values
// only the environment gives. A bad value stops start-up with a sentence.
type Config struct {
	Addr    string
	DataDir string
	// Database is a PostgreSQL URL; empty: SQLite in DataDir.
	Database      string
	SandboxAddr   string
	Zone          string
	Location      *time.Location // Zone, loaded
	SecureCookies bool
	TrustProxy    bool
	// TrustedProxies is the -trusted-proxies list as given: CIDR ranges or
	// single addresses, separated by commas; Proxies is it parsed.
	TrustedProxies string
	Proxies        []netip.Prefix
	IdleTimeout    time.Duration
	Lifetime       time.Duration
	AdminPassword  string
	// PublicURL is the console's base URL as customers and the gateway
	// reach it; empty means the listening address.
	PublicURL string
	// GatewayTimeout bounds every gateway call; an unclear payout is then
	// resolved by query.
	GatewayTimeout time.Duration
	PayoutFollowUp time.Duration
	PayoutBackoff  time.Duration
	// SandboxOff never starts the built-in sandbox (PAYDESK_SANDBOX=off).
	SandboxOff bool
	// Sandbox is the built-in sandbox's merchant and behaviour; its Key
	// may be empty (then generated once and kept in the data folder).
	Sandbox sandboxSettings
}

// envReader reads typed values from the environment, keeping the first
// bad one as its error.
type envReader struct {
	getenv func(string) string
	err    error
}

func (e *envReader) fail(key, value, what string) {
	if e.err == nil {
		e.err = fmt.Errorf("%s: %q is not %s", key, value, what)
	}
}

// str is the value of key, or def when it is unset or empty.
func (e *envReader) str(key, def string) string {
	if v := e.getenv(key); v != "" {
		return v
	}
	return def
}

// Sentences for values that are not of their kind; flags say the same.
const (
	notDuration = "a duration (write it like 15s or 2m)"
	notSwitch   = "on or off (write 1, true, yes, on or 0, false, no, off)"
)

func (e *envReader) duration(key string, def time.Duration) time.Duration {
	v := e.getenv(key)
	if v == "" {
		return def
	}
	d, ok := parseDuration(v)
	if !ok {
		e.fail(key, v, notDuration)
		return def
	}
	return d
}

func (e *envReader) boolean(key string) bool {
	v := e.getenv(key)
	b, ok := parseSwitch(v)
	if !ok {
		e.fail(key, v, notSwitch)
	}
	return b
}

// number reads a float in (0, max].
func (e *envReader) number(key string, def, max float64) float64 {
	v := e.getenv(key)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f <= 0 || f > max {
		e.fail(key, v, fmt.Sprintf("a number above 0 and at most %g, such as 0.01", max))
		return def
	}
	return f
}

// parseDuration reads a duration above zero.
func parseDuration(v string) (time.Duration, bool) {
	d, err := time.ParseDuration(strings.TrimSpace(v))
	return d, err == nil && d > 0
}

// parseSwitch reads an on/off value; empty is off.
func parseSwitch(v string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, true
	case "", "0", "false", "no", "off":
		return false, true
	}
	return false, false
}

// durationFlag is a flag.Value refusing what is not a positive duration
// with the same sentence as the environment.
type durationFlag struct{ d *time.Duration }

func (f durationFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f durationFlag) Set(v string) error {
	d, ok := parseDuration(v)
	if !ok {
		return errors.New("not " + notDuration)
	}
	*f.d = d
	return nil
}

// switchFlag is a boolean flag.Value with the environment's spellings.
type switchFlag struct{ b *bool }

func (f switchFlag) String() string     { return strconv.FormatBool(f.b != nil && *f.b) }
func (f switchFlag) IsBoolFlag() bool   { return true }
func (f switchFlag) Set(v string) error { return f.set(v) }

func (f switchFlag) set(v string) error {
	b, ok := parseSwitch(v)
	if !ok {
		return errors.New("not " + notSwitch)
	}
	*f.b = b
	return nil
}

// serveFlags declares the serve command's flags on c, with defaults from
// the environment; env holds the first bad environment value.
func serveFlags(getenv func(string) string, stdout io.Writer) (*flag.FlagSet, *Config, *envReader) {
	env := &envReader{getenv: getenv}
	c := &Config{
		Addr:           env.str("PAYDESK_ADDR", "127.0.0.1:8080"),
		DataDir:        env.str("PAYDESK_DATA", "./data"),
		Database:       getenv("PAYDESK_DATABASE_URL"),
		SandboxAddr:    env.str("PAYDESK_SANDBOX_ADDR", "127.0.0.1:3020"),
		Zone:           env.str("PAYDESK_ZONE", "Asia/Shanghai"),
		SecureCookies:  env.boolean("PAYDESK_SECURE_COOKIES"),
		TrustProxy:     env.boolean("PAYDESK_TRUST_PROXY"),
		TrustedProxies: getenv("PAYDESK_TRUSTED_PROXIES"),
		IdleTimeout:    env.duration("PAYDESK_IDLE_TIMEOUT", 30*time.Minute),
		Lifetime:       env.duration("PAYDESK_SESSION_LIFETIME", 12*time.Hour),
		AdminPassword:  getenv("PAYDESK_ADMIN_PASSWORD"),
		PublicURL:      getenv("PAYDESK_PUBLIC_URL"),
		GatewayTimeout: env.duration("PAYDESK_GATEWAY_TIMEOUT", 15*time.Second),
		PayoutFollowUp: env.duration("PAYDESK_PAYOUT_FOLLOW_UP", 30*time.Second),
		PayoutBackoff:  env.duration("PAYDESK_PAYOUT_BACKOFF", time.Second),
		Sandbox: sandboxSettings{
			MchID:     env.str("PAYDESK_SANDBOX_MCH_ID", defaultSandboxMchID),
			AppID:     env.str("PAYDESK_SANDBOX_APP_ID", defaultSandboxAppID),
			Key:       getenv("PAYDESK_SANDBOX_KEY"),
			TimeScale: env.number("PAYDESK_SANDBOX_TIME_SCALE", 1, 100),
			Faults:    getenv("PAYDESK_SANDBOX_FAULTS"),
		},
	}
	if v := getenv("PAYDESK_SANDBOX"); v != "" {
		on, ok := parseSwitch(v)
		if !ok {
			env.fail("PAYDESK_SANDBOX", v, notSwitch)
		}
		c.SandboxOff = !on
	}
	fset := flag.NewFlagSet("paydesk", flag.ContinueOnError)
	fset.SetOutput(stdout)
	fset.StringVar(&c.Addr, "addr", c.Addr, "address the console listens on (env PAYDESK_ADDR)")
	fset.StringVar(&c.DataDir, "data", c.DataDir, "folder for the SQLite database and other files (env PAYDESK_DATA)")
	fset.StringVar(&c.Database, "database", c.Database, "PostgreSQL database as postgres://user:password@host:5432/name, shared by several consoles; empty: SQLite in the data folder (env PAYDESK_DATABASE_URL)")
	fset.StringVar(&c.SandboxAddr, "sandbox-addr", c.SandboxAddr, "address of the built-in sandbox gateway, started when no gateway is configured (env PAYDESK_SANDBOX_ADDR)")
	fset.StringVar(&c.Zone, "zone", c.Zone, "time zone times are shown in (env PAYDESK_ZONE)")
	fset.Var(switchFlag{&c.SecureCookies}, "secure-cookies", "mark cookies Secure: set when users reach the console over HTTPS through a proxy (env PAYDESK_SECURE_COOKIES)")
	fset.Var(switchFlag{&c.TrustProxy}, "trust-proxy", "take client addresses from X-Forwarded-For, as written by the proxies of -trusted-proxies (env PAYDESK_TRUST_PROXY)")
	fset.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies, "with -trust-proxy: address ranges of your proxies, as CIDR,CIDR,... (default the loopback ranges 127.0.0.0/8,::1/128) (env PAYDESK_TRUSTED_PROXIES)")
	fset.Var(durationFlag{&c.IdleTimeout}, "idle-timeout", "sign users out after this long without a request (env PAYDESK_IDLE_TIMEOUT)")
	fset.Var(durationFlag{&c.Lifetime}, "session-lifetime", "sign users out this long after sign-in (env PAYDESK_SESSION_LIFETIME)")
	fset.Usage = func() { serveUsage(fset, stdout) }
	return fset, c, env
}

func serveUsage(fset *flag.FlagSet, stdout io.Writer) {
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
  PAYDESK_GATEWAY_TIMEOUT  longest wait for one gateway call (default 15s)
  PAYDESK_PAYOUT_BACKOFF   first wait before asking about an unclear payout again (default 1s)
  PAYDESK_PAYOUT_FOLLOW_UP ask about a payout still transferring after this long (default 30s)
  PAYDESK_SANDBOX          off: never start the built-in sandbox gateway
`)
}

// loadConfig reads the serve command's flags and environment into one
// Config, or says which value is wrong.
func loadConfig(args []string, getenv func(string) string, stdout io.Writer) (*Config, error) {
	fset, c, env := serveFlags(getenv, stdout)
	if err := fset.Parse(args); err != nil {
		return nil, err
	}
	if env.err != nil {
		return nil, env.err
	}
	if fset.NArg() > 0 {
		return nil, fmt.Errorf("unknown command %q (see paydesk -h)", fset.Arg(0))
	}
	var err error
	if c.Proxies, err = parseTrustedProxies(c.TrustedProxies, c.TrustProxy); err != nil {
		return nil, err
	}
	if c.Location, err = time.LoadLocation(c.Zone); err != nil {
		return nil, fmt.Errorf("zone %q: %w", c.Zone, err)
	}
	if _, err := sandbox.ParseFaults(c.Sandbox.Faults); err != nil {
		return nil, fmt.Errorf("PAYDESK_SANDBOX_FAULTS: %w", err)
	}
	if c.Database != "" && !store.IsPostgresURL(c.Database) {
		return nil, errors.New("-database must be a PostgreSQL URL such as postgres://paydesk:PASSWORD@db.example:5432/paydesk; leave it empty to use SQLite in the data folder")
	}
	c.Sandbox.Addr = c.SandboxAddr
	return c, nil
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
