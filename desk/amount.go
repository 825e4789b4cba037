package desk

import (
	"paydesk/desk/payoutcsv"
	"paydesk/internal/i18n"
)

// AmountProblem is the sentence saying what is wrong with an amount that
// money.Parse refused: the same for every amount field and file.
func AmountProblem(err error) i18n.Message { return payoutcsv.AmountProblem(err) }

// refuseMessage makes a Refusal of kind about field ("" for none) from a
// sentence made elsewhere.
func refuseMessage(kind Kind, field string, m i18n.Message) *Refusal {
	return &Refusal{Kind: kind, Format: m.Key, Args: m.Args, Field: field}
}
