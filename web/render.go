package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"

	"github.com/a-h/templ"

	"paydesk/desk"
	"paydesk/internal/i18n"
	"paydesk/store"
	"paydesk/views"
)

// handlerFunc is a handler that returns an error; adapt turns it into an
// http.Handler with one error policy.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// httpError is an error with a status and a sentence for staff, printed
// in their language when it is answered.
type httpError struct {
	status int
	msg    i18n.Message
}

func (e *httpError) Error() string { return e.msg.String() }

// text is the error's sentence in the language of r.
func (e *httpError) text(r *http.Request) string { return tr(r).Msg(e.msg) }

func errStatus(status int, format string, args ...any) error {
	return &httpError{status: status, msg: i18n.M(format, args...)}
}

var (
	errForbidden = &httpError{http.StatusForbidden, i18n.M("Your role does not allow this. Ask an admin if you need it.")}
	errNotFound  = &httpError{http.StatusNotFound, i18n.M("There is nothing at this address.")}
)

// refusalStatus is the HTTP status of each kind of the core's refusals.
var refusalStatus = map[desk.Kind]int{
	desk.Invalid:   http.StatusUnprocessableEntity,
	desk.Forbidden: http.StatusForbidden,
	desk.Conflict:  http.StatusConflict,
	desk.NotFound:  http.StatusNotFound,
	desk.TooMany:   http.StatusTooManyRequests,
	desk.Busy:      http.StatusServiceUnavailable,
}

// refusalError is the httpError answering a refusal of the core.
func refusalError(r *desk.Refusal) *httpError {
	status, ok := refusalStatus[r.Kind]
	if !ok {
		status = http.StatusUnprocessableEntity
	}
	return &httpError{status, r.Message()}
}

// fieldErrors maps each field a refusal is about to its sentence, printed
// by p.
func fieldErrors(p *i18n.Printer, r *desk.Refusal) map[string]string {
	m := map[string]string{}
	for f, msg := range r.FieldMessages() {
		m[f] = p.Msg(msg)
	}
	return m
}

// adapt reads a POST's form (readForm), runs h and answers its error:
// httpError with its status and sentence, a refusal of the core with the
// status of its kind, store.ErrNotFound as 404, a body too large or too
// slow as 413 or 408, anything else as 500 (logged once, never shown).
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
		var refusal *desk.Refusal
		switch {
		case errors.As(err, &he):
		case errors.As(err, &refusal):
			he = refusalError(refusal)
		case errors.Is(err, store.ErrNotFound):
			he = errNotFound
		case bodyError(err) != nil:
			he = bodyError(err)
		default:
			s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
			he = &httpError{http.StatusInternalServerError, i18n.M("Something went wrong on our side. It has been logged; please try again.")}
		}
		s.renderError(w, r, he.status, he.text(r))
	}
}

func errTooLarge(limit int64) *httpError {
	return &httpError{http.StatusRequestEntityTooLarge, i18n.M("What you sent is too large: the console takes at most %d KiB in one form. Shorten the text and try again.", limit/1024)}
}

// bodyError answers an error from reading a request's body: too large
// (413) or not arrived within the server's ReadTimeout (408). It is nil
// for any other error.
func bodyError(err error) *httpError {
	var mbe *http.MaxBytesError
	var ne net.Error
	switch {
	case errors.As(err, &mbe):
		return errTooLarge(mbe.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return errSlowBody
	}
	return nil
}

var errSlowBody = &httpError{http.StatusRequestTimeout, i18n.M("What you sent did not arrive in time, so nothing was done. Check the connection and send it again.")}

// readForm reads the body of every POST before its handler runs, so that
// each form is checked the same way, also where a handler reads no field,
// and a body too large or too slow is answered alike on every route. The
// payout file upload reads its own (multipart) body, and callbacks under
// /notify/ are stored exactly as they came.
func readForm(r *http.Request) error {
	if r.Method != http.MethodPost || strings.HasPrefix(r.URL.Path, "/notify/") || isUpload(r) {
		return nil
	}
	if err := parseForm(r); err != nil {
		return err
	}
	// A body that is no URL-encoded form is left unread by ParseForm.
	if _, err := io.Copy(io.Discard, r.Body); err != nil {
		if he := bodyError(err); he != nil {
			return he
		}
		return errUnreadable
	}
	return nil
}

var errUnreadable = &httpError{http.StatusBadRequest, i18n.M("The form could not be read. Reload the page and try again.")}

// parseForm reads a request's form: a body too large gives 413, too slow
// 408, anything else unreadable 400, each with a sentence instead of a
// raw error; a text field with a control character gives 422 naming the
// field.
func parseForm(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		if he := bodyError(err); he != nil {
			return he
		}
		return errUnreadable
	}
	return checkText(r.PostForm)
}

