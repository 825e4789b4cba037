package payments

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"strconv"
	"strings"
)

// NotifyKind says which notification endpoint a request arrived at.
type NotifyKind string

// Notification kinds.
const (
	NotifyPay   NotifyKind = "pay"
	NotifyTrans NotifyKind = "trans"
)

// ErrWrongKind is returned (wrapped) by ParseNotification for a request that
// is not a notification of the endpoint's kind: a payout notification
// carries a payout number (transOrderId or mchTransOrderNo) and no
// payOrderId; a pay notification carries a pay order number (payOrderId or
// mchOrderNo) and no payout number. The signature covers neither the
// endpoint nor the kind, so without this check a signed pay notification
// posted to the payout endpoint would read as a payout.
var ErrWrongKind = errors.New("not a notification of this endpoint's kind")

// NotifyReply is the exact body that acknowledges a notification. Anything
// else, or a non-2xx status, makes the gateway send it again.
const NotifyReply = "success"

// Notification is one callback from the gateway, with every field it carried.
type Notification struct {
	Kind     NotifyKind
	Encoding string // "form", "query" or "params-json"
	Fields   Params // every received field, sign and unknown ones included

	MchID, AppID   string
	OrderID        string // payOrderId or transOrderId
	MchOrderNo     string // mchOrderNo or mchTransOrderNo
	ChannelOrderNo string
	Param1, Param2 string
	ProductID      int
	Amount         int64 // fen
	Status         int   // raw status, unknown values kept
	SuccTime       int64 // paySuccTime / transSuccTime, ms since epoch
	BackType       int   // 1 browser return, 2 server notification
	// Income: what the merchant receives after the gateway's fee (fen), as
	// the reference edition's pay notification says it; 0 when absent or
	// not a whole number of fen (the field is not part of the document, so
	// it never makes a notification unreadable).
	Income int64
}

// ParseNotification reads a notification's fields from the query string
// (GET or POST), a urlencoded form body, a JSON body, or a `params` JSON
// field in either. Query and body fields are merged, the body winning a
// conflict, like net/http's Request.Form. It never panics; unreadable input
// is an error. Limiting the body's size is the caller's job.
//
// ParseNotification does not check the signature: call Verify, then match
// the merchant id, order number and amount against the order held before
// trusting it.
func ParseNotification(kind NotifyKind, method, rawQuery, contentType string, body []byte) (*Notification, error) {
	if kind != NotifyPay && kind != NotifyTrans {
		return nil, fmt.Errorf("notification: unknown kind %q", kind)
	}
	fields := Params{}
	encoding := ""
	if rawQuery != "" {
		q, err := url.ParseQuery(rawQuery)
		if err != nil {
			return nil, fmt.Errorf("notification: unreadable query string: %w", err)
		}
		for k, v := range ParamsFromValues(q) {
			fields[k] = v
		}
		if len(q) > 0 {
			encoding = "query"
		}
	}
	body = bytes.TrimSpace(body)
	if len(body) > 0 && method != "GET" && method != "HEAD" {
		mediaType, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			mediaType = strings.ToLower(strings.TrimSpace(contentType))
		}
		switch {
		case strings.HasSuffix(mediaType, "json") || (body[0] == '{' && mediaType != "application/x-www-form-urlencoded"):
			p, err := DecodeParams(body)
			if err != nil {
				return nil, fmt.Errorf("notification: unreadable JSON body: %w", err)
			}
			for k, v := range p {
				fields[k] = v
			}
			encoding = "params-json"
		case mediaType == "application/x-www-form-urlencoded" || mediaType == "" || mediaType == "text/plain":
			f, err := url.ParseQuery(string(body))
			if err != nil {
				return nil, fmt.Errorf("notification: unreadable form body: %w", err)
			}
			for k, v := range ParamsFromValues(f) {
				fields[k] = v
			}
			if len(f) > 0 {
				encoding = "form"
			}
		default:
			return nil, fmt.Errorf("notification: unsupported content type %.60q", contentType)
		}
	}
	if s, ok := fields["params"].(string); ok {
		p, err := DecodeParams([]byte(s))
		if err != nil {
			return nil, fmt.Errorf("notification: unreadable params field: %w", err)
		}
		delete(fields, "params")
		for k, v := range p {
			fields[k] = v
		}
		encoding = "params-json"
	}
	if len(fields) == 0 {
		return nil, errors.New("notification: no fields")
	}
	return newNotification(kind, encoding, fields)
}

func newNotification(kind NotifyKind, encoding string, fields Params) (*Notification, error) {
	str := func(key string) string { return ValueString(fields[key]) }
	var f fieldReader
	n := &Notification{
		Kind:           kind,
		Encoding:       encoding,
		Fields:         fields,
		MchID:          str("mchId"),
		AppID:          str("appId"),
		ChannelOrderNo: str("channelOrderNo"),
		Param1:         str("param1"),
		Param2:         str("param2"),
		ProductID:      int(f.int(fields, "productId", false)),
		Amount:         f.int(fields, "amount", false),
		BackType:       int(f.int(fields, "backType", false)),
	}
	if err := checkKind(kind, str); err != nil {
		return nil, err
	}
	statusKey := "status"
	if kind == NotifyPay {
		n.OrderID, n.MchOrderNo = str("payOrderId"), str("mchOrderNo")
		n.SuccTime = f.int(fields, "paySuccTime", false)
		if v, err := strconv.ParseInt(str("income"), 10, 64); err == nil && v > 0 {
			n.Income = v
		}
	} else {
		n.OrderID, n.MchOrderNo = str("transOrderId"), str("mchTransOrderNo")
		if n.MchOrderNo == "" {
			// The XxPay code's own payout notification says mchOrderNo
			// and result.
			n.MchOrderNo = str("mchOrderNo")
		}
		if _, ok := fields["status"]; !ok {
			if _, ok := fields["result"]; ok {
				statusKey = "result"
			}
		}
		n.SuccTime = f.int(fields, "transSuccTime", false)
	}
	n.Status = int(f.int(fields, statusKey, true))
	if f.err != nil {
		return nil, fmt.Errorf("notification: %w", f.err)
	}
	return n, nil
}

// checkKind says whether the fields are shaped like a notification of kind.
// Empty values count as absent: they are not signed.
func checkKind(kind NotifyKind, str func(string) string) error {
	if kind == NotifyPay {
		switch {
		case str("transOrderId") != "" || str("mchTransOrderNo") != "":
			return fmt.Errorf("notification: a payout notification (it carries transOrderId or mchTransOrderNo) at the pay endpoint: %w", ErrWrongKind)
		case str("payOrderId") == "" && str("mchOrderNo") == "":
			return fmt.Errorf("notification: no pay order number (payOrderId or mchOrderNo): %w", ErrWrongKind)
		}
		return nil
	}
	switch {
	case str("payOrderId") != "":
		return fmt.Errorf("notification: a pay notification (it carries payOrderId) at the payout endpoint: %w", ErrWrongKind)
	case str("transOrderId") == "" && str("mchTransOrderNo") == "":
		return fmt.Errorf("notification: no payout number (transOrderId or mchTransOrderNo): %w", ErrWrongKind)
	}
	return nil
}

// Verify reports whether the notification is signed with key, over every
// field received except sign (see the package-level Verify).
func (n *Notification) Verify(key string) bool {
	if n == nil {
		return false
	}
	return Verify(n.Fields, key)
}
