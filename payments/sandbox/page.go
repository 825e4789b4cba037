package sandbox

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"paydesk/internal/money"
	"paydesk/payments"
)

// pageLimit bounds the rows the overview shows of each list.
const pageLimit = 200

type overviewView struct {
	MchID, AppID, Faults string
	FaultsJSON           string
	PayCount, TransCount int
	Pays                 []overviewPay
	Trans                []overviewTrans
	Attempts             []overviewAttempt
	AttemptCount         int
}

type overviewPay struct {
	ID, MchOrderNo, Product, Amount, Status, Created string
}

type overviewTrans struct {
	ID, MchTransOrderNo, Amount, Bank, AccountNo, Status, ErrMsg, Created string
}

type overviewAttempt struct {
	Attempt
	When string
}

// overview is the sandbox's own page: orders, payouts, every notification
// attempt with the reply it got, and the fault switches.
func (s *Sandbox) overview(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f := s.faults.clone()
	v := overviewView{
		MchID: s.cfg.MchID, AppID: s.cfg.AppID,
		PayCount: len(s.payList), TransCount: len(s.transList), AttemptCount: len(s.attemptLog),
	}
	for i := len(s.payList) - 1; i >= 0 && len(v.Pays) < pageLimit; i-- {
		o := s.payList[i]
		v.Pays = append(v.Pays, overviewPay{
			ID: o.ID, MchOrderNo: o.MchOrderNo, Product: strconv.Itoa(o.ProductID), Amount: money.Format(o.Amount),
			Status:  strconv.Itoa(o.Status) + " " + payments.PayStatusText(o.Status),
			Created: o.Created.Format(time.DateTime),
		})
	}
	for i := len(s.transList) - 1; i >= 0 && len(v.Trans) < pageLimit; i-- {
		o := s.transList[i]
		v.Trans = append(v.Trans, overviewTrans{
			ID: o.ID, MchTransOrderNo: o.MchTransOrderNo, Amount: money.Format(o.Amount),
			Bank: o.BankCode + " " + o.BankName, AccountNo: o.AccountNo,
			Status:  strconv.Itoa(o.Status) + " " + payments.TransStatusText(o.Status),
			ErrMsg:  o.ChannelErrMsg,
			Created: time.UnixMilli(o.CreateTime).Format(time.DateTime),
		})
	}
	for i := len(s.attemptLog) - 1; i >= 0 && len(v.Attempts) < pageLimit; i-- {
		a := s.attemptLog[i]
		v.Attempts = append(v.Attempts, overviewAttempt{Attempt: a, When: a.At.Format("15:04:05.000")})
	}
	s.mu.Unlock()
	v.Faults = f.String()
	if v.Faults == "" {
		v.Faults = "none"
	}
	b, _ := json.Marshal(f)
	v.FaultsJSON = string(b)
	s.render(w, http.StatusOK, "overview", v)
}

// faultsForm sets the faults from the overview page's text field.
func (s *Sandbox) faultsForm(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "Unreadable form.", http.StatusBadRequest)
		return
	}
	f, err := ParseFaults(r.PostForm.Get("spec"))
	if err != nil {
		http.Error(w, err.Error(), http.StatusUnprocessableEntity)
		return
	}
	s.SetFaults(f)
	http.Redirect(w, r, "/sandbox", http.StatusSeeOther)
}

func writeAny(w http.ResponseWriter, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
}

func (s *Sandbox) apiGetFaults(w http.ResponseWriter, r *http.Request) {
	writeAny(w, s.Faults())
}

func (s *Sandbox) apiSetFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<10))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		http.Error(w, "Body must be a JSON Faults object: "+err.Error(), http.StatusBadRequest)
		return
	}
	if f.FaultPercent < 0 || f.FaultPercent > 100 || f.RefuseNotifies < 0 || f.Latency < 0 {
		http.Error(w, "FaultPercent must be 0..100; RefuseNotifies and Latency not negative.", http.StatusBadRequest)
		return
	}
	s.SetFaults(f)
	writeAny(w, s.Faults())
}

func (s *Sandbox) apiCounts(w http.ResponseWriter, r *http.Request) {
	writeAny(w, map[string]int{"creates": s.CreateCount(r.URL.Query().Get("no"))})
}

func (s *Sandbox) apiAttempts(w http.ResponseWriter, r *http.Request) {
	a := s.Attempts(r.URL.Query().Get("id"))
	if a == nil {
		a = []Attempt{}
	}
	writeAny(w, a)
}

func parsePages() *template.Template {
	return template.Must(template.New("pages").Parse(pagesHTML))
}

