package payoutcsv

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"paydesk/internal/i18n"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/text/encoding/simplifiedchinese"
)

const header = "账户名/account_name,账号/account_no,金额(元)/amount,银行代码/bank_code,开户支行/branch,省份/province,城市/city\n"

func parseAll(t *testing.T, data []byte) (Summary, []*Row, error) {
	t.Helper()
	var rows []*Row
	sum, err := Parse(bytes.NewReader(data), func(r *Row) error {
		rows = append(rows, r)
		return nil
	})
	return sum, rows, err
}

func gbk(t *testing.T, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestEncodings(t *testing.T) {
	body := "户名,账号,金额,银行名称,省份,城市\r\n张三,6222020200112233445,\"1,234.50\",中国建设银行,上海,上海\r\n李四,6222020200112233446,0.5,招商银行,广东,深圳\r\n"
	tests := []struct {
		name, enc string
		data      []byte
	}{
		{"utf8", EncodingUTF8, []byte(body)},
		{"utf8 bom", EncodingUTF8BOM, append([]byte("\xef\xbb\xbf"), body...)},
		{"gbk", EncodingGBK, gbk(t, body)},
		{"utf8 lf", EncodingUTF8, []byte(strings.ReplaceAll(body, "\r\n", "\n"))},
		{"gbk lf", EncodingGBK, gbk(t, strings.ReplaceAll(body, "\r\n", "\n"))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sum, rows, err := parseAll(t, tt.data)
			if err != nil {
				t.Fatal(err)
			}
			if sum.Encoding != tt.enc {
				t.Errorf("encoding %q, want %q", sum.Encoding, tt.enc)
			}
			type got struct {
				RowNo          int
				Name, No, Code string
				Bank, Branch   string
				City           string
				Amount         int64
			}
			var g []got
			for _, r := range rows {
				if len(r.Errors) > 0 {
					t.Errorf("row %d: %v", r.RowNo, r.Errors)
				}
				g = append(g, got{r.RowNo, r.AccountName, r.AccountNo, r.BankCode, r.BankName, r.Branch, r.City, r.Amount})
			}
			want := []got{
				{2, "张三", "6222020200112233445", "HPT00003", "中国建设银行", "中国建设银行", "上海", 123450},
				{3, "李四", "6222020200112233446", "HPT00005", "招商银行", "招商银行", "深圳", 50},
			}
			if d := cmp.Diff(want, g); d != "" {
				t.Errorf("rows (-want +got):\n%s", d)
			}
			if sum.Total != 123500 || sum.ValidRows != 2 {
				t.Errorf("summary %+v", sum)
			}
		})
	}
}

// A GBK file whose first 64 KiB are plain ASCII is still read as GBK.
func TestGBKLateInFile(t *testing.T) {
	var b strings.Builder
	b.WriteString("account_name,account_no,amount,bank_code,province,city\n")
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&b, "Zhang San,62220202%011d,1.00,HPT00001,SH,SH\n", i)
	}
	b.WriteString("王五,6222020200000000001,2.00,HPT00001,上海,上海\n")
	sum, rows, err := parseAll(t, gbk(t, b.String()))
	if err != nil {
		t.Fatal(err)
	}
	last := rows[len(rows)-1]
	if sum.Encoding != EncodingGBK || last.AccountName != "王五" || last.City != "上海" {
		t.Fatalf("encoding %s, last row %+v", sum.Encoding, last)
	}
}

func TestAmounts(t *testing.T) {
	tests := []struct {
		in      string
		fen     int64
		errPart string
	}{
		{"100", 10000, ""},
		{"0.5", 50, ""},
		{"1,234.50", 123450, ""},
		{"0.01", 1, ""},
		{" 12.3 ", 1230, ""},
		{"1e3", 0, "scientific"},
		{"-5", 0, "negative"},
		{"0", 0, "zero"},
		{"0.00", 0, "zero"},
		{"1.234", 0, "two decimals"},
		{"12,34", 0, "thousands separators"},
		{"１２．５０", 1250, ""},
		{"￥1,234.50元", 123450, ""},
		{"¥ 12", 1200, ""},
		{"１，２３４", 123400, ""},
		{"12.50元", 1250, ""},
		{"１２．３４５", 0, "two decimals"},
		{"－５", 0, "negative"},
		{"abc", 0, "not a number"},
		{"", 0, "Enter an amount"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			row := CheckOne(map[string]string{"account_name": "A", "account_no": "6222020200112233445", "amount": tt.in,
				"bank_code": "HPT00001", "province": "上海", "city": "上海"})
			if tt.errPart == "" {
				if len(row.Errors) > 0 || row.Amount != tt.fen {
					t.Fatalf("amount %q: fen %d, errors %v; want %d", tt.in, row.Amount, row.Errors, tt.fen)
				}
				return
			}
			if len(row.Errors) != 1 || !strings.Contains(text(row.Errors[0]), tt.errPart) || !strings.HasPrefix(text(row.Errors[0]), "Row 1: ") {
				t.Fatalf("amount %q: errors %v, want one containing %q", tt.in, row.Errors, tt.errPart)
			}
		})
	}
}

