package payments

import (
	"bytes"
	"crypto/md5"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Params is one decoded parameter set: values are string, json.Number, bool,
// nil, int, int64, map[string]any or []any. JSON is decoded with UseNumber so
// that no number ever passes through float64.
type Params map[string]any

// DecodeParams decodes one JSON object into Params, keeping numbers as
// json.Number literals. Anything but a single JSON object is an error.
func DecodeParams(data []byte) (Params, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var p Params
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("decode params: %w", err)
	}
	if p == nil {
		return nil, errors.New("decode params: not a JSON object")
	}
	if len(bytes.TrimLeft(data[dec.InputOffset():], " \t\r\n")) > 0 {
		return nil, errors.New("decode params: data after the JSON object")
	}
	return p, nil
}

// ParamsFromValues turns form or query values into Params, keeping the first
// value of each key as a string.
func ParamsFromValues(v url.Values) Params {
	p := make(Params, len(v))
	for k, vs := range v {
		if len(vs) > 0 {
			p[k] = vs[0]
		} else {
			p[k] = ""
		}
	}
	return p
}

// SignString returns the exact string the gateway hashes (stringSignTemp):
// every entry except "sign" whose value is neither nil nor "", rendered as
// "key=value&", sorted the way the reference gateway sorts them, followed by
// "key=<key>".
func SignString(p Params, key string) string {
	entries := signEntries(p)
	slices.SortFunc(entries, func(a, b signEntry) int { return compareReference(a.text, b.text) })
	return joinEntries(entries, key)
}

// Sign returns the upper-case hex MD5 of SignString(p, key).
func Sign(p Params, key string) string {
	return md5Upper(SignString(p, key))
}

// Verify reports whether p["sign"] is a string that matches the signature of
// p, computed either in the reference gateway's order or in plain ASCII key
// order (the published document's wording). The comparison ignores the case
// of the hex digits and runs in constant time.
func Verify(p Params, key string) bool {
	got, ok := p["sign"].(string)
	if !ok || got == "" {
		return false
	}
	gotUpper := []byte(asciiUpper(got))
	entries := signEntries(p)
	slices.SortFunc(entries, func(a, b signEntry) int { return compareReference(a.text, b.text) })
	ref := []byte(md5Upper(joinEntries(entries, key)))
	okRef := subtle.ConstantTimeCompare(gotUpper, ref) == 1

	// The ASCII key order differs only when a key is a prefix or a case
	// variant of another; compute the second signature only then.
	inASCIIOrder := true
	for i := 1; i < len(entries); i++ {
		if compareKeys(entries[i-1].key, entries[i].key) > 0 {
			inASCIIOrder = false
			break
		}
	}
	if inASCIIOrder {
		return okRef
	}
	ascii := slices.Clone(entries)
	slices.SortFunc(ascii, func(a, b signEntry) int { return compareKeys(a.key, b.key) })
	alt := []byte(md5Upper(joinEntries(ascii, key)))
	okAlt := subtle.ConstantTimeCompare(gotUpper, alt) == 1
	return okRef || okAlt
}

// ValueString returns the text a value is signed as: strings as they are,
// integers in decimal, json.Number literals the way Java's BigDecimal prints
// them (100.50 stays 100.50, 0.00000001 becomes 1E-8), booleans true/false,
// and objects and arrays as compact JSON with object keys sorted at every
// depth and null members left out.
func ValueString(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return javaNumber(string(x))
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case uint:
		return strconv.FormatUint(uint64(x), 10)
	case uint64:
		return strconv.FormatUint(x, 10)
	case uint32:
		return strconv.FormatUint(uint64(x), 10)
	case map[string]any, Params, []any:
		var b strings.Builder
		writeJSON(&b, x)
		return b.String()
	default:
		return fmt.Sprint(x)
	}
}

type signEntry struct {
	key  string
	text string // "key=value&"
}

