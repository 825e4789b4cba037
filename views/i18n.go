package views

import (
	"context"

	"paydesk/internal/i18n"
)

// t prints the message of key with args in the language of the page being
// rendered. Every visible text of every template goes through it.
func t(ctx context.Context, key string, args ...any) string {
	return i18n.FromContext(ctx).T(key, args...)
}

// tm prints a message made elsewhere (a handler, the core) in the page's
// language.
func tm(ctx context.Context, m i18n.Message) string {
	return i18n.FromContext(ctx).Msg(m)
}

// lang is the page's language, for <html lang>.
func lang(ctx context.Context) string { return string(i18n.FromContext(ctx).Lang()) }

// LanguageChoice is one entry of a language picker.
type LanguageChoice struct {
	Value, Label string
}

// LanguageChoices lists the languages Paydesk speaks, each by its own name.
func LanguageChoices() []LanguageChoice {
	var out []LanguageChoice
	for _, l := range i18n.Langs() {
		out = append(out, LanguageChoice{string(l), l.Name()})
	}
	return out
}
