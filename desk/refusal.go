package desk

import (
	"errors"

	"paydesk/internal/i18n"
)

// Kind says what sort of refusal a Refusal is, so that the HTTP side can
// answer it with the right status in one place.
type Kind int

const (
	// Invalid: what was given does not satisfy a rule; the form is shown
	// again with the sentence (422).
	Invalid Kind = iota + 1
	// Forbidden: the actor may not do this (403).
	Forbidden
	// Conflict: the thing is not in a state that allows it (409).
	Conflict
	// NotFound: there is no such thing (404).
	NotFound
	// TooMany: too many attempts; try again later (429).
	TooMany
	// Busy: the console cannot do it now; try again in a moment (503).
	Busy
)

// Refusal is an operation's answer when a rule says no. Format is a
// literal format string written where the rule is, Args its arguments;
// Error gives the English sentence. Nothing was changed.
type Refusal struct {
	Kind   Kind
	Format string
	Args   []any
	// Field names the form field the sentence is about, when it is about
	// one.
	Field string
	// Fields are the refusals of single fields of a form refused as a
	// whole; the Refusal's own sentence heads them.
	Fields []*Refusal
}

// FieldErrors maps each refused field to its sentence: the refusal's
// Fields, or the refusal itself when it is about one field.
func (r *Refusal) FieldErrors() map[string]string {
	m := map[string]string{}
	if r.Field != "" {
		m[r.Field] = r.Error()
	}
	for _, f := range r.Fields {
		if _, ok := m[f.Field]; !ok {
			m[f.Field] = f.Error()
		}
	}
	return m
}

// Error is the sentence in English, for logs and tests.
func (r *Refusal) Error() string { return r.Message().String() }

// Message is the sentence for staff, to be printed in their language.
func (r *Refusal) Message() i18n.Message { return i18n.M(r.Format, r.Args...) }

// FieldMessages maps each refused field to its sentence, like
// FieldErrors, to be printed in the reader's language.
func (r *Refusal) FieldMessages() map[string]i18n.Message {
	m := map[string]i18n.Message{}
	if r.Field != "" {
		m[r.Field] = r.Message()
	}
	for _, f := range r.Fields {
		if _, ok := m[f.Field]; !ok {
			m[f.Field] = f.Message()
		}
	}
	return m
}

// refuse makes a Refusal.
func refuse(kind Kind, format string, args ...any) *Refusal {
	return &Refusal{Kind: kind, Format: format, Args: args}
}

// refuseField makes an Invalid Refusal about one form field.
func refuseField(field, format string, args ...any) *Refusal {
	return &Refusal{Kind: Invalid, Format: format, Args: args, Field: field}
}

// AsRefusal returns the Refusal in err, if there is one.
func AsRefusal(err error) (*Refusal, bool) {
	var r *Refusal
	ok := errors.As(err, &r)
	return r, ok
}
