package desk

import "time"

// timeIn renders t in loc as 2006-01-02 15:04:05; the zero time as "—".
func timeIn(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format("2006-01-02 15:04:05")
}
