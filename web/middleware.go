package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"paydesk/desk"
	"paydesk/store"
)

type ctxKey int

const userKey ctxKey = iota

func userFrom(ctx context.Context) (store.User, bool) {
	u, ok := ctx.Value(userKey).(store.User)
	return u, ok
}

// securityHeaders sets the headers every answer carries. The CSP allows no
// inline script: the console's only scripts are files under /static.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; form-action 'self' http: https:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// limitBody bounds every request body.
func (s *Server) limitBody(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Body != nil {
			limit := s.cfg.MaxFormBytes
			if r.Method == http.MethodPost && r.URL.Path == "/payouts/batches" {
				limit = max(limit, maxUploadBytes) // payout CSV uploads
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		next.ServeHTTP(w, r)
	})
}

// Session keys.
const (
	sessUserID   = "user_id"
	sessGen      = "gen"     // the user's session generation at sign-in
	sessAuthAt   = "auth_at" // sign-in time, unix nanoseconds
	sessSeen     = "seen"    // last request, unix nanoseconds
	sessFlash    = "flash"
	sessFlashErr = "flash_error" // a refusal to show once, as an error
)

// seenSteps is how finely the last request's time (the seen mark) is
// kept: it is rewritten, and the session with it, only once older than
// IdleTimeout/seenSteps, so that a page view does not write. A session
// then ends between IdleTimeout-IdleTimeout/seenSteps and IdleTimeout
// after its last request (29.5 to 30 minutes by default), never later.
const seenSteps = 60

// idleStore is the session store with the idle timeout: a session's row
// expires IdleTimeout after it was last written, or at its lifetime's end
// if sooner, so that scs ends an idle session on the real clock as well.
type idleStore struct {
	*store.SessionStore
	idle time.Duration
}

// Commit stores the session until expiry, or until idle from now if
// sooner.
func (s idleStore) Commit(token string, b []byte, expiry time.Time) error {
	if idle := time.Now().Add(s.idle); idle.Before(expiry) {
		expiry = idle
	}
	return s.SessionStore.Commit(token, b, expiry)
}

// authenticate loads the signed-in user, if any, into the context. A
// session ends when its user is gone or disabled, when the user signed out
// everywhere or changed password since (session generation), after
// IdleTimeout without a request or Lifetime after sign-in. scs enforces the
// two timeouts too, on the real clock; checking them here on s.now makes
// them hold exactly and lets tests move the clock.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		id := s.sessions.GetInt64(ctx, sessUserID)
		if id == 0 {
			next.ServeHTTP(w, r)
			return
		}
		now := s.now()
		u, err := s.db.UserByID(ctx, id)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			s.log.Error("load user", "err", err)
			r = r.WithContext(s.withLanguage(ctx, r))
			s.renderError(w, r, http.StatusServiceUnavailable, tr(r).T("The console cannot reach its database. Please try again in a moment."))
			return
		}
		seen := time.Unix(0, s.sessions.GetInt64(ctx, sessSeen))
		authAt := time.Unix(0, s.sessions.GetInt64(ctx, sessAuthAt))
		p := s.cat.Printer(s.language(ctx, r))
		var why string
		switch {
		case err != nil || u.Disabled:
			why = p.T("Your session has ended. Please sign in again.")
		case u.SessionGen != s.sessions.GetInt64(ctx, sessGen):
			why = p.T("You were signed out everywhere (sign-out everywhere, or a password change). Please sign in again.")
		case now.Sub(seen) > s.cfg.IdleTimeout:
			why = p.T("You were signed out after %s without activity. Please sign in again.", durationText(p, s.cfg.IdleTimeout))
		case now.Sub(authAt) > s.cfg.Lifetime:
			why = p.T("Your session reached its %s limit. Please sign in again.", durationText(p, s.cfg.Lifetime))
		}
		if why != "" {
			if err := s.sessions.Destroy(ctx); err != nil {
				s.log.Error("end session", "err", err)
			}
			s.sessions.Put(ctx, sessFlash, why)
			next.ServeHTTP(w, r)
			return
		}
		if now.Sub(seen) >= s.cfg.IdleTimeout/seenSteps {
			s.sessions.Put(ctx, sessSeen, now.UnixNano())
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, userKey, u)))
	})
}

// startSession signs u in on a fresh session token, so that a token known
// before sign-in (planted by someone else, say) is worth nothing after it.
func (s *Server) startSession(ctx context.Context, u store.User) error {
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	now := s.now().UnixNano()
	s.sessions.Put(ctx, sessUserID, u.ID)
	s.sessions.Put(ctx, sessGen, u.SessionGen)
	s.sessions.Put(ctx, sessAuthAt, now)
	s.sessions.Put(ctx, sessSeen, now)
	return nil
}

