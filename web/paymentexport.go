package web

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"paydesk/desk/payoutcsv"
	"paydesk/internal/money"
	"paydesk/payments"
	"paydesk/store"
	"paydesk/views"
)

// paymentsCSV exports every payment matching the list's filters: UTF-8
// with a byte order mark (so that Excel reads it as UTF-8), amounts in yuan
// with two decimals, times in the console's zone.
func (s *Server) paymentsCSV(w http.ResponseWriter, r *http.Request) error {
	f, _, problems := s.paymentFilter(r.URL.Query())
	if len(problems) > 0 {
		return errStatus(http.StatusUnprocessableEntity, "%s", strings.Join(problems, " "))
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
	zone := s.loc.String()
	cw.Write([]string{"created (" + zone + ")", "merchant order no", "gateway order no", "channel order no", "account",
		"product id", "product", "amount (yuan)", "currency", "status", "paid at (" + zone + ")", "subject", "body",
		"param1", "param2", "link expires (" + zone + ")", "created by"})
	t := func(o store.PayOrder, which string) string {
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
		row := []string{t(o, "created"), o.MchOrderNo, o.PayOrderID, o.ChannelOrderNo, names[o.AccountID],
			strconv.Itoa(o.ProductID), product, money.Plain(o.Amount), o.Currency, payStatusText(o), t(o, "paid"),
			o.Subject, o.Body, o.Param1, o.Param2, t(o, "expires"), o.CreatedBy}
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
