package desk

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"paydesk/internal/i18n"
	"paydesk/payments"
	"paydesk/store"
)

// gatewayKeyContext binds a sealed merchant key to its account.
func gatewayKeyContext(id int64) string { return fmt.Sprintf("gateway:%d", id) }

// merchantKey opens an account's sealed merchant key.
func (d *Desk) merchantKey(g store.GatewayAccount) (string, error) {
	return d.sealer.Open(g.KeySealed, gatewayKeyContext(g.ID))
}

// gatewayClient is a protocol client for one gateway account.
func (d *Desk) gatewayClient(g store.GatewayAccount) (*payments.Client, error) {
	key, err := d.merchantKey(g)
	if err != nil {
		return nil, fmt.Errorf("gateway account %q: %w", g.Name, err)
	}
	return payments.NewClient(payments.Account{BaseURL: g.BaseURL, MchID: g.MchID, AppID: g.AppID, Key: key}, d.gw, d.cfg.GatewayTimeout), nil
}

// NotifyURL is where the gateway sends an account's callbacks of a kind
// ("pay" or "trans"). It never has a query string: the reference gateway
// splits notify URLs at the first '?'.
func (d *Desk) NotifyURL(g store.GatewayAccount, kind string) string {
	base := strings.TrimRight(g.NotifyBaseURL, "/")
	if base == "" {
		base = strings.TrimRight(d.cfg.PublicURL, "/")
	}
	if i := strings.IndexAny(base, "?#"); i >= 0 {
		base = base[:i]
	}
	return base + "/notify/" + kind
}

func newGatewayHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{Transport: t}
}

// GatewayAccountsChanged drops every cached merchant key and source
// address list: the core does it after each change it makes; call it
// after changing gateway accounts in the database by other means.
func (d *Desk) GatewayAccountsChanged() { d.keys.clear() }

// SandboxAccount describes the built-in sandbox gateway's merchant.
type SandboxAccount struct {
	BaseURL, MchID, AppID, Key string
}

// EnsureSandboxAccount makes sure a gateway account named "Sandbox" points
// at the built-in sandbox with its current merchant and key, and is enabled,
// so that a newcomer can create a payment at once. (The sandbox runs only
// while no real account exists, so it is then the console's only gateway.)
func (d *Desk) EnsureSandboxAccount(ctx context.Context, sb SandboxAccount) (store.GatewayAccount, error) {
	existing, err := d.db.SandboxAccount(ctx)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return store.GatewayAccount{}, err
	}
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		g := store.GatewayAccount{
			Name: "Sandbox", BaseURL: sb.BaseURL, MchID: sb.MchID, AppID: sb.AppID,
			NotifyBaseURL: d.cfg.PublicURL, MerchantName: "Paydesk Sandbox Shop", IsSandbox: true,
		}
		action := "gateway.update"
		if existing.ID == 0 {
			id, err := d.db.CreateGatewayAccountTx(ctx, tx, store.GatewayAccount{
				Name: g.Name, BaseURL: g.BaseURL, MchID: g.MchID, AppID: g.AppID, KeySealed: []byte{0}, // replaced below, once the id is known
				NotifyBaseURL: g.NotifyBaseURL, MerchantName: g.MerchantName, IsSandbox: true,
			})
			if err != nil {
				return err
			}
			existing.ID = id
			action = "gateway.create"
		} else {
			g.Name, g.MerchantName = existing.Name, existing.MerchantName
		}
		g.ID = existing.ID
		g.KeySealed = d.sealer.Seal(sb.Key, gatewayKeyContext(g.ID))
		if err := d.db.UpdateGatewayAccountTx(ctx, tx, g); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: System.Username, Action: action, Subject: fmt.Sprintf("gateway:%d", g.ID),
			Detail: fmt.Sprintf("built-in sandbox at %s, mchId %s, enabled", sb.BaseURL, sb.MchID)})
	})
	if err != nil {
		return store.GatewayAccount{}, fmt.Errorf("sandbox account: %w", err)
	}
	d.GatewayAccountsChanged()
	return d.db.SandboxAccount(ctx)
}

// RetireSandboxAccount disables the "Sandbox" gateway account when the
// built-in sandbox no longer runs because a real account exists, so that
// nobody picks an account whose gateway is gone. Its orders stay, for the
// record.
func (d *Desk) RetireSandboxAccount(ctx context.Context, why string) error {
	g, err := d.db.SandboxAccount(ctx)
	if errors.Is(err, store.ErrNotFound) || (err == nil && g.Disabled) {
		return nil
	} else if err != nil {
		return err
	}
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		g.Disabled, g.KeySealed = true, nil
		if err := d.db.UpdateGatewayAccountTx(ctx, tx, g); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: System.Username, Action: "gateway.disable", Subject: fmt.Sprintf("gateway:%d", g.ID),
			Detail: "the built-in sandbox is not running: " + why})
	})
	if err != nil {
		return fmt.Errorf("sandbox account: %w", err)
	}
	d.GatewayAccountsChanged()
	return nil
}

