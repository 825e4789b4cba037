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
	if len([]rune(q)) > maxSearchText {
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
	v := views.OrdersView{Q: q, Searched: q != ""}
	for _, h := range res.Hits {
		v.Results = append(v.Results, s.orderRow(tr(r), store.OrderSummary{Kind: h.Kind, ID: h.ID, MchNo: h.MchNo, GateNo: h.GateNo,
			Amount: h.Amount, Status: h.Status, State: h.State, CreatedAt: h.CreatedAt}))
	}
	if q != "" && len(v.Results) == 0 {
		v.NotLocal = true
		accts, err := s.db.GatewayAccounts(ctx, false)
		if err != nil {
			return err
		}
		for _, a := range accts {
			v.Accounts = append(v.Accounts, views.Option{Value: strconv.FormatInt(a.ID, 10), Label: a.Name + " (mchId " + a.MchID + ")"})
		}
	}
	return s.render(w, r, http.StatusOK, views.OrdersPage(s.page(r, "Orders", "orders"), v))
}
