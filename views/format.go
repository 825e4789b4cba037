package views

import (
	"strconv"
	"time"
)

// Money renders fen as yuan with a thousands separator: ¥1,234.56.
func Money(fen int64) string { return "¥" + Yuan(fen) }

// Yuan renders fen as yuan with two decimals and thousands separators,
// without a currency sign: -1,234.56.
func Yuan(fen int64) string {
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = uint64(-fen)
	}
	whole := strconv.FormatUint(u/100, 10)
	cents := u % 100
	var b []byte
	if neg {
		b = append(b, '-')
	}
	for i, c := range []byte(whole) {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, c)
	}
	b = append(b, '.', byte('0'+cents/10), byte('0'+cents%10))
	return string(b)
}

// YuanPlain renders fen as yuan with two decimals and no separators, the
// form typed into amount fields and written to CSV: 1234.56.
func YuanPlain(fen int64) string {
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = uint64(-fen)
	}
	s := strconv.FormatUint(u/100, 10) + "." + string([]byte{byte('0' + u%100/10), byte('0' + u%10)})
	if neg {
		return "-" + s
	}
	return s
}

// Time renders t in loc as 2006-01-02 15:04:05; the zero time as "—".
func Time(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	if loc == nil {
		loc = time.UTC
	}
	return t.In(loc).Format("2006-01-02 15:04:05")
}
