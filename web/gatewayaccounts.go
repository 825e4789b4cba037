package web

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-chi/chi/v5"

	"paydesk/payments"
	"paydesk/store"
	"paydesk/views"
)

func gatewayRow(g store.GatewayAccount) views.GatewayRow {
	return views.GatewayRow{ID: g.ID, Name: g.Name, BaseURL: g.BaseURL, MchID: g.MchID, AppID: g.AppID,
		NotifyBaseURL: g.NotifyBaseURL, MerchantName: g.MerchantName, IsSandbox: g.IsSandbox, Disabled: g.Disabled}
}

func gatewayForm(g store.GatewayAccount) views.GatewayForm {
	return views.GatewayForm{ID: g.ID, Name: g.Name, BaseURL: g.BaseURL, MchID: g.MchID, AppID: g.AppID,
		NotifyBaseURL: g.NotifyBaseURL, MerchantName: g.MerchantName, NotifySources: sourcesText(g.NotifySources), HasKey: len(g.KeySealed) > 0, Disabled: g.Disabled}
}

func (s *Server) gatewaysPage(w http.ResponseWriter, r *http.Request) error {
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
	return s.render(w, r, http.StatusOK, views.Gateways(s.page(r, "Gateway accounts", "settings"), rows, views.YuanPlain(s.maxPaymentFen(r)), strconv.Itoa(days)))
}

func (s *Server) gatewayNewPage(w http.ResponseWriter, r *http.Request) error {
	f := views.GatewayForm{NotifyBaseURL: s.cfg.PublicURL}
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
	return s.render(w, r, http.StatusOK, views.GatewayEdit(s.page(r, "Gateway account "+g.Name, "settings"), gatewayForm(g), nil))
}

// readGatewayForm validates the posted account fields; key is the merchant
// key as typed ("" when left empty).
func readGatewayForm(r *http.Request, f *views.GatewayForm) (key string) {
	f.Errors = map[string]string{}
	get := func(name string) string { return strings.TrimSpace(r.PostForm.Get(name)) }
	f.Name, f.MerchantName = get("name"), get("merchant_name")
	f.BaseURL, f.NotifyBaseURL = strings.TrimRight(get("base_url"), "/"), strings.TrimRight(get("notify_base_url"), "/")
	f.MchID, f.AppID = get("mch_id"), get("app_id")
	key = strings.TrimSpace(r.PostForm.Get("key"))
	text := func(name, value, what string, max int, required bool) {
		switch {
		case required && value == "":
			f.Errors[name] = "Enter the " + what + "."
		case !utf8.ValidString(value) || strings.ContainsAny(value, "\x00\r\n"):
			f.Errors[name] = "The " + what + " contains characters that are not allowed."
		case utf8.RuneCountInString(value) > max:
			f.Errors[name] = fmt.Sprintf("The %s is longer than %d characters.", what, max)
		}
	}
	text("name", f.Name, "name", 64, true)
	text("merchant_name", f.MerchantName, "merchant name", 64, false)
	text("mch_id", f.MchID, "merchant id", 30, true)
	text("app_id", f.AppID, "app id", 32, true)
	if msg := checkBaseURL(f.BaseURL); msg != "" {
		f.Errors["base_url"] = "Gateway base URL: " + msg
	}
	if msg := checkBaseURL(f.NotifyBaseURL); msg != "" {
		f.Errors["notify_base_url"] = "Public base URL: " + msg
	}
	if !f.HasKey || key != "" {
		text("key", key, "merchant key", 256, !f.HasKey)
	}
	f.NotifySources = get("notify_sources")
	if msg := checkSources(f.NotifySources); msg != "" {
		f.Errors["notify_sources"] = msg
	}
	return key
}

// maxSources bounds the gateway source addresses of one account.
const maxSources = 32

// checkSources says what is wrong with a list of gateway source addresses,
// or "".
func checkSources(text string) string {
	ps, bad := parseSources(text)
	switch {
	case len(text) > 1000:
		return "The gateway source addresses are longer than 1000 characters."
	case bad != "":
		return fmt.Sprintf("%.60q is not an address or a CIDR range such as 203.0.113.0/24.", bad)
	case len(ps) > maxSources:
		return fmt.Sprintf("Enter at most %d addresses or ranges.", maxSources)
	}
	for _, p := range ps {
		if p.Bits() == 0 {
			return fmt.Sprintf("%s takes every address; leave the field empty instead.", p)
		}
	}
	return ""
}

// storedSources is the stored form of valid gateway source addresses:
// masked CIDR prefixes separated by spaces.
func storedSources(text string) string {
	ps, _ := parseSources(text)
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return strings.Join(out, " ")
}

// sourcesText shows stored gateway source addresses in the form.
func sourcesText(stored string) string {
	return strings.Join(strings.Fields(stored), ", ")
}

