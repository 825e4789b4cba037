package web

import (
	"fmt"
	"html"
	"net/http"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

// The batch page says which encoding the file was read in, with the first
// payees' names as read, so that a wrong guess is seen before approval.
func TestBatchPageShowsEncodingAndNames(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	text := "户名,账号,金额,银行名称,省份,城市\r\n张三,6222020200000000001,1.00,中国建设银行,上海,上海\r\n" +
		"李四,6222020200000000002,2.00,招商银行,广东,深圳\r\n王五,6222020200000000003,3.00,中国银行,北京,北京\r\n" +
		"赵六,6222020200000000005,4.00,中国银行,北京,北京\r\n"
	data, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	id := op.uploadOK("gbk.csv", data)
	page := op.get(fmt.Sprintf("/payouts/batches/%d", id))
	if want := `data-testid="read-as">Read as GBK: 张三, 李四, 王五 …</div>`; !strings.Contains(page.body, want) {
		t.Fatalf("batch page lacks %s:\n%s", want, page.body)
	}
	id = op.uploadOK("utf8.csv", []byte("户名,账号,金额,银行名称,省份,城市\n张三,6222020200000000001,1.00,中国建设银行,上海,上海\n"))
	page = op.get(fmt.Sprintf("/payouts/batches/%d", id))
	if want := `data-testid="read-as">Read as UTF-8: 张三</div>`; !strings.Contains(page.body, want) {
		t.Fatalf("batch page lacks %s:\n%s", want, page.body)
	}
}

// A UTF-8 file with one stray byte is refused as a whole with the row
// named, instead of being read as GBK with every name garbled.
func TestUploadUTF8WithStrayByte(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	op, _ := env.signedIn(store.RoleOperator)
	file := payoutCSV(20, accountNo)
	file = []byte(strings.Replace(string(file), "收款人5,", "收款人5\xff,", 1))
	res := op.upload("stray.csv", file)
	want := "The file is UTF-8 but row 7 contains bytes that are not text. Save it again as UTF-8 (or as GBK) and upload it again."
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(html.UnescapeString(res.body), want) {
		t.Fatalf("status %d, want 422 with %q:\n%s", res.StatusCode, want, res.body)
	}
	var batches, payouts int
	env.db.QueryRow(`SELECT count(*) FROM payout_batches`).Scan(&batches)
	env.db.QueryRow(`SELECT count(*) FROM payouts`).Scan(&payouts)
	if batches != 0 || payouts != 0 {
		t.Fatalf("a refused file left %d batches and %d payouts", batches, payouts)
	}
}
