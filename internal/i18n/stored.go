package i18n

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"paydesk/internal/money"
)

// Money is an amount in fen as a message argument: printed as ¥1,234.50
// in every language, and kept as fen when the message is stored.
type Money int64

// storedPrefix starts every stored message: no sentence written before
// messages were stored (plain English text) starts with it.
const storedPrefix = `{"key":`

// Encode is m as JSON, for a text column that shows what happened in the
// reader's language (a timeline event, an alert, a row's error): its key
// and its arguments, each a string, a whole number, a Money or a nested
// Message.
func Encode(m Message) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(m); err != nil {
		// Arguments of other types are stored as text.
		args := make([]any, len(m.Args))
		for i, a := range m.Args {
			args[i] = fmt.Sprint(a)
		}
		b.Reset()
		enc.Encode(Message{Key: m.Key, Args: args})
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// Decode reads a text column written by Encode; ok is false for text
// written before (plain English), which is shown as it is.
func Decode(s string) (m Message, ok bool) {
	if !strings.HasPrefix(s, storedPrefix) {
		return Message{}, false
	}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return Message{}, false
	}
	return m, true
}

// Text prints a column written by Encode in p's language, or returns text
// written before as it is.
func (p *Printer) Text(s string) string {
	text, _ := p.TextTech(s)
	return text
}

// TextTech is Text and the message's technical detail, if any.
func (p *Printer) TextTech(s string) (text, tech string) {
	if m, ok := Decode(s); ok {
		return p.Msg(m), m.Tech
	}
	return s, ""
}

// MarshalJSON writes a Money as {"fen": n}.
func (m Money) MarshalJSON() ([]byte, error) {
	return []byte(fmt.Sprintf(`{"fen":%d}`, int64(m))), nil
}

func (m Message) MarshalJSON() ([]byte, error) {
	type plain struct {
		Key  string `json:"key"`
		Args []any  `json:"args,omitempty"`
		Tech string `json:"tech,omitempty"`
	}
	return json.Marshal(plain{m.Key, m.Args, m.Tech})
}

func (m *Message) UnmarshalJSON(b []byte) error {
	var raw struct {
		Key  string            `json:"key"`
		Args []json.RawMessage `json:"args"`
		Tech string            `json:"tech"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	m.Key, m.Args, m.Tech = raw.Key, nil, raw.Tech
	for _, a := range raw.Args {
		v, err := decodeArg(a)
		if err != nil {
			return err
		}
		m.Args = append(m.Args, v)
	}
	return nil
}

func decodeArg(a json.RawMessage) (any, error) {
	a = bytes.TrimSpace(a)
	if len(a) > 0 && a[0] == '{' {
		var probe struct {
			Fen *int64 `json:"fen"`
		}
		if err := json.Unmarshal(a, &probe); err == nil && probe.Fen != nil {
			return Money(*probe.Fen), nil
		}
		var m Message
		err := json.Unmarshal(a, &m)
		return m, err
	}
	dec := json.NewDecoder(bytes.NewReader(a))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return i, nil
		}
		return n.Float64()
	}
	return v, nil
}

// printable turns the arguments that print differently from fmt's way
// into what they print as.
func printable(a any, p *Printer) (any, bool) {
	switch v := a.(type) {
	case Message:
		return p.Msg(v), true
	case Money:
		return money.Format(int64(v)), true
	}
	return a, false
}