// checkBaseURL says what is wrong with a base URL, or "".
func checkBaseURL(s string) string {
	if s == "" {
		return "enter an address such as https://pay.example.com."
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return "enter a full address starting with http:// or https://."
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return "leave out any ?query or #fragment (the gateway breaks notify URLs that carry one)."
	case u.User != nil:
		return "leave out any user name or password."
	}
	return ""
}

func (s *Server) createGateway(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	u, _ := userFrom(r.Context())
	var f views.GatewayForm
	key := readGatewayForm(r, &f)
	fail := func() error {
		p := s.page(r, "Add a gateway account", "settings")
		p.Error = "The account was not saved. Correct the fields marked below."
		return s.render(w, r, http.StatusUnprocessableEntity, views.GatewayEdit(p, f, nil))
	}
	if len(f.Errors) > 0 {
		return fail()
	}
	g := store.GatewayAccount{Name: f.Name, BaseURL: f.BaseURL, MchID: f.MchID, AppID: f.AppID,
		NotifyBaseURL: f.NotifyBaseURL, MerchantName: f.MerchantName, NotifySources: storedSources(f.NotifySources), KeySealed: []byte{}}
	err := s.db.InTx(r.Context(), func(tx *sql.Tx) error {
		id, err := s.db.CreateGatewayAccountTx(r.Context(), tx, g)
		if err != nil {
			return err
		}
		// The key is sealed with the account id, known only after the insert.
		g.ID = id
		g.KeySealed = s.sealer.Seal(key, gatewayKeyContext(id))
		if err := s.db.UpdateGatewayAccountTx(r.Context(), tx, g); err != nil {
			return err
		}
		return s.db.AuditTx(r.Context(), tx, store.AuditEntry{Actor: u.Username, Action: "gateway.create",
			Subject: fmt.Sprintf("gateway:%d", id), Detail: gatewayAuditDetail(g, true), ClientAddr: s.clientAddr(r)})
	})
	if errors.Is(err, store.ErrConflict) {
		f.Errors["name"] = "Another gateway account has this name; choose another."
		return fail()
	}
	if err != nil {
		return err
	}
	s.gatewayAccountsChanged()
	s.flash(r, "Gateway account "+g.Name+" saved.")
	return redirect(w, r, "/settings/gateways/"+strconv.FormatInt(g.ID, 10))
}

// gatewayAuditDetail describes an account for the audit log: never the key,
// only whether it was set.
func gatewayAuditDetail(g store.GatewayAccount, keySet bool) string {
	sources := "any"
	if g.NotifySources != "" {
		sources = sourcesText(g.NotifySources)
	}
	d := fmt.Sprintf("name %q, base URL %s, mchId %s, appId %s, notify base URL %s, merchant name %q, gateway source addresses %s",
		g.Name, g.BaseURL, g.MchID, g.AppID, g.NotifyBaseURL, g.MerchantName, sources)
	if keySet {
		d += ", merchant key set"
	}
	return d
}

func (s *Server) updateGateway(w http.ResponseWriter, r *http.Request) error {
	g, err := s.gatewayByParam(r)
	if err != nil {
		return err
	}
	if err := parseForm(r); err != nil {
		return err
	}
	u, _ := userFrom(r.Context())
	f := gatewayForm(g)
	key := readGatewayForm(r, &f)
	fail := func() error {
		p := s.page(r, "Gateway account "+g.Name, "settings")
		p.Error = "The account was not saved. Correct the fields marked below."
		return s.render(w, r, http.StatusUnprocessableEntity, views.GatewayEdit(p, f, nil))
	}
	if len(f.Errors) > 0 {
		return fail()
	}
	g.Name, g.BaseURL, g.MchID, g.AppID, g.NotifyBaseURL, g.MerchantName = f.Name, f.BaseURL, f.MchID, f.AppID, f.NotifyBaseURL, f.MerchantName
	g.NotifySources = storedSources(f.NotifySources)
	g.KeySealed = nil // keep the stored key
	if key != "" {
		g.KeySealed = s.sealer.Seal(key, gatewayKeyContext(g.ID))
	}
	err = s.db.InTx(r.Context(), func(tx *sql.Tx) error {
		if err := s.db.UpdateGatewayAccountTx(r.Context(), tx, g); err != nil {
			return err
		}
		return s.db.AuditTx(r.Context(), tx, store.AuditEntry{Actor: u.Username, Action: "gateway.update",
			Subject: fmt.Sprintf("gateway:%d", g.ID), Detail: gatewayAuditDetail(g, key != ""), ClientAddr: s.clientAddr(r)})
	})
	if errors.Is(err, store.ErrConflict) {
		f.Errors["name"] = "Another gateway account has this name; choose another."
		return fail()
	}
	if err != nil {
		return err
	}
	s.gatewayAccountsChanged()
	s.flash(r, "Gateway account "+g.Name+" saved.")
	return redirect(w, r, "/settings/gateways/"+strconv.FormatInt(g.ID, 10))
}

func (s *Server) disableGateway(w http.ResponseWriter, r *http.Request) error {
	return s.setGatewayDisabled(w, r, true)
}