// GatewayInput is a gateway account as an admin types it. Key is the
// merchant key, empty to keep the stored one.
type GatewayInput struct {
	Name, MerchantName, BaseURL, NotifyBaseURL, MchID, AppID, Key, NotifySources string
}

// errGatewayFields heads the field refusals of a gateway account form.
var errGatewayFields = i18n.N("The account was not saved. Correct the fields marked below.")

// gatewayText are the checks of the account form's text fields, each
// sentence whole.
var gatewayText = []struct {
	field         string
	max           int
	missing       string // "" when the field may be empty
	bad, tooLong  string
	value         func(in *GatewayInput) string
	onlyWithoutOK bool // key: checked when typed, or when none is stored
}{
	{"name", 64, i18n.N("Enter the name."), i18n.N("The name contains characters that are not allowed."), i18n.N("The name is longer than %d characters."),
		func(in *GatewayInput) string { return in.Name }, false},
	{"merchant_name", 64, "", i18n.N("The merchant name contains characters that are not allowed."), i18n.N("The merchant name is longer than %d characters."),
		func(in *GatewayInput) string { return in.MerchantName }, false},
	{"mch_id", 30, i18n.N("Enter the merchant id."), i18n.N("The merchant id contains characters that are not allowed."), i18n.N("The merchant id is longer than %d characters."),
		func(in *GatewayInput) string { return in.MchID }, false},
	{"app_id", 32, i18n.N("Enter the app id."), i18n.N("The app id contains characters that are not allowed."), i18n.N("The app id is longer than %d characters."),
		func(in *GatewayInput) string { return in.AppID }, false},
	{"key", 256, i18n.N("Enter the merchant key."), i18n.N("The merchant key contains characters that are not allowed."), i18n.N("The merchant key is longer than %d characters."),
		func(in *GatewayInput) string { return in.Key }, true},
}

// normalize trims what was typed as the form does: spaces around every
// field, a trailing slash of the URLs.
func (in *GatewayInput) normalize() {
	for _, p := range []*string{&in.Name, &in.MerchantName, &in.BaseURL, &in.NotifyBaseURL, &in.MchID, &in.AppID, &in.Key, &in.NotifySources} {
		*p = strings.TrimSpace(*p)
	}
	in.BaseURL, in.NotifyBaseURL = strings.TrimRight(in.BaseURL, "/"), strings.TrimRight(in.NotifyBaseURL, "/")
}

// check lists what is wrong with an account form, field by field; hasKey
// says whether a key is stored already (then an empty key keeps it).
func (in *GatewayInput) check(hasKey bool) *Refusal {
	var fields []*Refusal
	for _, c := range gatewayText {
		v := c.value(in)
		if c.onlyWithoutOK && hasKey && v == "" {
			continue
		}
		switch {
		case v == "" && c.missing != "":
			fields = append(fields, refuseField(c.field, c.missing))
		case !utf8.ValidString(v) || strings.ContainsAny(v, "\x00\r\n"):
			fields = append(fields, refuseField(c.field, c.bad))
		case utf8.RuneCountInString(v) > c.max:
			fields = append(fields, refuseField(c.field, c.tooLong, c.max))
		}
	}
	if r := checkBaseURL("base_url", in.BaseURL); r != nil {
		fields = append(fields, r)
	}
	if r := checkBaseURL("notify_base_url", in.NotifyBaseURL); r != nil {
		fields = append(fields, r)
	}
	if r := checkSources(in.NotifySources); r != nil {
		fields = append(fields, r)
	}
	if len(fields) == 0 {
		return nil
	}
	return &Refusal{Kind: Invalid, Format: errGatewayFields, Fields: fields}
}

// baseURLProblems are the sentences about the two base URLs, by field.
var baseURLProblems = map[string][4]string{
	"base_url": {
		i18n.N("Gateway base URL: enter an address such as https://pay.example.com."),
		i18n.N("Gateway base URL: enter a full address starting with http:// or https://."),
		i18n.N("Gateway base URL: leave out any ?query or #fragment (the gateway breaks notify URLs that carry one)."),
		i18n.N("Gateway base URL: leave out any user name or password."),
	},
	"notify_base_url": {
		i18n.N("Public base URL: enter an address such as https://pay.example.com."),
		i18n.N("Public base URL: enter a full address starting with http:// or https://."),
		i18n.N("Public base URL: leave out any ?query or #fragment (the gateway breaks notify URLs that carry one)."),
		i18n.N("Public base URL: leave out any user name or password."),
	},
}

