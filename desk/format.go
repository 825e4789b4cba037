package desk

import (
	"fmt"
	"strconv"
	"time"
)

// money renders fen as ¥1,234.56, as the console's pages do.
func money(fen int64) string { return "¥" + yuan(fen) }

// yuan renders fen as yuan with two decimals and thousands separators.
func yuan(fen int64) string {
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = uint64(-fen)
	}
	whole := strconv.FormatUint(u/100, 10)
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
	return string(append(b, '.', byte('0'+u%100/10), byte('0'+u%10)))
}

// yuanPlain renders fen as yuan with two decimals and no separators.
func yuanPlain(fen int64) string {
	s := yuan(fen)
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != ',' {
			out = append(out, s[i])
		}
	}
	return string(out)
}

// yuanText is an amount for timelines and the audit log: ¥12.50.
func yuanText(fen int64) string {
	return fmt.Sprintf("¥%d.%02d", fen/100, fen%100)
}

// timeIn renders t in loc as 2006-01-02 15:04:05; the zero time as "—".
func timeIn(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return "—"
	}
	return t.In(loc).Format("2006-01-02 15:04:05")
}
