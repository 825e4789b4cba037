// Package web is Paydesk's HTTP side: the Server, every route in
// routes.go, middleware (sessions, roles, cross-origin protection, security
// headers) and one file per resource. A handler reads the request, asks the
// core (package desk) to do what changes anything, and renders a view
// model; it reads the store for pages.
package web

import (
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/go-chi/chi/v5"

	"paydesk/desk"
	"paydesk/internal/i18n"
	"paydesk/store"
)

// Config is the console's configuration, passed in by main.
type Config struct {
	// SecureCookies marks cookies Secure (TLS, or a declared HTTPS proxy).
	SecureCookies bool
	// TrustProxy takes the client address from X-Forwarded-For, when the
	// request comes from one of TrustedProxies: the right-most address
	// there that is not itself a trusted proxy.
	TrustProxy bool
	// TrustedProxies are the address ranges of the proxies in front of the
	// console; with TrustProxy and none given, the loopback ranges.
	TrustedProxies []netip.Prefix
	// IdleTimeout ends a session after this long without a request.
	IdleTimeout time.Duration
	// Lifetime ends a session this long after sign-in, whatever happens.
	Lifetime time.Duration
	// SandboxURL is set when the console runs on the built-in sandbox
	// gateway; the layout then shows a banner.
	SandboxURL string
	// MaxFormBytes bounds every request body the console reads.
	MaxFormBytes int64
	// ReadTimeout bounds the reading of a whole request, body included
	// (see HTTPServer).
	ReadTimeout time.Duration
	// GatewayRetryScale multiplies the gateway's callback retry schedule
	// (+60 … +300 s) in timeline predictions: the sandbox's TimeScale when
	// the console runs on a sped-up sandbox. 0 means 1.
	GatewayRetryScale float64
}

func (c *Config) defaults() {
	if c.IdleTimeout <= 0 {
		c.IdleTimeout = 30 * time.Minute
	}
	if c.Lifetime <= 0 {
		c.Lifetime = 12 * time.Hour
	}
	if c.MaxFormBytes <= 0 {
		c.MaxFormBytes = 1 << 20
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 60 * time.Second
	}
	if c.GatewayRetryScale <= 0 {
		c.GatewayRetryScale = 1
	}
	if c.TrustProxy && len(c.TrustedProxies) == 0 {
		c.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	}
}

// Server holds what every handler needs.
type Server struct {
	cfg      Config
	loc      *time.Location // the zone times are shown in: the core's
	desk     *desk.Desk
	db       *store.DB // read-only use: pages and lists
	log      *slog.Logger
	now      func() time.Time
	sessions *scs.SessionManager
	cat      *i18n.Catalog // every visible sentence, in zh-CN and en
	// fragments matches the paths of fragmentRoutes.
	fragments *chi.Mux
}

// New builds a Server on the core d and its database db, which the
// Server only reads. Its clock and zone are the core's.
func New(cfg Config, d *desk.Desk, db *store.DB, log *slog.Logger) (*Server, error) {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	now := d.Now
	sm := scs.New()
	// scs with an IdleTimeout rewrites the session on every request: a
	// write that waits behind the callback writer on every page view. The
	// idle timeout is kept by authenticate (the seen mark, rewritten only
	// now and then) and by idleStore, which caps the stored expiry.
	sm.Store = idleStore{d.SessionStore(), cfg.IdleTimeout}
	sm.Lifetime = cfg.Lifetime
	sm.Cookie.Name = "paydesk_session"
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Secure = cfg.SecureCookies
	sm.Cookie.Path = "/"
	cat, err := i18n.New()
	if err != nil {
		return nil, err
	}
	sm.ErrorFunc = func(w http.ResponseWriter, r *http.Request, err error) {
		log.Error("session store", "method", r.Method, "path", r.URL.Path, "err", err)
		// Neither the user nor the team's default can be read: the
		// browser's language, else Chinese.
		lang, ok := i18n.FromAcceptLanguage(r.Header.Get("Accept-Language"))
		if !ok {
			lang = i18n.ZhCN
		}
		http.Error(w, cat.Printer(lang).T("The console cannot reach its session store. Please try again in a moment."), http.StatusServiceUnavailable)
	}
	s := &Server{
		cfg:       cfg,
		cat:       cat,
		loc:       d.Location(),
		desk:      d,
		db:        db,
		log:       log,
		now:       now,
		sessions:  sm,
		fragments: newFragmentMatcher(),
	}
	return s, nil
}

// HTTPServer is the http.Server the console runs behind: a request whose
// headers take more than 10 s, or whose body has not arrived within
// ReadTimeout (a 32 MiB payout file on a slow line), is answered 408.
func (s *Server) HTTPServer(static fs.FS) *http.Server {
	return &http.Server{
		Handler:           s.Handler(static),
		ReadHeaderTimeout: min(10*time.Second, s.cfg.ReadTimeout),
		ReadTimeout:       s.cfg.ReadTimeout,
		WriteTimeout:      s.cfg.ReadTimeout + 60*time.Second,
		IdleTimeout:       120 * time.Second,
	}
}