// renderError answers status with msg, as a page or, for htmx, a fragment.
// It answers also when the request's context has ended, as it has when
// the body did not arrive in time: rendering on that context would write
// nothing, and the client would get an empty 200.
func (s *Server) renderError(w http.ResponseWriter, r *http.Request, status int, msg string) {
	r = r.WithContext(context.WithoutCancel(r.Context()))
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<div class="flash err" role="alert">%s</div>`, templ.EscapeString(msg))
		return
	}
	p := s.page(r, statusTitle(status), "")
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

// csvDownload sets the headers of every CSV download: an attachment named
// filename, never kept by a browser or proxy cache (exports hold payees'
// names, accounts and amounts, and a shared computer's cache outlives the
// session).
func csvDownload(w http.ResponseWriter, filename string) {
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+filename+`"`)
	w.Header().Set("Cache-Control", "no-store")
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
		Title:      tr(r).T(title),
		Section:    section,
		Sandbox:    s.cfg.SandboxURL != "",
		SandboxURL: s.cfg.SandboxURL,
		Zone:       views.ZoneName(s.loc),
	}
	if u, ok := userFrom(r.Context()); ok {
		p.User = &views.User{Username: u.Username, Role: u.Role, IsAdmin: u.Role == store.RoleAdmin}
		if n, err := s.db.CountOpenAlerts(r.Context(), 100); err == nil {
			p.OpenAlerts = n
		}
		if roleAccess(u.Role) >= approver {
			if n, err := s.desk.ApprovalBadge(r.Context(), s.actor(r)); err == nil {
				p.AwaitingApproval = n
			}
		}
	}
	p.Flash = s.sessions.PopString(r.Context(), sessFlash)
	if msg := s.sessions.PopString(r.Context(), sessFlashErr); msg != "" && p.Error == "" {
		p.Error = msg
	}
	return p
}

// pagef is page with a title made of a key and arguments.
func (s *Server) pagef(r *http.Request, section, key string, args ...any) views.Page {
	p := s.page(r, "", section)
	p.Title = tr(r).T(key, args...)
	return p
}

// flash stores a message shown once on the next page.
func (s *Server) flash(r *http.Request, msg string) {
	s.sessions.Put(r.Context(), sessFlash, msg)
}

// statusTitle is the key of an error page's title.
func statusTitle(status int) string {
	switch status {
	case http.StatusBadRequest:
		return i18n.N("The request could not be read")
	case http.StatusForbidden:
		return i18n.N("Not allowed")
	case http.StatusNotFound:
		return i18n.N("Not found")
	case http.StatusMethodNotAllowed:
		return i18n.N("Not this way")
	case http.StatusRequestTimeout:
		return i18n.N("Too slow")
	case http.StatusConflict:
		return i18n.N("Not possible now")
	case http.StatusRequestEntityTooLarge:
		return i18n.N("Too large")
	case http.StatusUnprocessableEntity:
		return i18n.N("Not accepted")
	case http.StatusTooManyRequests:
		return i18n.N("Too many attempts")
	case http.StatusServiceUnavailable:
		return i18n.N("Busy")
	}
	return i18n.N("Something went wrong")
}

// flashError stores a refusal shown once on the next page as an error, not
// as a success.
func (s *Server) flashError(r *http.Request, msg string) {
	s.sessions.Put(r.Context(), sessFlashErr, msg)
}