func signEntries(p Params) []signEntry {
	entries := make([]signEntry, 0, len(p))
	n := 0
	for k, v := range p {
		if k == "sign" || v == nil {
			continue
		}
		if s, ok := v.(string); ok && s == "" {
			continue
		}
		s := ValueString(v)
		entries = append(entries, signEntry{key: k, text: s})
		n += len(k) + len(s) + 2
	}
	// Build every "key=value&" in one allocation and slice it up.
	var b strings.Builder
	b.Grow(n)
	for _, e := range entries {
		b.WriteString(e.key)
		b.WriteByte('=')
		b.WriteString(e.text)
		b.WriteByte('&')
	}
	all, off := b.String(), 0
	for i := range entries {
		size := len(entries[i].key) + len(entries[i].text) + 2
		entries[i].text = all[off : off+size]
		off += size
	}
	return entries
}

func joinEntries(entries []signEntry, key string) string {
	n := len("key=") + len(key)
	for _, e := range entries {
		n += len(e.text)
	}
	var b strings.Builder
	b.Grow(n)
	for _, e := range entries {
		b.WriteString(e.text)
	}
	b.WriteString("key=")
	b.WriteString(key)
	return b.String()
}

const upperHex = "0123456789ABCDEF"

func md5Upper(s string) string {
	sum := md5.Sum([]byte(s))
	var out [32]byte
	for i, c := range sum {
		out[2*i] = upperHex[c>>4]
		out[2*i+1] = upperHex[c&0x0f]
	}
	return string(out[:])
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// compareReference orders two "key=value&" strings like Java's
// String.CASE_INSENSITIVE_ORDER (UTF-16 code units, upper- then lower-cased),
// which is what the reference gateway sorts with. Strings that compare equal
// fall back to plain order so the result never depends on map iteration.
func compareReference(a, b string) int {
	if c := compareFold(a, b); c != 0 {
		return c
	}
	return compareKeys(a, b)
}

// compareKeys is compareUTF16, then byte order: bytes that are not UTF-8
// all read as U+FFFD, and two keys that differ only there must still come
// in one order, or Sign and Verify could hash them in two.
func compareKeys(a, b string) int {
	if c := compareUTF16(a, b); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func compareFold(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := a[i], b[i]
		if ca >= 0x80 || cb >= 0x80 {
			return compareFoldUTF16(a[i:], b[i:])
		}
		if ca == cb {
			continue
		}
		la, lb := asciiLower(ca), asciiLower(cb)
		if la != lb {
			return int(la) - int(lb)
		}
	}
	return len(a) - len(b)
}

func asciiLower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func compareFoldUTF16(a, b string) int {
	ua, ub := utf16.Encode([]rune(a)), utf16.Encode([]rune(b))
	n := min(len(ua), len(ub))
	for i := 0; i < n; i++ {
		ca, cb := ua[i], ub[i]
		if ca == cb {
			continue
		}
		ca, cb = foldUnit(ca, unicode.ToUpper), foldUnit(cb, unicode.ToUpper)
		if ca == cb {
			continue
		}
		ca, cb = foldUnit(ca, unicode.ToLower), foldUnit(cb, unicode.ToLower)
		if ca != cb {
			return int(ca) - int(cb)
		}
	}
	return len(ua) - len(ub)
}

// foldUnit applies a case mapping to one UTF-16 code unit the way Java's
// Character.toUpperCase(char) does: surrogates stay as they are, and a
// mapping that leaves the BMP is not applied.
func foldUnit(c uint16, f func(rune) rune) uint16 {
	if utf16.IsSurrogate(rune(c)) {
		return c
	}
	r := f(rune(c))
	if r > 0xFFFF {
		return c
	}
	return uint16(r)
}

// compareUTF16 orders strings by UTF-16 code units, like Java's
// String.compareTo and a TreeMap of String keys.
func compareUTF16(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			return utf16Key(ra) - utf16Key(rb)
		}
		a, b = a[na:], b[nb:]
	}
	return len(a) - len(b)
}

// utf16Key maps a code point to a value whose order is the order of its
// UTF-16 encoding: supplementary characters (surrogate pairs, D800–DBFF
// first unit) sort between U+D7FF and U+E000.
func utf16Key(r rune) int {
	switch {
	case r >= 0x10000:
		return 0xD800*0x10000 + int(r-0x10000)
	case r >= 0xE000:
		return 0xE000*0x10000 + int(r)
	default:
		return int(r) * 0x10000
	}
}
