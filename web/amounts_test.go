package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"paydesk/desk"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// typedAmounts are amounts as Chinese staff type them, with the fen each
// stands for: full-width digits and punctuation, ￥ and ¥, a trailing 元,
// thousands separators.
var typedAmounts = []struct {
	typed string
	fen   int64
}{
	{"１２．５０", 1250},
	{"￥12.50", 1250},
	{"¥ 1,234.50", 123450},
	{"12.50元", 1250},
	{"￥１，２３４．５０元", 123450},
	{"12。50", 1250},
}

// refusedAmounts are still refused, each with a sentence that says why.
var refusedAmounts = []struct{ typed, says string }{
	{"12.345", "more than two decimals"},
	{"１ｅ３", "scientific notation"},
	{"－12", "negative"},
	{"0", "zero"},
	{"12元5角", "not a number of yuan"},
}

func TestPaymentFormAmounts(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	for _, c := range typedAmounts {
		form := paymentForm(t, env, op)
		form.Set("amount", c.typed)
		id := paymentID(t, op.postForm("/payments", form))
		o, err := env.db.PayOrderByID(context.Background(), id)
		if err != nil || o.Amount != c.fen {
			t.Errorf("payment of %q: %d fen, %v; want %d", c.typed, o.Amount, err, c.fen)
		}
	}
	for _, c := range refusedAmounts {
		form := paymentForm(t, env, op)
		form.Set("amount", c.typed)
		res := op.postForm("/payments", form)
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, c.says) {
			t.Errorf("payment of %q: %d, want 422 saying %q", c.typed, res.StatusCode, c.says)
		}
	}
}

func TestPayoutFormAmounts(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	form := func(amount string) url.Values {
		return url.Values{"amount": {amount}, "account_name": {"张三"}, "account_no": {"6222020200112233445"}, "bank_code": {"HPT00003"},
			"province": {"上海"}, "city": {"上海"}, "account_type": {"1"}, "account_attr": {"0"}}
	}
	for _, c := range typedAmounts {
		res := op.postForm("/payouts/new", form(c.typed))
		m := batchPath.FindStringSubmatch(res.Header.Get("Location"))
		if res.StatusCode != http.StatusSeeOther || m == nil {
			t.Errorf("payout of %q: %d %s", c.typed, res.StatusCode, res.body)
			continue
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		var fen int64
		if err := env.db.QueryRow(`SELECT amount FROM payouts WHERE batch_id = ?`, id).Scan(&fen); err != nil || fen != c.fen {
			t.Errorf("payout of %q: %d fen (%v), want %d", c.typed, fen, err, c.fen)
		}
	}
	for _, c := range refusedAmounts {
		res := op.postForm("/payouts/new", form(c.typed))
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.body, c.says) {
			t.Errorf("payout of %q: %d, want 422 saying %q", c.typed, res.StatusCode, c.says)
		}
	}
}

