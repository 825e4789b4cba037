package web

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/a-h/templ"

	"paydesk/store"
	"paydesk/views"
)

// handlerFunc is a handler that returns an error; adapt turns it into an
// http.Handler with one error policy.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// httpError is an error with a status and a sentence for staff.
type httpError struct {
	status int
	msg    string
}

func (e *httpError) Error() string { return e.msg }

func errStatus(status int, format string, args ...any) error {
	return &httpError{status: status, msg: fmt.Sprintf(format, args...)}
}

var (
	errForbidden = &httpError{http.StatusForbidden, "Your role does not allow this. Ask an admin if you need it."}
	errNotFound  = &httpError{http.StatusNotFound, "There is nothing at this address."}
)

// adapt runs h and answers its error: httpError with its status and
// sentence, store.ErrNotFound as 404, anything else as 500 (logged once,
// never shown).
func (s *Server) adapt(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		err := readForm(r)
		if err == nil {
			err = h(w, r)
		}
		if err == nil {
			return
		}
		var he *httpError
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &he):
		case errors.Is(err, store.ErrNotFound):
			he = errNotFound
		case errors.As(err, &mbe):
			he = errTooLarge(mbe.Limit)
		default:
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			he = &httpError{http.StatusInternalServerError, "Something went wrong on our side. It has been logged; please try again."}
		}
		s.renderError(w, r, he.status, he.msg)
	}
}

func errTooLarge(limit int64) *httpError {
	return &httpError{http.StatusRequestEntityTooLarge, fmt.Sprintf("What you sent is too large: the console takes at most %d KiB in one form. Shorten the text and try again.", limit/1024)}
}

// readForm reads the form of every POST before its handler runs, so that
// each form is checked the same way, also where a handler reads no field.
// Callbacks under /notify/ are stored exactly as they came: their body is
// theirs to read.
func readForm(r *http.Request) error {
	if r.Method != http.MethodPost || strings.HasPrefix(r.URL.Path, "/notify/") {
		return nil
	}
	return parseForm(r)
}

// parseForm reads a request's form. A body over MaxFormBytes gives 413 and
// anything unreadable 400, each with a sentence instead of a raw error; a
// text field with a control character gives 422 naming the field.
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errTooLarge(mbe.Limit)
		}
		return errStatus(http.StatusBadRequest, "The form could not be read. Reload the page and try again.")
	}
	return checkText(r.PostForm)
}

// renderError answers status with msg, as a page or, for htmx, a fragment.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<div class="flash err" role="alert">%s</div>`, templ.EscapeString(msg))
		return
	}
	p := s.page(r, http.StatusText(status), "")
	_ = s.render(w, r, status, views.ErrorPage(p, status, msg))
}

// render writes c with status, rendering into a buffer first so that a
// failing template never leaves a half-written 200.
func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) error {
	var buf bytes.Buffer
	if err := c.Render(r.Context(), &buf); err != nil {
		return fmt.Errorf("render: %w", err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Add("Vary", "HX-Request")
	w.WriteHeader(status)
	_, err := buf.WriteTo(w)
	return err
}

// redirect answers a successful POST: 303 to url, or for htmx an
// HX-Redirect header.
func redirect(w http.ResponseWriter, r *http.Request, url string) error {
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", url)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	http.Redirect(w, r, url, http.StatusSeeOther)
	return nil
}

// page builds the layout's view model for the current request.
func (s *Server) page(r *http.Request, title, section string) views.Page {
	p := views.Page{
		Title:      title,
		Section:    section,
		Sandbox:    s.cfg.SandboxURL != "",
		SandboxURL: s.cfg.SandboxURL,
	}
	if u, ok := userFrom(r.Context()); ok {
		p.User = &views.User{Username: u.Username, Role: u.Role, IsAdmin: u.Role == store.RoleAdmin}
		if n, err := s.db.CountOpenAlerts(r.Context(), 100); err == nil {
			p.OpenAlerts = n
		}
	}
	p.Flash = s.sessions.PopString(r.Context(), sessFlash)
	return p
}

// flash stores a message shown once on the next page.
func (s *Server) flash(r *http.Request, msg string) {
	s.sessions.Put(r.Context(), sessFlash, msg)
}
