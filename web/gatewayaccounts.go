package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/go-chi/chi/v5"

	"paydesk/desk"
	"paydesk/internal/money"
	"paydesk/store"
	"paydesk/views"
)

func gatewayRow(g store.GatewayAccount) views.GatewayRow {
	return views.GatewayRow{ID: g.ID, Name: g.Name, BaseURL: g.BaseURL, MchID: g.MchID, AppID: g.AppID,
		NotifyBaseURL: g.NotifyBaseURL, MerchantName: g.MerchantName, IsSandbox: g.IsSandbox, Disabled: g.Disabled}
}

func gatewayForm(g store.GatewayAccount) views.GatewayForm {
	return views.GatewayForm{ID: g.ID, Name: g.Name, BaseURL: g.BaseURL, MchID: g.MchID, AppID: g.AppID,
		NotifyBaseURL: g.NotifyBaseURL, MerchantName: g.MerchantName, NotifySources: desk.SourcesText(g.NotifySources), HasKey: len(g.KeySealed) > 0, Disabled: g.Disabled}
}

func (s *Server) gatewaysPage(w http.ResponseWriter, r *http.Request) error {
	return s.renderGateways(w, r, http.StatusOK, "", "", "")
}

// renderGateways shows the gateway accounts page; a refused setting is
// shown again as typed (maxAmount, retention: "" for the saved value) with
// its sentence.
func (s *Server) renderGateways(w http.ResponseWriter, r *http.Request, status int, refusal, maxAmount, retention string) error {
	all, err := s.db.GatewayAccounts(r.Context(), true)
	if err != nil {
		return err
	}
	rows := make([]views.GatewayRow, len(all))
	for i, g := range all {
		rows[i] = gatewayRow(g)
	}
	days, err := s.desk.RejectedRetentionDays(r.Context())
	if err != nil {
		return err
	}
	if maxAmount == "" {
		maxAmount = money.Plain(s.desk.MaxPaymentFen(r.Context()))
	}
	if retention == "" {
		retention = strconv.Itoa(days)
	}
	p := s.page(r, "Gateway accounts", "settings")
	if refusal != "" {
		p.Error = refusal
	}
	return s.render(w, r, status, views.Gateways(p, rows, maxAmount, retention))
}

func (s *Server) gatewayNewPage(w http.ResponseWriter, r *http.Request) error {
	f := views.GatewayForm{NotifyBaseURL: s.desk.PublicURL()}
	return s.render(w, r, http.StatusOK, views.GatewayEdit(s.page(r, "Add a gateway account", "settings"), f, nil))
}

// gatewayByParam loads the account named by the {id} route parameter.
func (s *Server) gatewayByParam(r *http.Request) (store.GatewayAccount, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil || id <= 0 {
		return store.GatewayAccount{}, errNotFound
	}
	return s.db.GatewayAccount(r.Context(), id)
}

func (s *Server) gatewayEditPage(w http.ResponseWriter, r *http.Request) error {
	g, err := s.gatewayByParam(r)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, views.GatewayEdit(s.pagef(r, "settings", "Gateway account %s", g.Name), gatewayForm(g), nil))
}

// readGatewayForm reads the posted account fields into f (for showing the
// form again) and into the core's input.
func readGatewayForm(r *http.Request, f *views.GatewayForm) desk.GatewayInput {
	get := func(name string) string { return strings.TrimSpace(r.PostForm.Get(name)) }
	in := desk.GatewayInput{Name: get("name"), MerchantName: get("merchant_name"), BaseURL: get("base_url"), NotifyBaseURL: get("notify_base_url"),
		MchID: get("mch_id"), AppID: get("app_id"), Key: get("key"), NotifySources: get("notify_sources")}
	f.Name, f.MerchantName, f.MchID, f.AppID, f.NotifySources = in.Name, in.MerchantName, in.MchID, in.AppID, in.NotifySources
	f.BaseURL, f.NotifyBaseURL = strings.TrimRight(in.BaseURL, "/"), strings.TrimRight(in.NotifyBaseURL, "/")
	return in
}

