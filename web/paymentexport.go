package web

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"paydesk/desk"
	"paydesk/desk/payoutcsv"
	"paydesk/internal/i18n"
	"paydesk/internal/money"
	"paydesk/payments"
	"paydesk/store"
	"paydesk/views"
)

// paymentsCSV exports every payment matching the list's filters: UTF-8
// with a byte order mark (so that Excel reads it as UTF-8), amounts in yuan
// with two decimals, times in the console's zone.
func (s *Server) paymentsCSV(w http.ResponseWriter, r *http.Request) error {
	f, _, problems := s.paymentFilter(tr(r), r.URL.Query())
	if len(problems) > 0 {
		return &httpError{http.StatusUnprocessableEntity, i18n.M("%s", strings.Join(problems, " "))}
	}
	accts, err := s.db.GatewayAccounts(r.Context(), true)
	if err != nil {
		return err
	}
	names := map[int64]string{}
	for _, g := range accts {
		names[g.ID] = g.Name
	}
	q := r.URL.Query()
	q.Del("after")
	q.Del("before")
	if err := s.desk.RecordExport(r.Context(), s.actor(r), "payment.export", "payments", "CSV export, filters: "+q.Encode()+ifEmpty(q.Encode(), "none")); err != nil {
		return err
	}
	name := "payments-" + s.now().In(s.loc).Format("20060102-150405") + ".csv"
	csvDownload(w, name)
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString("\ufeff")
	cw := csv.NewWriter(bw)
	p := tr(r)
	zone := p.T(views.ZoneName(s.loc))
	cw.Write([]string{p.T("Created (%s)", zone), p.T("Merchant order no."), p.T("Gateway order no."), p.T("Channel order no."), p.T("Gateway account"),
		p.T("Product code"), p.T("Product"), p.T("Amount (yuan)"), p.T("Currency"), p.T("Status"), p.T("Paid at (%s)", zone), p.T("Subject"), p.T("Description"),
		"param1", "param2", p.T("Link expires (%s)", zone), p.T("Created by")})
	at := func(o store.PayOrder, which string) string {
		var v string
		switch which {
		case "created":
			v = views.Time(o.CreatedAt, s.loc)
		case "paid":
			v = views.Time(o.PaySuccAt, s.loc)
		case "expires":
			v = views.Time(o.ExpiresAt, s.loc)
		}
		if v == "—" {
			return ""
		}
		return v
	}
	err = s.db.EachPayOrder(r.Context(), f, func(o store.PayOrder) error {
		product := ""
		if p, ok := payments.ProductByID(o.ProductID); ok {
			product = p.Name
		}
		row := []string{at(o, "created"), o.MchOrderNo, o.PayOrderID, o.ChannelOrderNo, names[o.AccountID],
			strconv.Itoa(o.ProductID), product, money.Plain(o.Amount), o.Currency, p.Msg(desk.PaymentName(o)), at(o, "paid"),
			o.Subject, o.Body, o.Param1, o.Param2, at(o, "expires"), o.CreatedBy}
		for i := range row {
			row[i] = payoutcsv.FormulaSafe(row[i])
		}
		return cw.Write(row)
	})
	if err != nil {
		// The header is out: all we can do is stop and log.
		s.log.Error("payments CSV export", "err", err)
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("payments CSV: %w", err)
	}
	return bw.Flush()
}

func ifEmpty(s, def string) string {
	if s == "" {
		return def
	}
	return ""
}
