package web

import (
	"time"

	"paydesk/internal/i18n"
)

// waitText renders a wait in whole seconds, rounded up: "3 s".
func waitText(p *i18n.Printer, d time.Duration) string {
	secs := int((d + time.Second - 1) / time.Second)
	return p.T("%d s", max(secs, 1))
}

// durationText renders a configured duration in words: "30 min", "12 h", "45 s".
func durationText(p *i18n.Printer, d time.Duration) string {
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return p.T("%d h", int(d/time.Hour))
	case d >= time.Minute && d%time.Minute == 0:
		return p.T("%d min", int(d/time.Minute))
	}
	return waitText(p, d)
}

// timeFromNanos turns a stored unix-nanosecond time back into a time; 0 is
// the zero time.
func timeFromNanos(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}
