package web

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"paydesk/desk"
	"paydesk/desk/payoutcsv"
	"paydesk/payments/sandbox"
	"paydesk/store"
)

// readCSV reads a downloaded CSV, checking the BOM.
func readCSV(t *testing.T, res response) [][]string {
	t.Helper()
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.body, payoutcsv.BOM) || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("download: %d %q %s", res.StatusCode, res.Header.Get("Cache-Control"), res.body)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, payoutcsv.BOM)))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// A file with errors: the errors file gives the rows back in the
// template's columns with what is wrong; fixed in place and uploaded again
// it makes a clean batch.
func TestBatchErrorsDownloadFixAndUploadAgain(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	file := "账户名/account_name,城市/city,账号/account_no,金额(元)/amount,银行代码/bank_code,省份/province,扩展参数1/param1\r\n" +
		"张三,上海,6222020200112233445,1.00,HPT00003,上海,a\r\n" + // good
		"李四,上海,6222020200112233446,1.2.3,HPT00003,上海,=cmd\r\n" + // bad amount
		"王五,上海,6222020200112233447,2.00,HPT99999,上海,\r\n" + // unknown bank code
		"赵六,上海,6222020200112233448,-1,HPT00003,上海,\r\n" // negative amount
	id := op.uploadOK("mixed.csv", []byte(file))
	if b := env.batch(id); b.ErrorRows != 3 || b.FileRows != 4 {
		t.Fatalf("batch %+v", b)
	}
	recs := readCSV(t, op.get(fmt.Sprintf("/payouts/batches/%d/errors.csv", id)))
	want := append(payoutcsv.Headers(), payoutcsv.ErrorHeader)
	if strings.Join(recs[0], "|") != strings.Join(want, "|") {
		t.Fatalf("header %q, want %q", recs[0], want)
	}
	if len(recs) != 4 {
		t.Fatalf("%d rows with errors in the file: %q", len(recs)-1, recs)
	}
	name, no, amount, code, param1, errCol := payoutcsv.ColumnIndex("account_name"), payoutcsv.ColumnIndex("account_no"),
		payoutcsv.ColumnIndex("amount"), payoutcsv.ColumnIndex("bank_code"), payoutcsv.ColumnIndex("param1"), len(want)-1
	if r := recs[1]; r[name] != "李四" || r[no] != "\t6222020200112233446" || r[amount] != "1.2.3" || r[param1] != "'=cmd" || !strings.Contains(r[errCol], "Row 3") {
		t.Fatalf("first error row %q", r)
	}
	if r := recs[2]; r[code] != "HPT99999" || !strings.Contains(r[errCol], "Row 4") {
		t.Fatalf("second error row %q", r)
	}
	if r := recs[3]; r[amount] != "'-1" || !strings.Contains(r[errCol], "Row 5") {
		t.Fatalf("third error row %q", r)
	}

	// Fixed in Excel, the error column left in: a clean batch.
	recs[1][amount], recs[1][param1] = "1.23", "cmd"
	recs[2][code] = "HPT00003"
	recs[3][amount] = "1.00"
	var fixed bytes.Buffer
	fixed.WriteString(payoutcsv.BOM)
	w := csv.NewWriter(&fixed)
	w.WriteAll(recs)
	again := op.uploadOK("fixed.csv", fixed.Bytes())
	b := env.batch(again)
	if b.ErrorRows != 0 || b.FileRows != 3 {
		t.Fatalf("the fixed file: %+v", b)
	}
	var n int
	var sum int64
	env.db.QueryRow(`SELECT count(*), sum(amount) FROM payouts WHERE batch_id = ?`, again).Scan(&n, &sum)
	if n != 3 || sum != 123+200+100 {
		t.Fatalf("the fixed batch: %d payouts, %d fen", n, sum)
	}
	// A batch without errors gives a file with the header only.
	if recs := readCSV(t, op.get(fmt.Sprintf("/payouts/batches/%d/errors.csv", again))); len(recs) != 1 {
		t.Fatalf("errors of a clean batch: %q", recs)
	}
	if res := op.get("/payouts/batches/999999/errors.csv"); res.StatusCode != http.StatusNotFound {
		t.Fatalf("errors of no batch: %d", res.StatusCode)
	}
}

// The results file has one line per row of the file, in its order, every
// field filled: the rows that were never sent too.
func TestBatchResultsEveryRow(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	file := "account_name,account_no,amount,bank_code,province,city\r\n" +
		"李四,6222020200112233446,abc,HPT00003,上海,上海\r\n" +
		"张三,6222020200112233445,1.00,HPT00003,上海,上海\r\n" +
		"王五,6222020200112233447,2.00,HPT99999,上海,上海\r\n" +
		"赵六,6222020200112233448,3.00,HPT00003,上海,上海\r\n"
	id := op.uploadOK("mixed.csv", []byte(file))
	recs := readCSV(t, op.get(fmt.Sprintf("/payouts/batches/%d/results.csv", id)))
	if len(recs) != 5 {
		t.Fatalf("results: %q", recs)
	}
	for i, want := range []struct{ row, name, no, amount, result string }{
		{"2", "李四", "\t6222020200112233446", "abc", "not sent"},
		{"3", "张三", "\t6222020200112233445", "1.00", ""},
		{"4", "王五", "\t6222020200112233447", "2.00", "not sent"},
		{"5", "赵六", "\t6222020200112233448", "3.00", ""},
	} {
		r := recs[i+1]
		if r[0] != want.row || r[3] != want.name || r[4] != want.no || r[7] != want.amount || (want.result != "" && r[8] != want.result) || r[8] == "" {
			t.Errorf("line %d: %q, want %+v", i+1, r, want)
		}
		if want.result == "not sent" && r[10] == "" {
			t.Errorf("line %d has no error: %q", i+1, r)
		}
	}
}