// gatewayFormRefused shows the account form again with the core's
// sentences next to their fields; it reports false for any other error.
func (s *Server) gatewayFormRefused(w http.ResponseWriter, r *http.Request, title string, f views.GatewayForm, err error) (error, bool) {
	refusal, ok := desk.AsRefusal(err)
	if !ok || refusal.Kind != desk.Invalid {
		return err, false
	}
	f.Errors = fieldErrors(tr(r), refusal)
	p := s.pagef(r, "settings", "%s", title)
	p.Error = tr(r).Msg(refusal.Message())
	return s.render(w, r, http.StatusUnprocessableEntity, views.GatewayEdit(p, f, nil)), true
}

func (s *Server) createGateway(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	var f views.GatewayForm
	g, err := s.desk.CreateGatewayAccount(r.Context(), s.actor(r), readGatewayForm(r, &f))
	if err, refused := s.gatewayFormRefused(w, r, tr(r).T("Add a gateway account"), f, err); refused || err != nil {
		return err
	}
	s.flash(r, tr(r).T("Gateway account %s saved.", g.Name))
	return redirect(w, r, "/settings/gateways/"+strconv.FormatInt(g.ID, 10))
}

func (s *Server) updateGateway(w http.ResponseWriter, r *http.Request) error {
	g, err := s.gatewayByParam(r)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	f := gatewayForm(g)
	g, err = s.desk.UpdateGatewayAccount(r.Context(), s.actor(r), g.ID, readGatewayForm(r, &f))
	if err, refused := s.gatewayFormRefused(w, r, tr(r).T("Gateway account %s", f.Name), f, err); refused || err != nil {
		return err
	}
	s.flash(r, tr(r).T("Gateway account %s saved.", g.Name))
	return redirect(w, r, "/settings/gateways/"+strconv.FormatInt(g.ID, 10))
}

func (s *Server) disableGateway(w http.ResponseWriter, r *http.Request) error {
	return s.setGatewayDisabled(w, r, true)
}

func (s *Server) enableGateway(w http.ResponseWriter, r *http.Request) error {
	return s.setGatewayDisabled(w, r, false)
}

func (s *Server) setGatewayDisabled(w http.ResponseWriter, r *http.Request, disabled bool) error {
	id, err := pathID(r)
	if err != nil {
		return err
	}
	g, err := s.desk.SetGatewayAccountDisabled(r.Context(), s.actor(r), id, disabled)
	if err != nil {
		return err
	}
	if disabled {
		s.flash(r, tr(r).T("Gateway account %s disabled.", g.Name))
	} else {
		s.flash(r, tr(r).T("Gateway account %s enabled.", g.Name))
	}
	return redirect(w, r, "/settings/gateways/"+strconv.FormatInt(g.ID, 10))
}

// testGateway shows what a signed test query to the account's gateway
// says about its address, merchant and key.
func (s *Server) testGateway(w http.ResponseWriter, r *http.Request) error {
	g, err := s.gatewayByParam(r)
	if err != nil {
		return err
	}
	var res views.GatewayTest
	ok, msg, err := s.desk.TestGatewayAccount(r.Context(), s.actor(r), g.ID)
	if err != nil {
		return err
	}
	res.OK, res.Message = ok, tr(r).Msg(msg)
	p := s.pagef(r, "settings", "Gateway account %s", g.Name)
	return s.render(w, r, http.StatusOK, views.GatewayEdit(p, gatewayForm(g), &res))
}

// setMaxPayment saves the largest amount one payment may have.
func (s *Server) setMaxPayment(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	typed := r.PostForm.Get("max_amount")
	fen, err := s.desk.SetMaxPayment(r.Context(), s.actor(r), typed)
	if refusal, ok := desk.AsRefusal(err); ok && refusal.Kind == desk.Invalid {
		return s.renderGateways(w, r, http.StatusUnprocessableEntity, tr(r).Msg(refusal.Message()), typed, "")
	}
	if err != nil {
		return err
	}
	s.flash(r, tr(r).T("The largest payment amount is now %s.", money.Format(fen)))
	return redirect(w, r, "/settings/gateways")
}