const pagesHTML = `
{{define "style"}}<style>
body{font-family:-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"PingFang SC","Microsoft YaHei","Noto Sans CJK SC",sans-serif;margin:0;background:#f4f5f7;color:#1d2433}
header{background:#6b3fa0;color:#fff;padding:.8rem 1.5rem}header b{font-size:1.1rem}header span{opacity:.8;margin-left:1rem;font-size:.9rem}
main{padding:1rem 1.5rem;max-width:72rem;margin:0 auto}
.card{background:#fff;border-radius:8px;box-shadow:0 1px 3px rgba(0,0,0,.1);padding:1.2rem 1.5rem;margin-bottom:1rem}
table{border-collapse:collapse;width:100%;font-size:.85rem}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #e3e6ea;vertical-align:top}
th{background:#fafbfc}td.num{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#17803d}.bad{color:#b42318}.muted{color:#6b7280}
.amount{font-size:2.2rem;font-weight:600;margin:.5rem 0}
button{font-size:1rem;padding:.6rem 1.6rem;border-radius:6px;border:0;cursor:pointer;margin-right:.6rem}
.pay{background:#17803d;color:#fff}.fail{background:#fff;color:#b42318;border:1px solid #b42318}
code{font-size:.85rem}input[type=text]{width:32rem;max-width:100%;padding:.4rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem}dt{color:#6b7280}dd{margin:0}
</style>{{end}}

{{define "cashier"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sandbox cashier · {{.ID}}</title>{{template "style"}}</head>
<body><header><b>Sandbox cashier</b><span>test payments only: no money moves</span></header>
<main><div class="card" data-testid="cashier">
<div class="muted">{{.Subject}}</div>
<div class="amount" data-testid="amount">{{.Amount}}</div>
<dl>
<dt>Order</dt><dd data-testid="order"><code>{{.ID}}</code></dd>
<dt>Merchant order</dt><dd><code>{{.MchOrderNo}}</code></dd>
<dt>Subject</dt><dd data-testid="subject">{{.Subject}}</dd>
<dt>Description</dt><dd>{{.Body}}</dd>
<dt>Product</dt><dd>{{.Product}}</dd>
<dt>Status</dt><dd data-testid="status" class="{{if .Paid}}ok{{else if not .Open}}bad{{end}}">{{.StatusText}}</dd>
</dl>
{{with .Message}}<p class="bad" data-testid="message">{{.}}</p>{{end}}
{{if .Open}}
<form method="post" action="/sandbox/pay/{{.ID}}">
<button class="pay" name="action" value="pay" data-testid="pay">Pay {{.Amount}}</button>
<button class="fail" name="action" value="fail" data-testid="fail">Fail</button>
</form>
{{else if .ReturnURL}}<p><a href="{{.ReturnURL}}" data-testid="return">Back to the merchant</a></p>{{end}}
</div></main></body></html>{{end}}

{{define "overview"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Sandbox gateway</title>{{template "style"}}</head>
<body><header><b>Sandbox gateway</b><span>mchId {{.MchID}} · appId {{.AppID}}</span></header>
<main>
<div class="card" data-testid="faults"><h2>Faults</h2>
<p>In force: <code data-testid="faults-spec">{{.Faults}}</code></p>
<form method="post" action="/sandbox/faults">
<input type="text" name="spec" value="" placeholder="e.g. lost-answer,refuse=2,latency=200ms,percent=30,post-form=8002+8003">
<button class="pay" type="submit">Set faults</button></form>
<p class="muted">JSON: <code>{{.FaultsJSON}}</code> (GET/POST /sandbox/api/faults)</p></div>

<div class="card"><h2>Pay orders ({{.PayCount}})</h2>
<table data-testid="pay-orders"><tr><th>Pay order</th><th>Merchant order</th><th>Product</th><th>Amount</th><th>Status</th><th>Created</th></tr>
{{range .Pays}}<tr><td><a href="/sandbox/pay/{{.ID}}"><code>{{.ID}}</code></a></td><td><code>{{.MchOrderNo}}</code></td><td>{{.Product}}</td><td class="num">{{.Amount}}</td><td>{{.Status}}</td><td>{{.Created}}</td></tr>
{{else}}<tr><td colspan="6" class="muted">No pay orders yet.</td></tr>{{end}}</table></div>

<div class="card"><h2>Payouts ({{.TransCount}})</h2>
<table data-testid="payouts"><tr><th>Payout</th><th>Merchant order</th><th>Amount</th><th>Bank</th><th>Account</th><th>Status</th><th>Created</th></tr>
{{range .Trans}}<tr><td><code>{{.ID}}</code></td><td><code>{{.MchTransOrderNo}}</code></td><td class="num">{{.Amount}}</td><td>{{.Bank}}</td><td>{{.AccountNo}}</td><td>{{.Status}}{{with .ErrMsg}}<br><span class="bad">{{.}}</span>{{end}}</td><td>{{.Created}}</td></tr>
{{else}}<tr><td colspan="7" class="muted">No payouts yet.</td></tr>{{end}}</table></div>

<div class="card"><h2>Notification attempts ({{.AttemptCount}})</h2>
<table data-testid="attempts"><tr><th>Time</th><th>Order</th><th>Chain</th><th>#</th><th>Status</th><th>Request</th><th>Result</th><th>Reply</th></tr>
{{range .Attempts}}<tr><td>{{.When}}</td><td><code>{{.OrderID}}</code></td><td>{{.Chain}}</td><td>{{.N}}</td><td>{{.Status}}</td><td>{{.Method}} <code>{{.URL}}</code></td>
<td>{{if .OK}}<span class="ok">ok</span>{{else if not .Delivered}}<span class="bad">refused (fault)</span>{{else}}<span class="bad">failed{{with .HTTPStatus}} · HTTP {{.}}{{end}}</span>{{end}}{{with .Err}}<br><span class="muted">{{.}}</span>{{end}}</td>
<td><code>{{.Reply}}</code></td></tr>
{{else}}<tr><td colspan="8" class="muted">No notifications sent yet.</td></tr>{{end}}</table></div>
</main></body></html>{{end}}
`
