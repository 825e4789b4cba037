// Package i18n owns every sentence, label and status name Paydesk shows to
// people, in the two languages it speaks: zh-CN (first) and en. Each
// message is looked up by its English format string (the key) in a
// catalogue built from one JSON file per language (messages/*.json,
// embedded), and printed with golang.org/x/text/message, plural forms
// through golang.org/x/text/feature/plural. The language of a request
// travels in its context (NewContext, FromContext); code that does not
// know it (the core) returns keys with their arguments (Message) for the
// HTTP side to print.
package i18n

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"path"
	"slices"
	"sort"
	"strings"
	"sync/atomic"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
	"golang.org/x/text/message/catalog"
)

// Lang is a language Paydesk speaks, as a BCP 47 tag.
type Lang string

// The languages, Chinese first: Paydesk's users are a Chinese merchant's
// finance staff.
const (
	ZhCN Lang = "zh-CN"
	En   Lang = "en"
)

// Langs lists the languages in the order a picker offers them.
func Langs() []Lang { return []Lang{ZhCN, En} }

// ParseLang reads a stored or submitted language; ok is false for
// anything but one of Langs.
func ParseLang(s string) (Lang, bool) {
	for _, l := range Langs() {
		if string(l) == s {
			return l, true
		}
	}
	return "", false
}

// Name is the language's own name, shown as is in every language so that
// whoever reads it finds theirs.
func (l Lang) Name() string {
	switch l {
	case ZhCN:
		return "中文（简体）"
	case En:
		return "English"
	}
	return string(l)
}

// FromAcceptLanguage picks the language an Accept-Language header asks
// for: the first of its tags, by preference, whose language is Chinese
// (any script or region: zh-TW readers read simplified characters too) or
// English. ok is false when the header names neither.
func FromAcceptLanguage(header string) (Lang, bool) {
	if header == "" || len(header) > 1000 {
		return "", false
	}
	tags, _, err := language.ParseAcceptLanguage(header)
	if err != nil {
		return "", false
	}
	for _, t := range tags {
		switch base, _ := t.Base(); base.String() {
		case "zh":
			return ZhCN, true
		case "en":
			return En, true
		}
	}
	return "", false
}

// Message is a sentence not yet printed: its key (the English format
// string) and arguments. An argument that is itself a Message is printed
// in the same language first.
type Message struct {
	Key  string `json:"key"`
	Args []any  `json:"args,omitempty"`
	// Tech is what a technical reader needs beyond the sentence (protocol
	// words, the raw reason), shown apart from it; never translated.
	Tech string `json:"tech,omitempty"`
}

// M makes a Message. Its key must be a literal string: the catalogue test
// finds the keys in the code.
func M(key string, args ...any) Message { return Message{Key: key, Args: args} }

// N marks a literal string as a key of the catalogue, for a key that is
// chosen at run time from a table (status names, navigation labels) and
// printed with Printer.T. It returns key.
func N(key string) string { return key }

// String prints m in English, for logs and errors that are not shown to
// staff.
func (m Message) String() string { return (*Printer)(nil).Msg(m) }

//go:embed messages/*.json
var files embed.FS

// entry is one message of a language file: a plain string, or plural
// forms selected by the argument Arg (1-based) with the forms a language
// needs ("one" and "other" for English, "other" for Chinese).
type entry struct {
	Text   string
	Plural *pluralEntry
}

type pluralEntry struct {
	Arg   int    `json:"arg"`
	One   string `json:"one,omitempty"`
	Other string `json:"other"`
}

func (e *entry) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		return json.Unmarshal(b, &e.Text)
	}
	e.Plural = &pluralEntry{}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	return dec.Decode(e.Plural)
}

func (e entry) MarshalJSON() ([]byte, error) {
	if e.Plural != nil {
		return json.Marshal(e.Plural)
	}
	return json.Marshal(e.Text)
}

// Catalog holds both languages' messages and a printer for each.
type Catalog struct {
	printers map[Lang]*Printer
	entries  map[Lang]map[string]entry
	missing  atomic.Pointer[func(Lang, string)]
}