// endSession signs out: the session's data is deleted and a new, empty
// session (with a new token) carries the flash message, if any.
func (s *Server) endSession(ctx context.Context, flash string) error {
	if err := s.sessions.Destroy(ctx); err != nil {
		return err
	}
	if err := s.sessions.RenewToken(ctx); err != nil {
		return err
	}
	if flash != "" {
		s.sessions.Put(ctx, sessFlash, flash)
	}
	return nil
}

// require wraps h so that it runs only for a signed-in user whose role is at
// least least. A signed-out visitor is sent to the sign-in page; a user
// who must change a generated password is sent to do that first.
func (s *Server) require(least access, h http.Handler) http.Handler {
	if least == public {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, ok := userFrom(r.Context())
		if !ok {
			if r.Header.Get("HX-Request") == "true" {
				// A fragment's own address is no page to come back to: the
				// page it belongs to is the one the browser shows.
				w.Header().Set("HX-Redirect", loginTarget(s.pageAddress(r)))
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			next := ""
			if r.Method == http.MethodGet {
				next, _ = s.acceptNext(r.URL.RequestURI())
			}
			http.Redirect(w, r, loginTarget(next), http.StatusSeeOther)
			return
		}
		if u.MustChangePassword && r.URL.Path != "/account/password" && r.URL.Path != "/logout" {
			http.Redirect(w, r, "/account/password", http.StatusSeeOther)
			return
		}
		if s.enrolFirst(w, r, u) {
			return
		}
		if roleAccess(u.Role) < least {
			s.renderError(w, r, http.StatusForbidden, errForbidden.text(r))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// clientAddr is the address a request came from, for the audit log and
// throttling. X-Forwarded-For is read only with TrustProxy, and only when
// the direct peer is a trusted proxy. Each proxy appends the address it
// was reached from, so the list is walked from the right, past trusted
// proxies, to the first address that is not one: everything left of it was
// written by the client and may be forged. A malformed entry stops the
// walk at the last good address.
func (s *Server) clientAddr(r *http.Request) string {
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		peer = host
	}
	if !s.cfg.TrustProxy {
		return peer
	}
	client, err := netip.ParseAddr(peer)
	if err != nil || !s.trustedProxy(client) {
		return peer
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		client = a
		if !s.trustedProxy(a) {
			break
		}
	}
	return client.String()
}

// parseHop reads one X-Forwarded-For entry: an address, or an address and
// a port.
func parseHop(h string) (netip.Addr, bool) {
	h = strings.TrimSpace(h)
	a, err := netip.ParseAddr(h)
	if err != nil {
		ap, err := netip.ParseAddrPort(h)
		if err != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.Unmap().WithZone(""), true
}

func (s *Server) trustedProxy(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// loginTarget is the sign-in page, returning to next afterwards.
func loginTarget(next string) string {
	if next == "" || next == "/" {
		return "/login"
	}
	return "/login?next=" + url.QueryEscape(next)
}

// pageAddress is the path and query of the page an htmx request came from
// (HX-Current-URL), when it is of this console and acceptable as next.
func (s *Server) pageAddress(r *http.Request) string {
	u, err := url.Parse(r.Header.Get("HX-Current-URL"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.User != nil || !strings.EqualFold(u.Host, r.Host) {
		return ""
	}
	p := u.EscapedPath()
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	next, _ := s.acceptNext(p)
	return next
}

// maxNext bounds the address returned to after sign-in, in bytes.
const maxNext = 2048

// safeNext is the address to go to after sign-in: next when acceptNext
// takes it, otherwise the start page.
func (s *Server) safeNext(next string) string {
	if p, ok := s.acceptNext(next); ok {
		return p
	}
	return "/"
}

// acceptNext takes next only as a path of this console: no scheme, no
// host, a single leading slash, no backslash and no control character,
// raw or percent-encoded (browsers drop tabs and newlines from addresses
// and read a backslash as a slash, so "/\t/evil.example" leads elsewhere),
// and not the address of an htmx fragment. It returns the path and query
// as they should be sent.
func (s *Server) acceptNext(next string) (string, bool) {
	if next == "" || len(next) > maxNext || next[0] != '/' {
		return "", false
	}
	decoded, err := url.PathUnescape(next)
	if err != nil {
		return "", false
	}
	for _, v := range []string{next, decoded} {
		if strings.HasPrefix(v, "//") || strings.ContainsRune(v, '\\') || !utf8.ValidString(v) || strings.IndexFunc(v, unicode.IsControl) >= 0 {
			return "", false
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") {
		return "", false
	}
	if s.isFragment(u.Path) {
		return "", false
	}
	p := u.EscapedPath()
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p, true
}

// actor is who makes request r, for the core: the signed-in user (none on
// public routes) and the client address.
func (s *Server) actor(r *http.Request) desk.Actor {
	u, _ := userFrom(r.Context())
	return desk.ActorOf(u, s.clientAddr(r))
}
