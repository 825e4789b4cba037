package payments

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// PayField is one form field of a POST pay action, in the order the payUrl
// gives it.
type PayField struct {
	Name, Value string
}

// PayAction is what the customer's browser must do with a payUrl: go to
// Action (Method "GET": Action is the payUrl exactly as received), or POST
// Fields as a form to Action (Method "POST").
type PayAction struct {
	Method string
	Action string
	Fields []PayField
}

// ParsePayURL reads payParams.payUrl. A plain payUrl is returned as it is,
// never URL-decoded (the document warns that decoding breaks some of them);
// it may be an http(s) link or something only meant for a QR code, such as
// weixin://…. A payUrl of the form "POST;https://host/path?a=1&b=2" becomes
// a POST of the fields a and b to https://host/path: the text after "POST;"
// is split at its first '?', and the query string is parsed into fields in
// their order (standard query decoding: %XX and '+' as space; a field whose
// escapes are invalid is kept raw).
//
// It refuses an empty payUrl, a javascript:, vbscript: or data: link, and a
// POST target that is not an absolute http(s) URL.
func ParsePayURL(payURL string) (PayAction, error) {
	trimmed := strings.TrimSpace(payURL)
	if trimmed == "" {
		return PayAction{}, errors.New("payUrl is empty")
	}
	if len(trimmed) < 5 || !strings.EqualFold(trimmed[:5], "POST;") {
		if dangerousScheme(trimmed) {
			return PayAction{}, fmt.Errorf("payUrl %.40q has a scheme a browser must not follow", trimmed)
		}
		return PayAction{Method: "GET", Action: payURL}, nil
	}
	rest := strings.TrimSpace(trimmed[5:])
	action, query, _ := strings.Cut(rest, "?")
	u, err := url.Parse(action)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return PayAction{}, fmt.Errorf("payUrl POST target %.60q is not an http(s) URL", action)
	}
	return PayAction{Method: "POST", Action: action, Fields: parseFields(query)}, nil
}

// parseFields splits a query string into its fields, keeping their order
// and repeated names.
func parseFields(query string) []PayField {
	var fields []PayField
	for part := range strings.SplitSeq(query, "&") {
		if part == "" {
			continue
		}
		name, value, _ := strings.Cut(part, "=")
		fields = append(fields, PayField{Name: unescapeOrRaw(name), Value: unescapeOrRaw(value)})
	}
	return fields
}

func unescapeOrRaw(s string) string {
	if v, err := url.QueryUnescape(s); err == nil {
		return v
	}
	return s
}

func dangerousScheme(s string) bool {
	scheme, _, ok := strings.Cut(s, ":")
	if !ok {
		return false
	}
	// Browsers ignore tabs and newlines inside a scheme.
	scheme = strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r == ' ' {
			return -1
		}
		return r
	}, scheme)
	switch strings.ToLower(scheme) {
	case "javascript", "vbscript", "data":
		return true
	}
	return false
}
