// Package logdedup keeps a log readable when one failure repeats: a
// slog.Handler that passes the first of identical records, counts the
// repeats for an interval, and then writes one line saying how many there
// were. A full disk that fails every request then costs a few lines a
// minute instead of thousands a second.
package logdedup

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Handler wraps another slog.Handler. Records are identical when they
// have the same level, message and error text (the values of their
// attributes that are errors, and of "err" attributes); the other
// attributes (a request's path, say) may differ. Only records at Warn
// level or above, or carrying an error, are held back: other records
// always pass.
type Handler struct {
	next  slog.Handler
	state *state // shared by the handlers WithAttrs and WithGroup make
}

type state struct {
	interval time.Duration
	now      func() time.Time

	mu      sync.Mutex
	open    map[key]*window
	nextEnd time.Time // the earliest end of an open window
}

type key struct {
	level    slog.Level
	msg, err string
}

// window is the interval after a record passed, in which its repeats are
// counted.
type window struct {
	end      time.Time
	repeats  int
	next     slog.Handler // the handler of the record that passed
	errText  string
	lastTime time.Time
}

// New wraps next; repeats within interval are counted on the clock now.
func New(next slog.Handler, interval time.Duration, now func() time.Time) *Handler {
	return &Handler{next: next, state: &state{interval: interval, now: now, open: make(map[key]*window)}}
}

// Enabled reports whether the wrapped handler takes records at level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.next.Enabled(ctx, level)
}

// WithAttrs returns a handler with attrs, counting repeats with h.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &Handler{next: h.next.WithAttrs(attrs), state: h.state}
}

// WithGroup returns a handler with a group, counting repeats with h.
func (h *Handler) WithGroup(name string) slog.Handler {
	return &Handler{next: h.next.WithGroup(name), state: h.state}
}

// Handle writes r, unless it repeats a record written less than the
// interval ago; first it writes the count of repeats of every window that
// has ended.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	s := h.state
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.flushEnded(ctx, now)
	errText := errorText(r)
	if r.Level < slog.LevelWarn && errText == "" {
		return h.next.Handle(ctx, r)
	}
	k := key{r.Level, r.Message, errText}
	if w, ok := s.open[k]; ok {
		w.repeats++
		w.lastTime = r.Time
		return nil
	}
	w := &window{end: now.Add(s.interval), next: h.next, errText: errText}
	s.open[k] = w
	if s.nextEnd.IsZero() || w.end.Before(s.nextEnd) {
		s.nextEnd = w.end
	}
	return h.next.Handle(ctx, r)
}

// Flush writes the count of repeats of every open window, ended or not,
// and forgets them: at shutdown, say.
func (h *Handler) Flush() {
	s := h.state
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, w := range s.open {
		s.summarise(context.Background(), k, w)
		delete(s.open, k)
	}
	s.nextEnd = time.Time{}
}

// Run writes the counts of ended windows every interval, so that they
// appear also when nothing else is logged, until ctx ends; then it
// flushes what is left.
func (h *Handler) Run(ctx context.Context) {
	t := time.NewTicker(h.state.interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			h.Flush()
			return
		case <-t.C:
			s := h.state
			s.mu.Lock()
			s.flushEnded(context.Background(), s.now())
			s.mu.Unlock()
		}
	}
}

// flushEnded writes the counts of the windows ended by now; s.mu is held.
func (s *state) flushEnded(ctx context.Context, now time.Time) {
	if s.nextEnd.IsZero() || now.Before(s.nextEnd) {
		return
	}
	s.nextEnd = time.Time{}
	for k, w := range s.open {
		if now.Before(w.end) {
			if s.nextEnd.IsZero() || w.end.Before(s.nextEnd) {
				s.nextEnd = w.end
			}
			continue
		}
		s.summarise(ctx, k, w)
		delete(s.open, k)
	}
}

// summarise writes one line for a window's repeats, if it had any.
func (s *state) summarise(ctx context.Context, k key, w *window) {
	if w.repeats == 0 {
		return
	}
	msg := fmt.Sprintf("%s (repeated %d times in %s)", k.msg, w.repeats, s.interval)
	if w.repeats == 1 {
		msg = fmt.Sprintf("%s (repeated once in %s)", k.msg, s.interval)
	}
	r := slog.NewRecord(w.lastTime, k.level, msg, 0)
	if w.errText != "" {
		r.AddAttrs(slog.String("err", w.errText))
	}
	r.AddAttrs(slog.Int("repeated", w.repeats))
	_ = w.next.Handle(ctx, r)
}

// errorText joins the record's error values and "err" attributes.
func errorText(r slog.Record) string {
	var parts []string
	r.Attrs(func(a slog.Attr) bool {
		v := a.Value.Resolve()
		if e, ok := v.Any().(error); ok && v.Kind() == slog.KindAny {
			parts = append(parts, e.Error())
		} else if a.Key == "err" {
			parts = append(parts, v.String())
		}
		return true
	})
	return strings.Join(parts, "; ")
}
