package web

import (
	"io"
	"net/http"

	"paydesk/desk"
	"paydesk/payments"
)

// Inbound gateway callbacks (/notify/pay, /notify/trans): the HTTP side
// reads the request and answers what the core (desk.Notify) says, once it
// has stored and applied the callback.

func (s *Server) notifyPay(w http.ResponseWriter, r *http.Request) error {
	return s.notify(w, r, payments.NotifyPay)
}

func (s *Server) notifyTrans(w http.ResponseWriter, r *http.Request) error {
	return s.notify(w, r, payments.NotifyTrans)
}

func (s *Server) notify(w http.ResponseWriter, r *http.Request, kind payments.NotifyKind) error {
	body, readErr := io.ReadAll(io.LimitReader(r.Body, desk.MaxCallbackBytes+1))
	bodyLen := len(body)
	if bodyLen > desk.MaxCallbackBytes {
		// Counted to the console's request limit, for the record.
		rest, err := io.Copy(io.Discard, r.Body)
		bodyLen += int(rest)
		if err != nil {
			readErr = err
		}
		body = body[:desk.MaxCallbackBytes]
	}
	rep := s.desk.Notify(r.Context(), desk.Callback{
		Kind: kind, Method: r.Method, ClientAddr: s.clientAddr(r), Header: r.Header,
		RawQuery: r.URL.RawQuery, Body: body, BodyLen: bodyLen, ReadErr: readErr,
	})
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(rep.Code)
	_, err := io.WriteString(w, rep.Body)
	return err
}