// The template's example row is a note: uploaded untouched next to a real
// row it pays nothing; the template alone is refused as having no rows.
func TestTemplateExampleRowPaysNothing(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	res := op.get("/payouts/template.csv")
	if res.StatusCode != http.StatusOK || !strings.Contains(res.body, "\r\n#示例") {
		t.Fatalf("template: %d %q", res.StatusCode, res.body)
	}
	if up := op.upload("template.csv", []byte(res.body)); up.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(up.body, "no payout rows") {
		t.Fatalf("the untouched template: %d %s", up.StatusCode, up.body)
	}
	file := res.body + "钱七,6222020200112233449,5.00,HPT00003,,中国建设银行上海分行,上海,上海,1,0,,,,\r\n"
	id := op.uploadOK("filled.csv", []byte(file))
	b := env.batch(id)
	var n int
	var sum int64
	env.db.QueryRow(`SELECT count(*), coalesce(sum(amount), 0) FROM payouts WHERE batch_id = ?`, id).Scan(&n, &sum)
	if b.FileRows != 1 || b.ErrorRows != 0 || n != 1 || sum != 500 {
		t.Fatalf("the template with one real row: %+v, %d payouts, %d fen", b, n, sum)
	}
}

// A rejected batch is copied into a new draft through HTTP: new numbers,
// the same payees and amounts, its own approval; once only; not a batch
// that was not sent back; not by a viewer.
func TestCopyRejectedBatchHTTP(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, opName := env.signedIn(store.RoleOperator)
	ap, _ := env.signedIn(store.RoleApprover)
	viewer, _ := env.signedIn(store.RoleViewer)
	id := op.uploadOK("batch.csv", payoutCSV(3, accountNo))
	if res := op.postForm(fmt.Sprintf("/payouts/batches/%d/copy", id), nil); res.StatusCode != http.StatusConflict {
		t.Fatalf("copy of a draft: %d", res.StatusCode)
	}
	op.sendForApproval(id)
	if res := ap.postForm(fmt.Sprintf("/payouts/batches/%d/reject", id), url.Values{"reason": {"wrong month"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reject: %d", res.StatusCode)
	}
	if res := viewer.postForm(fmt.Sprintf("/payouts/batches/%d/copy", id), nil); res.StatusCode != http.StatusForbidden {
		t.Fatalf("copy by a viewer: %d", res.StatusCode)
	}
	acts, err := env.desk.BatchActions(t.Context(), desk.Actor{Username: opName, Role: store.RoleOperator}, env.batch(id), nil)
	if err != nil || !acts.Copy {
		t.Fatalf("the rejected batch's actions: %+v %v", acts, err)
	}
	res := op.postForm(fmt.Sprintf("/payouts/batches/%d/copy", id), nil)
	m := batchPath.FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("copy: %d %q %s", res.StatusCode, res.Header.Get("Location"), res.body)
	}
	var copyID int64
	fmt.Sscan(m[1], &copyID)
	c := env.batch(copyID)
	if c.State != store.BatchDraft || c.RetryOf != id || c.FileRows != 3 || c.ApprovedBy != "" {
		t.Fatalf("the copy %+v", c)
	}
	type row struct {
		no, name, account string
		amount            int64
	}
	rows := func(batch int64) []row {
		rs, err := env.db.Query(`SELECT mch_trans_order_no, account_name, account_no, amount FROM payouts WHERE batch_id = ? ORDER BY row_no`, batch)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		var out []row
		for rs.Next() {
			var r row
			rs.Scan(&r.no, &r.name, &r.account, &r.amount)
			out = append(out, r)
		}
		return out
	}
	orig, copied := rows(id), rows(copyID)
	if len(orig) != 3 || len(copied) != 3 {
		t.Fatalf("payouts: %d and %d", len(orig), len(copied))
	}
	for i := range orig {
		if orig[i].no == copied[i].no || orig[i].name != copied[i].name || orig[i].account != copied[i].account || orig[i].amount != copied[i].amount {
			t.Errorf("row %d: %+v copied as %+v", i, orig[i], copied[i])
		}
	}
	if env.auditCount("payout.batch.copy", "%batch #"+fmt.Sprint(id)+"%") != 1 {
		t.Error("the copy is not audited")
	}
	// Once only.
	if res := op.postForm(fmt.Sprintf("/payouts/batches/%d/copy", id), nil); res.StatusCode != http.StatusConflict || !strings.Contains(res.body, fmt.Sprintf("copied into batch #%d", copyID)) {
		t.Fatalf("second copy: %d %s", res.StatusCode, res.body)
	}
	// The copy goes through its own approval.
	op.sendForApproval(copyID)
	if st := env.batch(copyID).State; st != store.BatchAwaitingApproval {
		t.Fatalf("the copy sent: %s", st)
	}
}
