package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"unicode/utf8"

	"paydesk/desk/payoutcsv"
	"paydesk/internal/i18n"
)

// fieldLabels names form fields in sentences, as the forms label them.
var fieldLabels = map[string]string{
	"username": i18n.N("Username"), "role": i18n.N("Role"), "next": i18n.N("The address to go to after sign-in"),
	"amount": i18n.N("Amount"), "product": i18n.N("Pay product"), "subject": i18n.N("Subject"), "body": i18n.N("Description"),
	"param1": "param1", "param2": "param2", "expiry": i18n.N("Link expires"), "account": i18n.N("Gateway account"),
	"form_token": i18n.N("The form's token"),
	"account_id": i18n.N("Gateway account"), "account_name": i18n.N("Account name"), "account_no": i18n.N("Account number"),
	"bank_code": i18n.N("Bank"), "bank_search": i18n.N("Find a bank"), "branch": i18n.N("Branch name"), "province": i18n.N("Province"), "city": i18n.N("City"),
	"account_type": i18n.N("Account type"), "account_attr": i18n.N("Personal or corporate"), "bank_type": i18n.N("Interbank number"),
	"control_count": i18n.N("Number of payouts"), "control_sum": i18n.N("Total"), "note": i18n.N("Note"), "reason": i18n.N("Reason"),
	"two_person": i18n.N("Two-person rule"), "second_limit": i18n.N("Second approver limit"), "expiry_days": i18n.N("Expiry (days)"),
	"name": i18n.N("Name"), "merchant_name": i18n.N("Merchant name"), "base_url": i18n.N("Gateway base URL"), "mch_id": i18n.N("Merchant id"),
	"app_id": i18n.N("App id"), "key": i18n.N("Merchant key"), "notify_base_url": i18n.N("Public base URL"), "max_amount": i18n.N("Largest amount of one payment"),
	"notify_sources": i18n.N("Gateway source addresses"), "rejected_retention_days": i18n.N("Keep rejected callbacks (days)"),
	"require_two_factor": i18n.N("Require two-factor sign-in"), "step_up_limit": i18n.N("Step-up limit"),
	"q": i18n.N("Order number"), "code": i18n.N("Code"), "kind": i18n.N("Kind"), "status": i18n.N("Status"), "origin": i18n.N("Origin"),
	"from": i18n.N("From"), "to": i18n.N("To"), "language": i18n.N("Language"),
}

// multiLineFields may hold line breaks: free text, kept as written.
var multiLineFields = map[string]bool{"body": true, "note": true, "reason": true}

// passwordFields are hashed and never shown, so any character is taken:
// a password someone chose is not refused at sign-in. "next" is not
// refused either: safeNext replaces an address with control characters by
// the start page, and the sign-in goes on.
var passwordFields = map[string]bool{"password": true, "current": true, "new": true, "confirm": true, "step_up": true, "next": true}

// fieldLabel is how a sentence names form field name.
func fieldLabel(name string) i18n.Message {
	if l, ok := fieldLabels[name]; ok {
		return i18n.M(l)
	}
	l := strings.ReplaceAll(name, "_", " ")
	if l == "" {
		return i18n.M("A field")
	}
	return i18n.M("%s", strings.ToUpper(l[:1])+l[1:])
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
