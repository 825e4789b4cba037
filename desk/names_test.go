package desk

import (
	"testing"

	"paydesk/store"
)

// Every reason a callback is refused for before it reaches an order has
// a business name, not "other reason".
func TestRejectedReasonName(t *testing.T) {
	for reason, want := range map[string]string{
		"unreadable: notification: field status: missing":                                                 store.AlertUnreadable,
		"wrong endpoint: a payout notification carries no payout number":                                  store.AlertWrongEndpoint,
		"the callback names no merchant id (mchId)":                                                       store.AlertUnknownMerchant,
		`no enabled gateway account has merchant id "1"`:                                                  store.AlertUnknownMerchant,
		"10.0.0.9 is not among the gateway source addresses of merchant id 20001222":                      store.AlertForbiddenSource,
		"correctly signed, but 10.0.0.9 is not among the gateway source addresses of merchant id 1; if …": store.AlertForbiddenSource,
		"the signature does not verify with the merchant key of 20001222":                                 store.AlertBadSignature,
	} {
		if got := RejectedReasonName(reason); got.Key != AlertKindName(want).Key {
			t.Errorf("%q: %q, want %q", reason, got.Key, AlertKindName(want).Key)
		}
	}
}
