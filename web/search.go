package web

import (
	"net/http"
	"strconv"
	"strings"

	"paydesk/internal/money"
	"paydesk/store"
	"paydesk/views"
)

// maxSearchText bounds what the search box takes: longer than any order
// number or name.
const maxSearchText = 64

// search answers the search box: a whole order number goes straight to
// its order; anything else lists the newest pay orders and payouts whose
// number, payee name or subject starts with the text, or whose amount is
// the text read as yuan.
func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	cut := len([]rune(q)) > maxSearchText
	if cut {
		q = string([]rune(q)[:maxSearchText])
	}
	ctx := r.Context()
	sq := store.SearchQuery{Text: q, Limit: 20}
	if fen, err := money.Parse(q); err == nil && fen > 0 {
		sq.Amount = fen
	}
	var res store.SearchResult
	if q != "" {
		var err error
		if res, err = s.db.Search(ctx, sq); err != nil {
			return err
		}
	}
	exact := -1
	for i, h := range res.Hits {
		if h.Exact {
			if exact >= 0 {
				exact = -2 // two orders carry the number: list them
				break
			}
			exact = i
		}
	}
	if exact >= 0 {
		h := res.Hits[exact]
		return redirect(w, r, orderHref(h.Kind, h.ID))
	}
	pr := tr(r)
	v := views.SearchView{Q: q, Partial: res.Partial, TooLong: cut}
	for _, h := range res.Hits {
		o := s.orderRow(pr, store.OrderSummary{Kind: h.Kind, ID: h.ID, MchNo: h.MchNo, GateNo: h.GateNo,
			Amount: h.Amount, Status: h.Status, State: h.State, CreatedAt: h.CreatedAt})
		row := views.SearchHitRow{KindText: o.KindText, Href: o.Href, MchNo: h.MchNo, GateNo: h.GateNo, Amount: o.Amount,
			StatusText: o.StatusText, StatusTone: o.StatusTone, Created: o.Created, Field: views.MatchName(h.Matched)}
		row.Who = h.Name
		if h.Kind == store.KindPay {
			row.Who = h.Subject
		}
		var value string
		switch h.Matched {
		case store.MatchMchOrderNo, store.MatchMchTransOrderNo:
			value = h.MchNo
		case store.MatchPayOrderID, store.MatchTransOrderID:
			value = h.GateNo
		case store.MatchChannelOrderNo:
			value = h.Channel
		case store.MatchSubject:
			value = h.Subject
		case store.MatchPayee:
			value = h.Name
		case store.MatchAmount:
			value = o.Amount
		}
		if h.Matched == store.MatchAmount {
			row.Mark = value
		} else {
			row.Mark, row.After = views.MarkStart(value, q)
		}
		v.Hits = append(v.Hits, row)
	}
	if q != "" && len(v.Hits) == 0 {
		u, _ := userFrom(ctx)
		lk := views.OrdersView{Q: q, NotLocal: true, CanOperate: roleAccess(u.Role) >= operator}
		accts, err := s.db.GatewayAccounts(ctx, false)
		if err != nil {
			return err
		}
		for _, a := range accts {
			lk.Accounts = append(lk.Accounts, views.Option{Value: strconv.FormatInt(a.ID, 10), Label: a.Name + " (mchId " + a.MchID + ")"})
		}
		v.Lookup = &lk
	}
	p := s.page(r, "Search", "")
	p.Query = q
	return s.render(w, r, http.StatusOK, views.SearchPage(p, v))
}