func TestRowErrors(t *testing.T) {
	data := header +
		"张三,6.22202E+18,100,HPT00003,,上海,上海\n" +
		"李四,6222020200112233446,100,HPT00099,,上海,上海\n" +
		"王五,62220202ABC,100,HPT00003,,上海,上海\n" +
		",6222020200112233447,100,HPT00003,,,上海\n" +
		"赵六,6222020200112233448,100,HPT00003,,上海,上海\n"
	_, rows, err := parseAll(t, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"Row 2: The account number 6.22202E+18 was turned into scientific notation by Excel"},
		{"Row 3: The bank code HPT00099 does not exist"},
		{"Row 4: The account number \"62220202ABC\" must have only digits"},
		{"Row 5: The account name is empty", "Row 5: The province is empty"},
		nil,
	}
	if len(rows) != len(want) {
		t.Fatalf("%d rows, want %d", len(rows), len(want))
	}
	for i, r := range rows {
		if len(r.Errors) != len(want[i]) {
			t.Errorf("row %d errors %q, want %q", r.RowNo, r.Errors, want[i])
			continue
		}
		for j, m := range r.Errors {
			e := text(m)
			if !strings.HasPrefix(e, want[i][j]) {
				t.Errorf("row %d error %q, want prefix %q", r.RowNo, e, want[i][j])
			}
		}
	}
	if !strings.Contains(text(rows[0].Errors[0]), "format the account number column as Text") {
		t.Errorf("scientific notation error does not say how to fix it: %s", rows[0].Errors[0])
	}
}

// A row with more or fewer cells than the header (an amount such as 1,000
// not quoted splits in two) gets one error that says so, not one per
// shifted column; extra empty cells at the end are fine.
func TestRowWidth(t *testing.T) {
	data := header +
		"张三,6222020200112233445,1,000.00,HPT00003,,上海,上海\n" +
		"李四,6222020200112233446,\"1,000.00\",HPT00003,,上海,上海\n" +
		"王五,6222020200112233447,100,HPT00003,,上海\n" +
		"赵六,6222020200112233448,100,HPT00003,,上海,上海,,\n"
	_, rows, err := parseAll(t, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
	for i, want := range []string{"Row 2: It has 8 cells but the header has 7.", "", "Row 4: It has 6 cells but the header has 7.", ""} {
		r := rows[i]
		switch {
		case want == "" && len(r.Errors) > 0:
			t.Errorf("row %d: errors %q", r.RowNo, r.Errors)
		case want != "" && (len(r.Errors) != 1 || !strings.HasPrefix(text(r.Errors[0]), want) || !strings.Contains(text(r.Errors[0]), "1,000")):
			t.Errorf("row %d: errors %q, want one starting %q that names the likely cause", r.RowNo, r.Errors, want)
		}
	}
	if rows[1].Amount != 100000 {
		t.Errorf("the quoted amount: %d fen", rows[1].Amount)
	}
}

func TestIsScientific(t *testing.T) {
	for s, want := range map[string]bool{"6.22202E+18": true, "6.22202e18": true, "1E5": true, "6222020200112233445": false, "E5": false, "6.2E": false, "abcE+1": false} {
		if got := IsScientific(s); got != want {
			t.Errorf("IsScientific(%q) = %v", s, got)
		}
	}
}

func TestDuplicatesInFile(t *testing.T) {
	data := header +
		"张三,6222020200112233445,100,HPT00003,,上海,上海\n" +
		"张三,6222020200112233445,100.00,HPT00003,,上海,上海\n" +
		"张三,6222020200112233445,200,HPT00003,,上海,上海\n"
	_, rows, err := parseAll(t, []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows[0].Warnings) != 0 || len(rows[2].Warnings) != 0 {
		t.Errorf("unexpected warnings: %v / %v", rows[0].Warnings, rows[2].Warnings)
	}
	if len(rows[1].Warnings) != 1 || !strings.Contains(text(rows[1].Warnings[0]), "same account number and amount as row 2") {
		t.Errorf("row 3 warnings %v", rows[1].Warnings)
	}
}

func TestFileErrors(t *testing.T) {
	tests := []struct {
		name, data, part string
	}{
		{"empty", "", "empty"},
		{"no rows", header, "no payout rows"},
		{"missing columns", "name,amount\nA,1\n", "no column for: 账号/account_no"},
		{"bad quote", header + "\"张三,6222,1,HPT00001,,a,b\n", "quote"},
		{"twice", "账户名,account_name,账号,金额,银行代码,省份,城市\n", "same column twice"},
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00rest of a zip", "Excel workbook"},
		{"xls", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1rest", "Excel workbook"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := parseAll(t, []byte(tt.data))
			var fe *FileError
			if !errors.As(err, &fe) || !strings.Contains(fe.Msg.String(), tt.part) {
				t.Fatalf("error %v, want a FileError containing %q", err, tt.part)
			}
		})
	}
}

