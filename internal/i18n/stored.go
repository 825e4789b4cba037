package i18n

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

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
	if b, ok := appendMessage(make([]byte, 0, 192), m); ok {
		return string(b)
	}
	return encodeJSON(m)
}

// encodeJSON is Encode through encoding/json, for messages with arguments
// of other types than appendMessage writes.
func encodeJSON(m Message) string {
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

// appendMessage appends m as encodeJSON writes it (byte for byte: a
// Message marshals itself with json.Marshal, which escapes <, > and &)
// when its arguments are text, whole numbers, Money and nested messages,
// what messages carry; ok is false for any other argument. Each callback
// stores a message on its timeline, and encoding/json took 4 µs of the
// callback writer's time for one.
func appendMessage(b []byte, m Message) (_ []byte, ok bool) {
	b = append(b, `{"key":`...)
	b = appendString(b, m.Key)
	if len(m.Args) > 0 {
		b = append(b, `,"args":[`...)
		for i, a := range m.Args {
			if i > 0 {
				b = append(b, ',')
			}
			switch v := a.(type) {
			case string:
				b = appendString(b, v)
			case int:
				b = strconv.AppendInt(b, int64(v), 10)
			case int64:
				b = strconv.AppendInt(b, v, 10)
			case Money:
				b = append(b, `{"fen":`...)
				b = strconv.AppendInt(b, int64(v), 10)
				b = append(b, '}')
			case Message:
				if b, ok = appendMessage(b, v); !ok {
					return b, false
				}
			default:
				return b, false
			}
		}
		b = append(b, ']')
	}
	if m.Tech != "" {
		b = append(b, `,"tech":`...)
		b = appendString(b, m.Tech)
	}
	return append(b, '}'), true
}

// appendString appends s quoted as json.Marshal quotes it: as it is when
// nothing in it needs escaping, else through json.Marshal.
func appendString(b []byte, s string) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
				q, _ := json.Marshal(s)
				return append(b, q...)
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n == 1 || r == '\u2028' || r == '\u2029' {
			q, _ := json.Marshal(s)
			return append(b, q...)
		}
		i += n
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
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
