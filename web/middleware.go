package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"

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

// authenticate loads the signed-in user, if any, into the context. A
// disabled user's session is ended.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := s.sessions.GetInt64(r.Context(), "user_id")
		if id != 0 {
			u, err := s.db.UserByID(r.Context(), id)
			switch {
			case err == nil && !u.Disabled:
				r = r.WithContext(context.WithValue(r.Context(), userKey, u))
			case err == nil || errors.Is(err, store.ErrNotFound):
				s.sessions.Remove(r.Context(), "user_id")
			default:
				s.log.Error("load user", "err", err)
			}
		}
		next.ServeHTTP(w, r)
	})
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
			target := "/login"
			if r.Method == http.MethodGet && r.URL.Path != "/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", target)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if u.MustChangePassword && r.URL.Path != "/account/password" && r.URL.Path != "/logout" {
			http.Redirect(w, r, "/account/password", http.StatusSeeOther)
			return
		}
		if roleAccess(u.Role) < least {
			s.renderError(w, r, http.StatusForbidden, errForbidden.msg)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// clientAddr is the address a request came from, for the audit log and
// throttling. X-Forwarded-For is trusted only when a proxy is declared.
func (s *Server) clientAddr(r *http.Request) string {
	if s.cfg.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			first, _, _ := strings.Cut(xff, ",")
			return strings.TrimSpace(first)
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	return next
}
