package desk

import (
	"errors"

	"paydesk/internal/i18n"
	"paydesk/internal/money"
)

// amountProblem is the sentence saying what is wrong with an amount that
// money.Parse refused.
func amountProblem(err error) i18n.Message {
	var e *money.Error
	if !errors.As(err, &e) || e.Reason == money.Empty {
		return i18n.M("Enter an amount in yuan, such as 12.50.")
	}
	switch e.Reason {
	case money.Negative:
		return i18n.M("The amount %q is negative; enter an amount above zero.", e.Input)
	case money.Exponent:
		return i18n.M("The amount %q is in scientific notation; write it out in yuan, such as 1000.00.", e.Input)
	case money.Decimals:
		return i18n.M("The amount %q has more than two decimals; amounts are exact to the fen (0.01).", e.Input)
	case money.Separators:
		return i18n.M("The amount %q has thousands separators in the wrong places; put them only between groups of three digits, or leave them out.", e.Input)
	case money.Zero:
		return i18n.M("The amount %q is zero; enter an amount above zero.", e.Input)
	case money.TooLarge:
		return i18n.M("The amount %q is too large.", e.Input)
	}
	return i18n.M("The amount %q is not a number of yuan; type digits, such as 12.50 (¥, 元 and full-width digits are fine).", e.Input)
}

// refuseMessage makes a Refusal of kind about field ("" for none) from a
// sentence made elsewhere.
func refuseMessage(kind Kind, field string, m i18n.Message) *Refusal {
	return &Refusal{Kind: kind, Format: m.Key, Args: m.Args, Field: field}
}
