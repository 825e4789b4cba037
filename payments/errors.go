package payments

import (
	"errors"
	"strings"
)

// Reasons an UnclearError gives.
const (
	ReasonTimeout         = "timeout"
	ReasonCanceled        = "canceled"
	ReasonConnection      = "connection error"
	ReasonHTTPStatus      = "unexpected HTTP status"
	ReasonUnreadable      = "unreadable answer"
	ReasonUnexpected      = "unexpected answer"
	ReasonBadlySigned     = "badly signed answer"
	ReasonGatewaySystem   = "gateway system error"
	ReasonDifferentTarget = "answer about another order"
)

// ErrInvalidRequest is wrapped by the client's errors for a request it
// refused to send (nothing reached the gateway).
var ErrInvalidRequest = errors.New("invalid gateway request")

// GatewayError is a definite refusal: the gateway answered retCode FAIL. The
// request had no effect (for a create: no order was made).
type GatewayError struct {
	Op      string // what we asked, e.g. "create pay order"
	RetCode string // "FAIL"
	RetMsg  string
	ErrCode string // "0014", "0013", "0112", … or ""
	ErrDes  string
}

// Error says in plain words what the gateway refused and why.
func (e *GatewayError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op)
	b.WriteString(": the gateway refused")
	if e.RetMsg != "" {
		b.WriteString(": ")
		b.WriteString(e.RetMsg)
	}
	if e.ErrCode != "" || (e.ErrDes != "" && e.ErrDes != e.RetMsg) {
		b.WriteString(" (")
		if e.ErrCode != "" {
			b.WriteString("error ")
			b.WriteString(e.ErrCode)
		}
		if e.ErrDes != "" && e.ErrDes != e.RetMsg {
			if e.ErrCode != "" {
				b.WriteString(": ")
			}
			b.WriteString(e.ErrDes)
		}
		b.WriteString(")")
	}
	return b.String()
}

// UnclearError means we cannot know what the gateway did: a timeout, a
// connection error, an HTTP status other than 2xx, an unreadable answer, a
// success answer with a missing or wrong signature, or a system error
// (errCode 0010). The order may or may not exist: find out with a query (a
// create may be retried with the same merchant order number) before deciding
// anything, and never create a second payout for the same intent.
type UnclearError struct {
	Op     string
	Reason string // one of the Reason constants
	Err    error  // the underlying error, a *GatewayError for 0010, or nil
}

// Error says what was asked and why its outcome is unknown.
func (e *UnclearError) Error() string {
	s := e.Op + ": outcome unknown (" + e.Reason + ")"
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Unwrap returns the underlying error.
func (e *UnclearError) Unwrap() error { return e.Err }

// IsUnclear reports whether err (or an error it wraps) is an *UnclearError.
func IsUnclear(err error) bool {
	var u *UnclearError
	return errors.As(err, &u)
}

// IsNotFound reports whether err is the gateway's definite answer that the
// order does not exist (errCode 0112, or retMsg 支付订单不存在 / 代付订单不存在).
func IsNotFound(err error) bool {
	g := definite(err)
	if g == nil {
		return false
	}
	if g.ErrCode == "0112" {
		return true
	}
	for _, msg := range []string{g.RetMsg, g.ErrDes} {
		switch trimMessage(msg) {
		case "支付订单不存在", "代付订单不存在", "订单不存在":
			return true
		}
	}
	return false
}

// IsDuplicateNumber reports whether err is a definite FAIL that says the
// merchant order number exists already (重复, 已存在, "exist" in its
// message): the order may well exist, so only a query can tell what
// happened to it.
func IsDuplicateNumber(err error) bool {
	g := definite(err)
	if g == nil {
		return false
	}
	m := g.RetMsg + " " + g.ErrDes
	return strings.Contains(m, "重复") || strings.Contains(m, "已存在") || strings.Contains(strings.ToLower(m), "exist")
}

// IsBadSignature reports whether err says a signature was wrong: the gateway
// refused our signature (errCode 0013, 验证签名失败, "Verify XX pay sign
// failed"), or its own answer was badly signed (an UnclearError).
func IsBadSignature(err error) bool {
	var u *UnclearError
	if errors.As(err, &u) && u.Reason == ReasonBadlySigned {
		return true
	}
	g := definite(err)
	if g == nil {
		return false
	}
	if g.ErrCode == "0013" {
		return true
	}
	for _, msg := range []string{g.RetMsg, g.ErrDes} {
		m := trimMessage(msg)
		if m == "验证签名失败" || m == "签名失败" || strings.EqualFold(m, "Verify XX pay sign failed") {
			return true
		}
	}
	return false
}

// definite returns the *GatewayError in err unless it sits inside an
// UnclearError (a system error says nothing definite).
func definite(err error) *GatewayError {
	var u *UnclearError
	if errors.As(err, &u) {
		return nil
	}
	var g *GatewayError
	if errors.As(err, &g) {
		return g
	}
	return nil
}

func trimMessage(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), ".。! ")
}