// New loads the embedded message files into a catalogue.
func New() (*Catalog, error) {
	b := catalog.NewBuilder(catalog.Fallback(language.English))
	c := &Catalog{printers: map[Lang]*Printer{}, entries: map[Lang]map[string]entry{}}
	for _, l := range Langs() {
		data, err := files.ReadFile(path.Join("messages", string(l)+".json"))
		if err != nil {
			return nil, fmt.Errorf("i18n: %w", err)
		}
		var m map[string]entry
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("i18n: messages/%s.json: %w", l, err)
		}
		tag := language.MustParse(string(l))
		for key, e := range m {
			var err error
			if e.Plural != nil {
				cases := []any{}
				if e.Plural.One != "" {
					cases = append(cases, "one", e.Plural.One)
				}
				cases = append(cases, "other", e.Plural.Other)
				err = b.Set(tag, key, plural.Selectf(e.Plural.Arg, "%d", cases...))
			} else {
				err = b.SetString(tag, key, e.Text)
			}
			if err != nil {
				return nil, fmt.Errorf("i18n: messages/%s.json: %q: %w", l, key, err)
			}
		}
		c.entries[l] = m
		c.printers[l] = &Printer{lang: l, p: message.NewPrinter(tag, message.Catalog(b)), known: m, missing: &c.missing}
	}
	return c, nil
}

// Printer returns the printer of l; of zh-CN for a language Paydesk does
// not speak.
func (c *Catalog) Printer(l Lang) *Printer {
	if p, ok := c.printers[l]; ok {
		return p
	}
	return c.printers[ZhCN]
}

// OnMissing makes the catalogue call f with every key a printer is asked
// for that its language's file does not hold (it is printed as itself):
// tests use it to find keys the catalogue test cannot see in the code,
// such as sentences kept in tables. f may be called from many goroutines.
func (c *Catalog) OnMissing(f func(l Lang, key string)) { c.missing.Store(&f) }

// Keys lists the keys of l's file, sorted.
func (c *Catalog) Keys(l Lang) []string {
	keys := make([]string, 0, len(c.entries[l]))
	for k := range c.entries[l] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// PluralForms lists the plural forms key has in l ("one", "other"), or
// nil when it is a plain message.
func (c *Catalog) PluralForms(l Lang, key string) []string {
	e, ok := c.entries[l][key]
	if !ok || e.Plural == nil {
		return nil
	}
	var forms []string
	if e.Plural.One != "" {
		forms = append(forms, "one")
	}
	if e.Plural.Other != "" {
		forms = append(forms, "other")
	}
	return forms
}

// Printer prints messages in one language. A nil *Printer prints the keys
// themselves (English), for code running outside any request.
type Printer struct {
	lang    Lang
	p       *message.Printer
	known   map[string]entry
	missing *atomic.Pointer[func(Lang, string)]
}

// Lang is the printer's language; en for a nil printer.
func (p *Printer) Lang() Lang {
	if p == nil {
		return En
	}
	return p.lang
}

// T prints the message of key with args. Numbers are printed the
// language's way (1,234); pass an identifier as a string.
func (p *Printer) T(key string, args ...any) string {
	args = p.resolve(args)
	if p == nil {
		return fmt.Sprintf(key, args...)
	}
	if _, ok := p.known[key]; !ok && key != "" && p.missing != nil {
		if f := p.missing.Load(); f != nil {
			(*f)(p.lang, key)
		}
	}
	return p.p.Sprintf(key, args...)
}

// Msg prints m.
func (p *Printer) Msg(m Message) string { return p.T(m.Key, m.Args...) }

// resolve prints the arguments that are Messages or Money.
func (p *Printer) resolve(args []any) []any {
	var out []any
	for i, a := range args {
		if v, ok := printable(a, p); ok {
			if out == nil {
				out = slices.Clone(args)
			}
			out[i] = v
		}
	}
	if out == nil {
		return args
	}
	return out
}

type ctxKey struct{}

// NewContext returns ctx carrying p: the language of whoever is served.
func NewContext(ctx context.Context, p *Printer) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the printer ctx carries; nil (English) when none.
func FromContext(ctx context.Context) *Printer {
	p, _ := ctx.Value(ctxKey{}).(*Printer)
	return p
}