func TestRowLimit(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(header)
	for i := 0; i < MaxRows; i++ {
		fmt.Fprintf(&b, "张三,62220202%011d,1.00,HPT00003,,上海,上海\n", i)
	}
	sum, _, err := parseAll(t, b.Bytes())
	if err != nil || sum.Rows != MaxRows {
		t.Fatalf("%d rows: %v (rows %d)", MaxRows, err, sum.Rows)
	}
	b.WriteString("张三,6222020299999999999,1.00,HPT00003,,上海,上海\n")
	_, _, err = parseAll(t, b.Bytes())
	if !errors.Is(err, ErrTooManyRows) || !strings.Contains(err.Error(), "more than 100000 payout rows") {
		t.Fatalf("%d rows: error %v, want too many rows", MaxRows+1, err)
	}
}

func TestTemplateRoundTrip(t *testing.T) {
	var b bytes.Buffer
	if err := WriteTemplate(&b); err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b.Bytes(), []byte(BOM)) || !bytes.Contains(b.Bytes(), []byte("\r\n")) {
		t.Fatalf("template lacks BOM or CRLF: %q", b.String())
	}
	// The example row as downloaded is a note: it pays nothing.
	if _, rows, err := parseAll(t, b.Bytes()); err == nil || len(rows) != 0 || !strings.Contains(err.Error(), "no payout rows") {
		t.Fatalf("the untouched example row: %v %+v", err, rows)
	}
	// Without its marker it is a clean payout.
	filled := bytes.Replace(b.Bytes(), []byte(ExamplePrefix), nil, 1)
	sum, rows, err := parseAll(t, filled)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Encoding != EncodingUTF8BOM || len(rows) != 1 || len(rows[0].Errors) != 0 || rows[0].AccountName != "张三" {
		t.Fatalf("template does not read back cleanly: %+v %+v", sum, rows)
	}
	if r := rows[0]; r.AccountNo != "6222020200112233445" || r.Amount != 123450 || r.BankCode != "HPT00003" {
		t.Fatalf("template row %+v", r)
	}
}