func (s *Server) enableGateway(w http.ResponseWriter, r *http.Request) error {
	return s.setGatewayDisabled(w, r, false)
}

func (s *Server) setGatewayDisabled(w http.ResponseWriter, r *http.Request, disabled bool) error {
	g, err := s.gatewayByParam(r)
	if err != nil {
		return err
	}
	u, _ := userFrom(r.Context())
	action, word := "gateway.enable", "enabled"
	if disabled {
		action, word = "gateway.disable", "disabled"
	}
	g.Disabled, g.KeySealed = disabled, nil
	err = s.db.InTx(r.Context(), func(tx *sql.Tx) error {
		if err := s.db.UpdateGatewayAccountTx(r.Context(), tx, g); err != nil {
			return err
		}
		return s.db.AuditTx(r.Context(), tx, store.AuditEntry{Actor: u.Username, Action: action,
			Subject: fmt.Sprintf("gateway:%d", g.ID), Detail: fmt.Sprintf("name %q", g.Name), ClientAddr: s.clientAddr(r)})
	})
	if err != nil {
		return err
	}
	s.gatewayAccountsChanged()
	s.flash(r, "Gateway account "+g.Name+" "+word+".")
	return redirect(w, r, "/settings/gateways/"+strconv.FormatInt(g.ID, 10))
}

// testGateway signs a query for a made-up order with the account's key and
// says in plain words what the answer shows: a clean "no such order" (or
// any signed answer) proves the address, the merchant and the key.
func (s *Server) testGateway(w http.ResponseWriter, r *http.Request) error {
	g, err := s.gatewayByParam(r)
	if err != nil {
		return err
	}
	res := views.GatewayTest{}
	client, err := s.gatewayClient(g)
	if err != nil {
		res.Message = "The stored merchant key cannot be opened with this console's master key. Enter the key again and save."
	} else {
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.GatewayTimeout)
		defer cancel()
		_, qerr := client.QueryPayOrder(ctx, payments.PayQuery{MchOrderNo: "PDTEST" + randomToken(12, "0123456789")})
		res.OK, res.Message = gatewayTestVerdict(qerr)
	}
	p := s.page(r, "Gateway account "+g.Name, "settings")
	return s.render(w, r, http.StatusOK, views.GatewayEdit(p, gatewayForm(g), &res))
}

// gatewayTestVerdict turns a test query's outcome into a sentence.
func gatewayTestVerdict(err error) (bool, string) {
	var gwErr *payments.GatewayError
	var unclear *payments.UnclearError
	switch {
	case err == nil, payments.IsNotFound(err):
		return true, "The connection works: the gateway checked the signature and answered for this merchant."
	case payments.IsBadSignature(err):
		return false, "The gateway refused the signature, or signed its answer with another key: the merchant key is wrong."
	case errors.As(err, &gwErr) && (strings.Contains(gwErr.RetMsg, "mchInfo") || strings.Contains(gwErr.RetMsg, "商户不存在") || strings.Contains(gwErr.RetMsg, "mchId")):
		return false, "The gateway does not know this merchant id: check mchId. (It said: " + gwErr.RetMsg + ")"
	case errors.As(err, &gwErr):
		return false, "The gateway refused the test query: " + gwErr.Error()
	case errors.As(err, &unclear) && (unclear.Reason == payments.ReasonConnection || unclear.Reason == payments.ReasonTimeout):
		return false, "The gateway cannot be reached at this base URL (" + unclear.Reason + "). Check the address and that the gateway is running."
	case errors.As(err, &unclear):
		return false, "The gateway answered, but not as a gateway of this kind would (" + unclear.Reason + "). Check the base URL."
	}
	return false, "The test query failed: " + err.Error()
}

// setMaxPayment saves the largest amount one payment may have.
func (s *Server) setMaxPayment(w http.ResponseWriter, r *http.Request) error {
	if err := parseForm(r); err != nil {
		return err
	}
	fen, err := payments.ParseYuan(r.PostForm.Get("max_amount"))
	if err != nil {
		return errStatus(http.StatusUnprocessableEntity, "The largest payment amount: %s", sentence(err.Error()))
	}
	u, _ := userFrom(r.Context())
	old := s.maxPaymentFen(r)
	err = s.db.InTx(r.Context(), func(tx *sql.Tx) error {
		if err := s.db.SetSettingTx(r.Context(), tx, settingMaxPaymentFen, strconv.FormatInt(fen, 10)); err != nil {
			return err
		}
		return s.db.AuditTx(r.Context(), tx, store.AuditEntry{Actor: u.Username, Action: "settings.payment_max_amount", Subject: "setting:" + settingMaxPaymentFen,
			Detail: fmt.Sprintf("from %s to %s", views.Money(old), views.Money(fen)), ClientAddr: s.clientAddr(r)})
	})
	if err != nil {
		return err
	}
	s.flash(r, "The largest payment amount is now "+views.Money(fen)+".")
	return redirect(w, r, "/settings/gateways")
}
