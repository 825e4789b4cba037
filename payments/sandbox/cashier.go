package sandbox

import (
	"bytes"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"

	"paydesk/internal/money"
	"paydesk/payments"
)

// cashierToken guards the POST form variant of the cashier URL, the way a
// real channel's form carries a signed token.
func (s *Sandbox) cashierToken(payOrderID string) string {
	return payments.Sign(payments.Params{"payOrderId": payOrderID, "purpose": "sandbox-cashier"}, s.cfg.Key)[:16]
}

type cashierView struct {
	ID, MchOrderNo, Subject, Body, Amount, Product, StatusText, ReturnURL string
	Status                                                                int
	Open, Paid                                                            bool
	Message                                                               string
}

func (s *Sandbox) cashierView(id string) (cashierView, bool) {
	s.mu.Lock()
	o, ok := s.pays[id]
	var snap payOrder
	if ok {
		snap = *o
	}
	s.mu.Unlock()
	if !ok {
		return cashierView{}, false
	}
	product := strconv.Itoa(snap.ProductID)
	if p, ok := payments.ProductByID(snap.ProductID); ok {
		product = p.Name + " (" + product + ")"
	}
	return cashierView{
		ID:         snap.ID,
		MchOrderNo: snap.MchOrderNo,
		Subject:    snap.Subject,
		Body:       snap.Body,
		Amount:     money.Format(snap.Amount),
		Product:    product,
		Status:     snap.Status,
		StatusText: payments.PayStatusText(snap.Status),
		ReturnURL:  snap.ReturnURL,
		Open:       snap.Status == payments.PayCreated || snap.Status == payments.PayPaying,
		Paid:       payments.IsPaid(snap.Status),
	}, true
}

// cashier shows the pay order with its Pay and Fail buttons.
func (s *Sandbox) cashier(w http.ResponseWriter, r *http.Request) {
	v, ok := s.cashierView(r.PathValue("id"))
	if !ok {
		http.Error(w, "No such pay order.", http.StatusNotFound)
		return
	}
	s.render(w, http.StatusOK, "cashier", v)
}

// cashierPost is the buttons' target (action=pay|fail, then back to the
// cashier page), and also the entry point of a "POST;" payUrl, whose form
// carries no action and just opens the cashier.
func (s *Sandbox) cashierPost(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Unreadable form.", http.StatusBadRequest)
		return
	}
	var err error
	switch r.PostForm.Get("action") {
	case "":
		if r.Form.Get("via") == "post" {
			tok := r.Form.Get("token")
			if subtle.ConstantTimeCompare([]byte(tok), []byte(s.cashierToken(id))) != 1 {
				http.Error(w, "The cashier token does not match this order.", http.StatusForbidden)
				return
			}
		}
		s.cashier(w, r)
		return
	case "pay":
		err = s.Pay(id)
	case "fail":
		err = s.Fail(id)
	default:
		http.Error(w, "Unknown action: use pay or fail.", http.StatusBadRequest)
		return
	}
	if errors.Is(err, ErrUnknownOrder) {
		http.Error(w, "No such pay order.", http.StatusNotFound)
		return
	}
	if errors.Is(err, ErrOrderFinal) {
		v, _ := s.cashierView(id)
		v.Message = "This order is already " + v.StatusText + "; nothing was changed."
		s.render(w, http.StatusConflict, "cashier", v)
		return
	}
	http.Redirect(w, r, "/sandbox/pay/"+id, http.StatusSeeOther)
}

// render executes a page into a buffer first, so a failure never leaves a
// half-written 200.
func (s *Sandbox) render(w http.ResponseWriter, code int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.Error("sandbox page", "page", name, "err", err)
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	_, _ = w.Write(buf.Bytes())
}