// Rows whose first cell starts with # are notes: not counted, not errors,
// wherever they are in the file.
func TestCommentRowsSkipped(t *testing.T) {
	file := "account_name,account_no,amount,bank_code,province,city\n" +
		"#示例 张三,6222020200112233445,1.00,HPT00003,上海,上海\n" +
		"李四,6222020200112233446,2.00,HPT00003,上海,上海\n" +
		"  ＃ note,,,,,\n" +
		"#,bad,bad,bad,,\n"
	sum, rows, err := parseAll(t, []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Rows != 1 || sum.ErrorRows != 0 || len(rows) != 1 || rows[0].AccountName != "李四" || rows[0].RowNo != 3 {
		t.Fatalf("summary %+v rows %+v", sum, rows)
	}
}

// An error row keeps its cells as read, in the template's order, whatever
// the order of the file's columns.
func TestErrorRowKeepsCells(t *testing.T) {
	file := "amount,city,province,bank_code,account_no,account_name,extra\n" +
		"1.2.3,上海,上海,HPT00003,\t6222020200112233445,王五,x\n"
	_, rows, err := parseAll(t, []byte(file))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(rows[0].Errors) == 0 {
		t.Fatalf("rows %+v", rows)
	}
	c := rows[0].Cells
	if len(c) != len(Columns()) || c[ColumnIndex("account_name")] != "王五" || c[ColumnIndex("account_no")] != "6222020200112233445" ||
		c[ColumnIndex("amount")] != "1.2.3" || c[ColumnIndex("bank_code")] != "HPT00003" || c[ColumnIndex("param1")] != "" {
		t.Fatalf("cells %q", c)
	}
}

func TestExcelText(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2":                "'=1+2",
		"+86":                 "'+86",
		"-5":                  "'-5",
		"@SUM(A1)":            "'@SUM(A1)",
		"6222020200112233445": "\t6222020200112233445",
		"张三":                  "张三",
		"12345":               "12345",
		" =1+2":               "' =1+2",
		"\t=1+2":              "'\t=1+2",
		"\r\n+1":              "'\r\n+1",
		"\n-1":                "'\n-1",
		"   @A1":              "'   @A1",
		"a=1":                 "a=1",
		"  ":                  "  ",
		"\tplain":             "'\tplain",
		"\xff=1":              "\ufffd=1",
	} {
		if got := ExcelText(in); got != want {
			t.Errorf("ExcelText(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestBankByNameAndConflicts(t *testing.T) {
	row := CheckOne(map[string]string{"account_name": "A", "account_no": "6222", "amount": "1", "bank_name": "浙江稠州商业银行", "province": "浙江", "city": "义乌"})
	if len(row.Errors) > 0 || row.BankCode != "HPT00034" || len(row.Warnings) != 1 {
		t.Fatalf("bank by a name with two codes: %+v", row)
	}
	row = CheckOne(map[string]string{"account_name": "A", "account_no": "6222", "amount": "1", "bank_code": "HPT00001", "bank_name": "招商银行", "province": "x", "city": "y"})
	if len(row.Errors) != 1 || !strings.Contains(text(row.Errors[0]), "HPT00001 is 中国银行") {
		t.Fatalf("code and name disagree: %v", row.Errors)
	}
}

func BenchmarkParse100k(b *testing.B) {
	var file bytes.Buffer
	file.WriteString(header)
	for i := 0; i < MaxRows; i++ {
		fmt.Fprintf(&file, "收款人%d,62220202%011d,\"%d,%03d.%02d\",HPT%05d,中国建设银行上海分行,上海,上海\n", i, i, 1+i%9, i%1000, i%100, 1+i%97)
	}
	for _, enc := range []string{"utf8", "gbk"} {
		data := file.Bytes()
		if enc == "gbk" {
			data, _ = simplifiedchinese.GBK.NewEncoder().Bytes(data)
		}
		b.Run(enc, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			for i := 0; i < b.N; i++ {
				sum, err := Parse(bytes.NewReader(data), func(*Row) error { return nil })
				if err != nil || sum.ValidRows != MaxRows {
					b.Fatal(sum, err)
				}
			}
		})
	}
}

// A control character in any column makes the row an error naming the
// column, and nothing else is said about the row.
func TestControlCharacters(t *testing.T) {
	base := map[string]string{"account_name": "张三", "account_no": "6222020200112233445", "amount": "1.00", "bank_code": "HPT00003",
		"bank_name": "中国建设银行", "branch": "上海分行", "province": "上海", "city": "上海", "account_type": "1", "account_attr": "0",
		"bank_type": "102", "param1": "a", "param2": "b", "mch_trans_order_no": "N1"}
	if row := CheckOne(base); len(row.Errors) > 0 {
		t.Fatalf("base row: %v", row.Errors)
	}
	for _, c := range Columns() {
		for _, bad := range []string{"\x00", "\x1b", "\x7f", "\u0085", "\n", "\t"} {
			f := make(map[string]string)
			for k, v := range base {
				f[k] = v
			}
			f[c.Key] = "1" + bad + "2"
			row := CheckOne(f)
			want := []string{"Row 1: " + c.Name + " contains a control character; remove it."}
			if d := cmp.Diff(want, texts(row.Errors)); d != "" {
				t.Errorf("%s with %q (-want +got):\n%s", c.Key, bad, d)
			}
			if !strings.HasSuffix(text(row.FieldErrors[c.Key]), "contains a control character; remove it.") {
				t.Errorf("%s with %q: field error %q", c.Key, bad, row.FieldErrors[c.Key])
			}
		}
	}
	_, rows, err := parseAll(t, []byte(header+"张\x00三,6222020200112233445,1.00,HPT00003,,上海,上海\n李四,6222020200112233446,1.00,HPT00003,,上海,上海\n"))
	if err != nil || len(rows) != 2 || len(rows[0].Errors) != 1 || len(rows[1].Errors) != 0 {
		t.Fatalf("file with a NUL: %v %+v", err, rows)
	}
}

func TestHasControl(t *testing.T) {
	for _, tt := range []struct {
		s         string
		multiLine bool
		want      bool
	}{
		{"张三 Zhang", false, false},
		{"", false, false},
		{"a\x00", false, true},
		{"a\u009f", false, true},
		{"a\u00a0", false, false}, // no-break space is text
		{"a\nb", true, false},
		{"a\r\nb", true, false},
		{"a\rb", true, true},
		{"a\r", true, true},
		{"a\nb", false, true},
		{"\xff\xfe", false, false}, // not text, but not control characters: the encoding check's business
	} {
		if got := HasControl(tt.s, tt.multiLine); got != tt.want {
			t.Errorf("HasControl(%q, %v) = %v, want %v", tt.s, tt.multiLine, got, tt.want)
		}
	}
}

// text is a message in English, as the tests read it.
func text(m i18n.Message) string { return m.String() }

func texts(ms []i18n.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.String())
	}
	return out
}