func TestCSVAmounts(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	var b strings.Builder
	b.WriteString("账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,省份/province,城市/city\r\n")
	var total int64
	for i, c := range typedAmounts {
		fmt.Fprintf(&b, "收款人%d,62220202%011d,\"%s\",HPT00003,上海,上海\r\n", i, i, c.typed)
		total += c.fen
	}
	for i, c := range refusedAmounts {
		fmt.Fprintf(&b, "拒绝%d,62220203%011d,\"%s\",HPT00003,上海,上海\r\n", i, i, c.typed)
	}
	id := op.uploadOK("amounts.csv", []byte(b.String()))
	bt := env.batch(id)
	if bt.ErrorRows != len(refusedAmounts) {
		t.Errorf("%d rows with errors, want %d", bt.ErrorRows, len(refusedAmounts))
	}
	page := op.get(fmt.Sprintf("/payouts/batches/%d", id))
	for _, c := range refusedAmounts {
		if !strings.Contains(page.body, c.says) {
			t.Errorf("the batch page does not say %q", c.says)
		}
	}
	// The rows with errors dropped, the batch holds exactly the typed amounts.
	if res := op.postForm(fmt.Sprintf("/payouts/batches/%d/drop-errors", id), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("drop errors: %d", res.StatusCode)
	}
	if res := op.postForm(fmt.Sprintf("/payouts/batches/%d/send", id), url.Values{"control_count": {strconv.Itoa(len(typedAmounts))}, "control_sum": {"￥１，２４０．５０"}}); res.StatusCode != http.StatusUnprocessableEntity {
		t.Errorf("a wrong control total typed full-width: %d", res.StatusCode)
	}
	if res := op.postForm(fmt.Sprintf("/payouts/batches/%d/send", id), url.Values{"control_count": {strconv.Itoa(len(typedAmounts))}, "control_sum": {"￥" + strings.ReplaceAll(strconv.FormatFloat(float64(total)/100, 'f', 2, 64), ".", "．") + "元"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("the control total typed full-width with ￥ and 元: %d %s", res.StatusCode, res.body)
	}
}

// Merchant order numbers carry the date and time of the console's zone:
// a payment made at 04:02 Beijing time on 30 November 2026 (20:02 UTC the
// day before) is PD20261130040…, and so is a payout's number.
func TestOrderNumbersInConsoleZone(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	env.advance(time.Until(time.Date(2026, 11, 29, 20, 2, 0, 0, time.UTC)))
	env.freeze()
	op, _ := env.signedIn(store.RoleOperator)
	id := paymentID(t, op.postForm("/payments", paymentForm(t, env, op)))
	o, err := env.db.PayOrderByID(context.Background(), id)
	if err != nil || !strings.HasPrefix(o.MchOrderNo, "PD2026113004") {
		t.Errorf("payment number %q (%v), want PD2026113004…", o.MchOrderNo, err)
	}
	env.startWorker(desk.PayoutOptions{})
	res := op.postForm("/payouts/new", url.Values{"amount": {"1"}, "account_name": {"张三"}, "account_no": {"6222020200112233445"},
		"bank_code": {"HPT00003"}, "province": {"上海"}, "city": {"上海"}})
	m := batchPath.FindStringSubmatch(res.Header.Get("Location"))
	if m == nil {
		t.Fatalf("payout: %d %s", res.StatusCode, res.body)
	}
	bid, _ := strconv.ParseInt(m[1], 10, 64)
	if no := mchNoOfRow(t, env, bid, 1); !strings.HasPrefix(no, "PD26113004") {
		t.Errorf("payout number %q, want PD26113004…", no)
	}
	batch := op.uploadOK("a.csv", payoutCSV(1, accountNo))
	if no := mchNoOfRow(t, env, batch, 2); !strings.HasPrefix(no, "PD26113004") {
		t.Errorf("batch payout number %q, want PD26113004…", no)
	}
}

// The amount in Chinese capitals stands beside the figures where money is
// approved or printed: a batch's total, a payout's page, the printable card.
func TestAmountInCapitals(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{}, fastGateway)
	op, _ := env.signedIn(store.RoleOperator)
	id := op.uploadOK("a.csv", []byte("账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,省份/province,城市/city\r\n"+
		"张三,6222020200112233445,\"25,000.00\",HPT00003,上海,上海\r\n李四,6222020200112233446,229.05,HPT00003,上海,上海\r\n"))
	page := op.get(fmt.Sprintf("/payouts/batches/%d", id))
	if !strings.Contains(page.body, "¥25,229.05") || !strings.Contains(page.body, "贰万伍仟贰佰贰拾玖元零伍分") {
		t.Errorf("the batch page lacks its total in capitals")
	}
	var pid int64
	if err := env.db.QueryRow(`SELECT id FROM payouts WHERE batch_id = ? AND row_no = 3`, id).Scan(&pid); err != nil {
		t.Fatal(err)
	}
	if page := op.get(fmt.Sprintf("/payouts/%d", pid)); !strings.Contains(page.body, "贰佰贰拾玖元零伍分") {
		t.Errorf("the payout page lacks its amount in capitals")
	}
	form := paymentForm(t, env, op)
	form.Set("amount", "1005.05")
	pay := paymentID(t, op.postForm("/payments", form))
	if card := op.get(fmt.Sprintf("/payments/%d/card", pay)); !strings.Contains(card.body, "壹仟零伍元零伍分") {
		t.Errorf("the printable card lacks the amount in capitals")
	}
}
