package views

import (
	"strings"
	"unicode/utf8"

	"paydesk/internal/i18n"
)

// SearchView is the search page: what was typed and what it found.
type SearchView struct {
	Q       string
	Hits    []SearchHitRow
	Partial bool // only the newest orders were read for so common a start
	// TooLong: the text was cut to the length the box takes.
	TooLong bool
	// Lookup, when nothing is stored with the text: the offer to ask the
	// gateway about it as a number.
	Lookup *OrdersView
}

// SearchHitRow is one order found, with what matched.
type SearchHitRow struct {
	KindText   string
	Href       string
	MchNo      string
	GateNo     string
	Who        string // a payout's payee or a pay order's subject
	Amount     string
	StatusText string
	StatusTone string
	Created    string
	Field      string // message key of the field that matched
	// The matched value split around the typed text: Before is empty for
	// a match at the start.
	Before, Mark, After string
}

// MatchName is the key of the name of a field the search box matched
// (store.Match* constants).
func MatchName(match string) string {
	switch match {
	case "mchOrderNo":
		return i18n.N("Merchant order no.")
	case "payOrderId":
		return i18n.N("Gateway order no.")
	case "channelOrderNo":
		return i18n.N("Channel order no.")
	case "subject":
		return i18n.N("Subject")
	case "mchTransOrderNo":
		return i18n.N("Merchant payout no.")
	case "transOrderId":
		return i18n.N("Gateway payout no.")
	case "payee":
		return i18n.N("Payee")
	case "amount":
		return i18n.N("Amount")
	}
	return match
}

// MarkStart splits value into the part that starts with q (any case) and
// the rest; the whole value is marked when q is not its start (an amount).
func MarkStart(value, q string) (mark, rest string) {
	n := utf8.RuneCountInString(q)
	r := []rune(value)
	if n <= len(r) && strings.EqualFold(string(r[:n]), q) {
		return string(r[:n]), string(r[n:])
	}
	return value, ""
}
