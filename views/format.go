package views

import "time"

// Time renders t in loc as 2006-01-02 15:04:05; the zero time as "—". The
// layout names the zone once on every page (Page.Zone).
func Time(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04:05")
}
