package desk

import (
	"errors"

	"paydesk/internal/i18n"
	"paydesk/payments"
)

// GatewayProblem says what went wrong in a call to the gateway, for staff:
// a refusal with the gateway's own words (its retMsg and errCode, which
// are data and stay as the gateway wrote them), or why its answer is not
// known. The error's full text, with the protocol's words, is for logs
// and the technical details.
func GatewayProblem(err error) i18n.Message {
	var u *payments.UnclearError
	if errors.As(err, &u) {
		switch u.Reason {
		case payments.ReasonTimeout, payments.ReasonCanceled:
			return i18n.M("the gateway did not answer in time")
		case payments.ReasonConnection:
			return i18n.M("the gateway could not be reached")
		case payments.ReasonHTTPStatus:
			return i18n.M("the gateway answered with an error page")
		case payments.ReasonUnreadable, payments.ReasonUnexpected:
			return i18n.M("the gateway's answer could not be read")
		case payments.ReasonBadlySigned:
			return i18n.M("the gateway's answer was not correctly signed")
		case payments.ReasonGatewaySystem:
			return i18n.M("the gateway reported a system error")
		case payments.ReasonDifferentTarget:
			return i18n.M("the gateway answered about another order")
		}
		return i18n.M("the gateway's answer was unclear")
	}
	var g *payments.GatewayError
	if errors.As(err, &g) {
		words := g.RetMsg
		if g.ErrDes != "" && g.ErrDes != g.RetMsg {
			if words != "" {
				words += "; "
			}
			words += g.ErrDes
		}
		switch {
		case words != "" && g.ErrCode != "":
			return i18n.M("the gateway refused: %s (code %s)", words, g.ErrCode)
		case words != "":
			return i18n.M("the gateway refused: %s", words)
		case g.ErrCode != "":
			return i18n.M("the gateway refused with code %s", g.ErrCode)
		}
		return i18n.M("the gateway refused")
	}
	return i18n.M("the gateway could not be asked")
}
