package payments

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// javaNumber prints a JSON number literal the way the reference gateway
// does: integers in plain decimal (BigInteger.toString) and decimals the way
// BigDecimal.toString prints them. A literal that is not a valid JSON number
// is returned unchanged.
func javaNumber(lit string) string {
	neg, intPart, frac, exp, ok := splitNumber(lit)
	if !ok {
		return lit
	}
	digits := strings.TrimLeft(intPart+frac, "0")
	if digits == "" {
		digits = "0"
	}
	isZero := digits == "0"
	if frac == "" && exp == "" {
		if isZero || !neg {
			return digits
		}
		return "-" + digits
	}
	e := int64(0)
	if exp != "" {
		v, err := strconv.ParseInt(exp, 10, 32)
		if err != nil {
			return lit
		}
		e = v
	}
	scale := int64(len(frac)) - e
	var b strings.Builder
	if neg && !isZero {
		b.WriteByte('-')
	}
	adjusted := -scale + int64(len(digits)-1)
	switch {
	case scale == 0:
		b.WriteString(digits)
	case scale > 0 && adjusted >= -6:
		if int64(len(digits)) > scale {
			cut := len(digits) - int(scale)
			b.WriteString(digits[:cut])
			b.WriteByte('.')
			b.WriteString(digits[cut:])
		} else {
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", int(scale)-len(digits)))
			b.WriteString(digits)
		}
	default:
		b.WriteByte(digits[0])
		if len(digits) > 1 {
			b.WriteByte('.')
			b.WriteString(digits[1:])
		}
		if adjusted != 0 {
			b.WriteByte('E')
			if adjusted > 0 {
				b.WriteByte('+')
			}
			b.WriteString(strconv.FormatInt(adjusted, 10))
		}
	}
	return b.String()
}

// splitNumber splits a JSON number literal into its sign, integer digits,
// fraction digits and exponent (with its sign, without a leading '+').
func splitNumber(s string) (neg bool, intPart, frac, exp string, ok bool) {
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 {
		return false, "", "", "", false
	}
	intPart, s = s[:i], s[i:]
	if strings.HasPrefix(s, ".") {
		s = s[1:]
		j := 0
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == 0 {
			return false, "", "", "", false
		}
		frac, s = s[:j], s[j:]
	}
	if s != "" && (s[0] == 'e' || s[0] == 'E') {
		s = s[1:]
		sign := ""
		if s != "" && (s[0] == '+' || s[0] == '-') {
			if s[0] == '-' {
				sign = "-"
			}
			s = s[1:]
		}
		j := 0
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == 0 {
			return false, "", "", "", false
		}
		exp, s = sign+s[:j], s[j:]
	}
	if s != "" {
		return false, "", "", "", false
	}
	return neg, intPart, frac, exp, true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// writeJSON writes v as compact JSON the way the reference gateway's JSON
// library does: object keys sorted by UTF-16 code unit, null members left
// out, strings escaped the way fastjson escapes them by default: no HTML
// escaping, '/' raw, control characters (C0, DEL, C1) and U+2028/U+2029 as
// \uXXXX in upper-case hex, all other non-ASCII text raw.
func writeJSON(b *strings.Builder, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("null")
	case string:
		writeJSONString(b, x)
	case json.Number:
		b.WriteString(javaNumber(string(x)))
	case bool, int, int64, int32, uint, uint64, uint32:
		b.WriteString(ValueString(x))
	case Params:
		writeJSON(b, map[string]any(x))
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k, val := range x {
			if val != nil {
				keys = append(keys, k)
			}
		}
		slices.SortFunc(keys, compareUTF16)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			writeJSON(b, x[k])
		}
		b.WriteByte('}')
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSON(b, e)
		}
		b.WriteByte(']')
	default:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(x); err != nil {
			b.WriteString("null")
			return
		}
		b.Write(bytes.TrimRight(buf.Bytes(), "\n"))
	}
}

func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x80 {
			r, n := utf8.DecodeRuneInString(s[i:])
			// fastjson writes C1 controls and the JavaScript line
			// separators as \uXXXX; other non-ASCII text stays raw.
			if r <= 0x9F || r == 0x2028 || r == 0x2029 {
				writeUnicodeEscape(b, r)
			} else {
				b.WriteString(s[i : i+n])
			}
			i += n
			continue
		}
		i++
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 || c == 0x7F {
				writeUnicodeEscape(b, rune(c))
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
}

func writeUnicodeEscape(b *strings.Builder, r rune) {
	b.WriteString(`\u`)
	b.WriteByte(upperHex[(r>>12)&0xF])
	b.WriteByte(upperHex[(r>>8)&0xF])
	b.WriteByte(upperHex[(r>>4)&0xF])
	b.WriteByte(upperHex[r&0xF])
}
