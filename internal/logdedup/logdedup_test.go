package logdedup

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// clock is a clock the test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// syncBuf is the wrapped handler's output, read while Run writes to it.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// newLogger logs through a Handler on a clock of the test's into a text
// handler writing lines without times.
func newLogger(interval time.Duration) (*slog.Logger, *Handler, *clock, *syncBuf) {
	buf := &syncBuf{}
	c := &clock{t: time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)}
	text := slog.NewTextHandler(buf, &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey && len(groups) == 0 {
			return slog.Attr{}
		}
		return a
	}})
	h := New(text, interval, c.now)
	return slog.New(h), h, c, buf
}

// lines is what was written, one line per record.
func lines(buf *syncBuf) []string {
	s := strings.TrimSpace(buf.String())
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

var errDiskFull = errors.New("disk I/O error: database or disk is full")

// 48,900 identical failures in 30 s make a handful of lines with the
// counts, not 48,900.
func TestRepeatsAreCounted(t *testing.T) {
	log, h, c, buf := newLogger(10 * time.Second)
	const total = 48_900
	for i := 0; i < total; i++ {
		log.Error("request failed", "path", fmt.Sprintf("/payments/%d", i), "err", errDiskFull)
		c.add(30 * time.Second / total)
	}
	h.Flush()
	got := lines(buf)
	if len(got) > 6 {
		t.Fatalf("%d lines for %d identical failures:\n%s", len(got), total, strings.Join(got, "\n"))
	}
	passed, counted := 0, 0
	for _, l := range got {
		if !strings.Contains(l, `err="disk I/O error: database or disk is full"`) || !strings.Contains(l, "level=ERROR") {
			t.Errorf("line lacks the level or the error: %s", l)
		}
		var n int
		if i := strings.Index(l, "repeated="); i >= 0 {
			fmt.Sscanf(l[i:], "repeated=%d", &n)
			counted += n
			if !strings.Contains(l, fmt.Sprintf(`msg="request failed (repeated %d times in 10s)"`, n)) && n > 1 {
				t.Errorf("summary line: %s", l)
			}
		} else {
			passed++
		}
	}
	if passed+counted != total {
		t.Errorf("%d passed + %d counted = %d, want %d:\n%s", passed, counted, passed+counted, total, strings.Join(got, "\n"))
	}
	if passed != 3 { // at 0 s, 10 s and 20 s
		t.Errorf("%d records passed, want one per 10 s window:\n%s", passed, strings.Join(got, "\n"))
	}
}

func TestWhatCountsAsIdentical(t *testing.T) {
	log, h, c, buf := newLogger(10 * time.Second)
	log.Error("request failed", "err", errDiskFull)
	log.Error("request failed", "err", errors.New("database is locked")) // other error text
	log.Warn("request failed", "err", errDiskFull)                       // other level
	log.Error("render failed", "err", errDiskFull)                       // other message
	log.Error("request failed", "err", errDiskFull, "path", "/other")    // the same: repeated
	log.Info("signed in", "user", "li.na")                               // no error, below Warn: always passes
	log.Info("signed in", "user", "li.na")
	log.Warn("slow gateway")
	log.Warn("slow gateway") // Warn without an error: repeated
	got := lines(buf)
	if len(got) != 7 {
		t.Fatalf("%d lines, want 7:\n%s", len(got), strings.Join(got, "\n"))
	}
	c.add(10 * time.Second)
	log.Info("next")
	got = lines(buf)
	want := []string{
		`level=ERROR msg="request failed (repeated once in 10s)" err="disk I/O error: database or disk is full" repeated=1`,
		`level=WARN msg="slow gateway (repeated once in 10s)" repeated=1`,
	}
	summaries := strings.Join(got[7:len(got)-1], "\n")
	for _, w := range want {
		if !strings.Contains(summaries, w) {
			t.Errorf("no line %s in:\n%s", w, summaries)
		}
	}
	if len(got) != 10 {
		t.Errorf("%d lines, want 10:\n%s", len(got), strings.Join(got, "\n"))
	}
	h.Flush()
	if n := len(lines(buf)); n != 10 {
		t.Errorf("flush after the summaries wrote %d more lines", n-10)
	}
}

// Loggers made With attributes count repeats together, and the summary
// keeps the attributes of the record that passed.
func TestWithAttrsShareCounts(t *testing.T) {
	log, h, _, buf := newLogger(time.Minute)
	a := log.With("component", "notifier")
	b := log.WithGroup("g")
	a.Error("write failed", "err", errDiskFull)
	b.Error("write failed", "err", errDiskFull)
	a.Error("write failed", "err", errDiskFull)
	h.Flush()
	got := lines(buf)
	if len(got) != 2 || !strings.Contains(got[1], "component=notifier") || !strings.Contains(got[1], "repeated=2") {
		t.Fatalf("lines:\n%s", strings.Join(got, "\n"))
	}
}

// Run writes the counts when nothing else is logged, and flushes at the
// end.
func TestRunFlushes(t *testing.T) {
	log, h, c, buf := newLogger(20 * time.Millisecond)
	log.Error("x", "err", errDiskFull)
	log.Error("x", "err", errDiskFull)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { h.Run(ctx); close(done) }()
	c.add(time.Second)
	deadline := time.Now().Add(5 * time.Second)
	for len(lines(buf)) < 2 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if got := lines(buf); len(got) != 2 || !strings.Contains(got[1], "repeated=1") {
		t.Fatalf("lines:\n%s", strings.Join(got, "\n"))
	}
	log.Error("y", "err", errDiskFull)
	log.Error("y", "err", errDiskFull)
	cancel()
	<-done
	if got := lines(buf); len(got) != 4 || !strings.Contains(got[3], `msg="y (repeated once`) {
		t.Fatalf("after Run ended:\n%s", strings.Join(got, "\n"))
	}
}
