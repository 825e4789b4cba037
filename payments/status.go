package payments

import "strconv"

// Pay order statuses. The document names 0, 1, 2, 3 and 5; the reference
// gateway also uses -1 (failed), -2 (expired) and 4 (refunded). Any other
// value is kept and shown raw, never rejected.
const (
	PayCreated   = 0  // 订单生成
	PayPaying    = 1  // 支付中
	PayPaid      = 2  // 支付成功
	PayDone      = 3  // 业务处理完成: paid and acknowledged by the merchant
	PayRefunded  = 4  // refunded (reference gateway)
	PayFailed    = 5  // 支付失败
	PayFailedAlt = -1 // failed (reference gateway)
	PayExpired   = -2 // expired (reference gateway)
)

// Payout (trans, 代付) statuses.
const (
	TransCreated      = 0 // 订单生成
	TransTransferring = 1 // 转账中
	TransSucceeded    = 2 // 转账成功
	TransFailed       = 3 // 转账失败
	TransCompleted    = 4 // 业务处理完成, only in the create response; a success
)

// PayStatusText names a pay order status in plain words; unknown values come
// out as "status N".
func PayStatusText(s int) string {
	switch s {
	case PayCreated:
		return "created"
	case PayPaying:
		return "paying"
	case PayPaid:
		return "paid"
	case PayDone:
		return "paid (acknowledged)"
	case PayRefunded:
		return "refunded"
	case PayFailed, PayFailedAlt:
		return "failed"
	case PayExpired:
		return "expired"
	}
	return "status " + strconv.Itoa(s)
}

// TransStatusText names a payout status in plain words; unknown values come
// out as "status N".
func TransStatusText(s int) string {
	switch s {
	case TransCreated:
		return "created"
	case TransTransferring:
		return "transferring"
	case TransSucceeded:
		return "succeeded"
	case TransFailed:
		return "failed"
	case TransCompleted:
		return "succeeded (completed)"
	}
	return "status " + strconv.Itoa(s)
}

// IsPaid reports whether a pay status means the money arrived (2 or 3).
func IsPaid(s int) bool { return s == PayPaid || s == PayDone }

// IsPayFailed reports whether a pay status means failed (5 or -1).
func IsPayFailed(s int) bool { return s == PayFailed || s == PayFailedAlt }

// PayFinal reports whether a pay status is an outcome: paid, failed, expired
// or refunded. A failed or expired order can still turn paid (see
// PayAdvances); "final" means the gateway has given an answer, not that no
// later callback can change it.
func PayFinal(s int) bool {
	return IsPaid(s) || IsPayFailed(s) || s == PayExpired || s == PayRefunded
}

// IsTransSucceeded reports whether a payout status means the money left
// (2, or 4 "completed", which is treated as succeeded).
func IsTransSucceeded(s int) bool { return s == TransSucceeded || s == TransCompleted }

// TransFinal reports whether a payout status is an outcome: succeeded (2, or
// 4 treated as succeeded) or failed (3).
func TransFinal(s int) bool { return IsTransSucceeded(s) || s == TransFailed }

func knownPay(s int) bool {
	switch s {
	case PayCreated, PayPaying, PayPaid, PayDone, PayRefunded, PayFailed, PayFailedAlt, PayExpired:
		return true
	}
	return false
}

// PayAdvances reports whether applying status `to` (from a callback or a
// query) to an order now in status `from` moves it forward. Callers record
// every observation, but change the order only when this is true, which
// makes late and duplicate callbacks harmless:
//
//   - The same status again is a duplicate: false.
//   - Forward is 0 → 1 → 2 → 3; 2 → 3 (acknowledged) is forward, 3 → 2 is not.
//   - A paid order (2/3) never goes back to created, paying, failed or expired.
//   - Failed (5/-1) and expired (-2) are reached only from created or paying,
//     and do not turn into one another.
//   - A failed or expired order may still become paid: a late success is the
//     truth of money (the customer's money did arrive), so it wins over an
//     earlier failure or expiry. It never goes back to created or paying.
//   - Refunded (4) comes only after paid, and nothing follows it.
//   - An unknown `to` never advances (it is shown raw, not acted on); an
//     unknown `from` is treated like paying, so any known outcome replaces it.
func PayAdvances(from, to int) bool {
	if from == to || !knownPay(to) {
		return false
	}
	if !knownPay(from) {
		from = PayPaying
	}
	switch to {
	case PayCreated:
		return false
	case PayPaying:
		return from == PayCreated
	case PayPaid:
		return from == PayCreated || from == PayPaying || IsPayFailed(from) || from == PayExpired
	case PayDone:
		return from != PayRefunded
	case PayFailed, PayFailedAlt, PayExpired:
		return from == PayCreated || from == PayPaying
	case PayRefunded:
		return IsPaid(from)
	}
	return false
}

func knownTrans(s int) bool {
	return s >= TransCreated && s <= TransCompleted
}

// TransAdvances reports whether applying payout status `to` to a payout now
// in status `from` moves it forward: 0 → 1 → 2 | 3, with 4 treated as 2.
// A payout never goes back from an outcome (2, 3, 4), and a success and a
// failure never replace each other: a contradicting callback is something
// for a person to look at, not a status change. The same status again, an
// unknown `to`, and 2 ↔ 4 are not advances; an unknown `from` is treated
// like transferring.
func TransAdvances(from, to int) bool {
	if from == to || !knownTrans(to) {
		return false
	}
	if !knownTrans(from) {
		from = TransTransferring
	}
	if TransFinal(from) {
		return false
	}
	switch to {
	case TransCreated:
		return false
	case TransTransferring:
		return from == TransCreated
	default: // 2, 3, 4
		return true
	}
}