// checkBaseURL says what is wrong with a base URL, or nil.
func checkBaseURL(field, s string) *Refusal {
	say := baseURLProblems[field]
	if s == "" {
		return refuseField(field, say[0])
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return refuseField(field, say[1])
	case u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return refuseField(field, say[2])
	case u.User != nil:
		return refuseField(field, say[3])
	}
	return nil
}

// maxSources bounds the gateway source addresses of one account.
const maxSources = 32

// checkSources says what is wrong with a list of gateway source addresses,
// or nil.
func checkSources(text string) *Refusal {
	ps, bad := parseSources(text)
	switch {
	case len(text) > 1000:
		return refuseField("notify_sources", "The gateway source addresses are longer than 1000 characters.")
	case bad != "":
		return refuseField("notify_sources", "%.60q is not an address or a CIDR range such as 203.0.113.0/24.", bad)
	case len(ps) > maxSources:
		return refuseField("notify_sources", "Enter at most %d addresses or ranges.", maxSources)
	}
	for _, p := range ps {
		if p.Bits() == 0 {
			return refuseField("notify_sources", "%s takes every address; leave the field empty instead.", p)
		}
	}
	return nil
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

// SourcesText shows stored gateway source addresses as a form shows them.
func SourcesText(stored string) string {
	return strings.Join(strings.Fields(stored), ", ")
}

// gatewayAuditDetail describes an account for the audit log: never the key,
// only whether it was set.
func gatewayAuditDetail(g store.GatewayAccount, keySet bool) string {
	sources := "any"
	if g.NotifySources != "" {
		sources = SourcesText(g.NotifySources)
	}
	d := fmt.Sprintf("name %q, base URL %s, mchId %s, appId %s, notify base URL %s, merchant name %q, gateway source addresses %s",
		g.Name, g.BaseURL, g.MchID, g.AppID, g.NotifyBaseURL, g.MerchantName, sources)
	if keySet {
		d += ", merchant key set"
	}
	return d
}

// errGatewayNameTaken refuses a second account of the same name.
var errGatewayNameTaken = &Refusal{Kind: Invalid, Format: errGatewayFields,
	Fields: []*Refusal{refuseField("name", "Another gateway account has this name; choose another.")}}

// CreateGatewayAccount adds a gateway account with its merchant key sealed.
func (d *Desk) CreateGatewayAccount(ctx context.Context, a Actor, in GatewayInput) (store.GatewayAccount, error) {
	if !a.AtLeast(store.RoleAdmin) {
		return store.GatewayAccount{}, errAdminOnly
	}
	in.normalize()
	if r := in.check(false); r != nil {
		return store.GatewayAccount{}, r
	}
	g := store.GatewayAccount{Name: in.Name, BaseURL: in.BaseURL, MchID: in.MchID, AppID: in.AppID,
		NotifyBaseURL: in.NotifyBaseURL, MerchantName: in.MerchantName, NotifySources: storedSources(in.NotifySources), KeySealed: []byte{}}
	err := d.db.InTx(ctx, func(tx *sql.Tx) error {
		id, err := d.db.CreateGatewayAccountTx(ctx, tx, g)
		if err != nil {
			return err
		}
		// The key is sealed with the account id, known only after the insert.
		g.ID = id
		g.KeySealed = d.sealer.Seal(in.Key, gatewayKeyContext(id))
		if err := d.db.UpdateGatewayAccountTx(ctx, tx, g); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: "gateway.create",
			Subject: fmt.Sprintf("gateway:%d", id), Detail: gatewayAuditDetail(g, true), ClientAddr: a.ClientAddr})
	})
	if errors.Is(err, store.ErrConflict) {
		return g, errGatewayNameTaken
	}
	if err != nil {
		return g, err
	}
	d.GatewayAccountsChanged()
	return d.db.GatewayAccount(ctx, g.ID)
}

// UpdateGatewayAccount saves an account's fields; an empty key keeps the
// stored one.
func (d *Desk) UpdateGatewayAccount(ctx context.Context, a Actor, id int64, in GatewayInput) (store.GatewayAccount, error) {
	if !a.AtLeast(store.RoleAdmin) {
		return store.GatewayAccount{}, errAdminOnly
	}
	g, err := d.db.GatewayAccount(ctx, id)
	if err != nil {
		return g, err
	}
	in.normalize()
	if r := in.check(len(g.KeySealed) > 0); r != nil {
		return g, r
	}
	g.Name, g.BaseURL, g.MchID, g.AppID, g.NotifyBaseURL, g.MerchantName = in.Name, in.BaseURL, in.MchID, in.AppID, in.NotifyBaseURL, in.MerchantName
	g.NotifySources = storedSources(in.NotifySources)
	g.KeySealed = nil // keep the stored key
	if in.Key != "" {
		g.KeySealed = d.sealer.Seal(in.Key, gatewayKeyContext(g.ID))
	}
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := d.db.UpdateGatewayAccountTx(ctx, tx, g); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: "gateway.update",
			Subject: fmt.Sprintf("gateway:%d", g.ID), Detail: gatewayAuditDetail(g, in.Key != ""), ClientAddr: a.ClientAddr})
	})
	if errors.Is(err, store.ErrConflict) {
		return g, errGatewayNameTaken
	}
	if err != nil {
		return g, err
	}
	d.GatewayAccountsChanged()
	return d.db.GatewayAccount(ctx, g.ID)
}

