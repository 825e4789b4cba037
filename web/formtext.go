package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"paydesk/desk/payoutcsv"
)

// fieldLabels names form fields in sentences, as the forms label them.
var fieldLabels = map[string]string{
	"username": "Username", "role": "Role", "next": "The address to go to after sign-in",
	"amount": "Amount", "product": "Pay product", "subject": "Subject", "body": "Description",
	"param1": "param1", "param2": "param2", "expiry": "Link expires", "account": "Gateway account",
	"form_token": "The form's token",
	"account_id": "Gateway account", "account_name": "Account name", "account_no": "Account number",
	"bank_code": "Bank", "bank_search": "Find a bank", "branch": "Branch name", "province": "Province", "city": "City",
	"account_type": "Account type", "account_attr": "Personal or corporate", "bank_type": "Interbank number",
	"control_count": "Number of payouts", "control_sum": "Total", "note": "Note", "reason": "Reason",
	"two_person": "Two-person rule", "second_limit": "Second approver limit", "expiry_days": "Expiry (days)",
	"name": "Name", "merchant_name": "Merchant name", "base_url": "Gateway base URL", "mch_id": "Merchant id",
	"app_id": "App id", "key": "Merchant key", "notify_base_url": "Public base URL", "max_amount": "Largest amount of one payment",
	"notify_sources": "Gateway source addresses", "rejected_retention_days": "Keep rejected callbacks (days)",
	"require_two_factor": "Require two-factor sign-in", "step_up_limit": "Step-up limit",
	"q": "Order number", "code": "Code", "kind": "Kind", "status": "Status", "origin": "Origin", "from": "From", "to": "To",
}

// multiLineFields may hold line breaks: free text, kept as written.
var multiLineFields = map[string]bool{"body": true, "note": true, "reason": true}

// passwordFields are hashed and never shown, so any character is taken:
// a password someone chose is not refused at sign-in. "next" is not
// refused either: safeNext replaces an address with control characters by
// the start page, and the sign-in goes on.
var passwordFields = map[string]bool{"password": true, "current": true, "new": true, "confirm": true, "step_up": true, "next": true}

// fieldLabel is how a sentence names form field name.
func fieldLabel(name string) string {
	if l, ok := fieldLabels[name]; ok {
		return l
	}
	l := strings.ReplaceAll(name, "_", " ")
	if l == "" {
		return "A field"
	}
	return strings.ToUpper(l[:1]) + l[1:]
}

// checkText refuses a form whose text fields hold control characters,
// naming the first such field (in name order). Values are checked as the
// handlers read them, without the spaces around them.
func checkText(form url.Values) error {
	names := make([]string, 0, len(form))
	for name := range form {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		if passwordFields[name] {
			continue
		}
		for _, v := range form[name] {
			if payoutcsv.HasControl(strings.TrimSpace(v), multiLineFields[name]) {
				return errStatus(http.StatusUnprocessableEntity, "%s contains a control character; remove it.", fieldLabel(name))
			}
		}
	}
	return nil
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