// SetGatewayAccountDisabled disables or enables an account; its orders
// stay.
func (d *Desk) SetGatewayAccountDisabled(ctx context.Context, a Actor, id int64, disabled bool) (store.GatewayAccount, error) {
	if !a.AtLeast(store.RoleAdmin) {
		return store.GatewayAccount{}, errAdminOnly
	}
	g, err := d.db.GatewayAccount(ctx, id)
	if err != nil {
		return g, err
	}
	action := "gateway.enable"
	if disabled {
		action = "gateway.disable"
	}
	g.Disabled, g.KeySealed = disabled, nil
	err = d.db.InTx(ctx, func(tx *sql.Tx) error {
		if err := d.db.UpdateGatewayAccountTx(ctx, tx, g); err != nil {
			return err
		}
		return d.db.AuditTx(ctx, tx, store.AuditEntry{Actor: a.Username, Action: action,
			Subject: fmt.Sprintf("gateway:%d", g.ID), Detail: fmt.Sprintf("name %q", g.Name), ClientAddr: a.ClientAddr})
	})
	if err != nil {
		return g, err
	}
	d.GatewayAccountsChanged()
	return g, nil
}

// TestGatewayAccount signs a query for a made-up order with the account's
// key and says in a sentence what the answer shows: a clean "no such
// order" (or any signed answer) proves the address, the merchant and the
// key.
func (d *Desk) TestGatewayAccount(ctx context.Context, a Actor, id int64) (ok bool, verdict i18n.Message, err error) {
	if !a.AtLeast(store.RoleAdmin) {
		return false, i18n.Message{}, errAdminOnly
	}
	g, err := d.db.GatewayAccount(ctx, id)
	if err != nil {
		return false, i18n.Message{}, err
	}
	client, err := d.gatewayClient(g)
	if err != nil {
		return false, i18n.M("The stored merchant key cannot be opened with this console's master key. Enter the key again and save."), nil
	}
	ctx, cancel := context.WithTimeout(ctx, d.cfg.GatewayTimeout)
	defer cancel()
	_, qerr := client.QueryPayOrder(ctx, payments.PayQuery{MchOrderNo: "PDTEST" + randomToken(12, "0123456789")})
	ok, verdict = gatewayTestVerdict(qerr)
	return ok, verdict, nil
}

// gatewayTestVerdict turns a test query's outcome into a sentence.
func gatewayTestVerdict(err error) (bool, i18n.Message) {
	var gwErr *payments.GatewayError
	var unclear *payments.UnclearError
	switch {
	case err == nil, payments.IsNotFound(err):
		return true, i18n.M("The connection works: the gateway checked the signature and answered for this merchant.")
	case payments.IsBadSignature(err):
		return false, i18n.M("The gateway refused the signature, or signed its answer with another key: the merchant key is wrong.")
	case errors.As(err, &gwErr) && (strings.Contains(gwErr.RetMsg, "mchInfo") || strings.Contains(gwErr.RetMsg, "商户不存在") || strings.Contains(gwErr.RetMsg, "mchId")):
		return false, i18n.M("The gateway does not know this merchant id: check it. (It said: %s)", gwErr.RetMsg)
	case errors.As(err, &gwErr):
		return false, i18n.M("The gateway refused the test query: %s", GatewayProblem(err))
	case errors.As(err, &unclear) && (unclear.Reason == payments.ReasonConnection || unclear.Reason == payments.ReasonTimeout):
		return false, i18n.M("The gateway cannot be reached at this base URL (%s). Check the address and that the gateway is running.", GatewayProblem(err))
	case errors.As(err, &unclear):
		return false, i18n.M("The gateway answered, but not as a gateway of this kind would (%s). Check the base URL.", GatewayProblem(err))
	}
	return false, i18n.M("The test query failed: %s", GatewayProblem(err))
}

// randomToken draws n characters from alphabet with crypto/rand.
func randomToken(n int, alphabet string) string {
	b := make([]byte, n)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
