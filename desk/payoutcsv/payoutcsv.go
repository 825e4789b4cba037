// Package payoutcsv reads payout batches from CSV files as staff prepare
// them in Excel: UTF-8 with or without BOM or GBK, CRLF or LF, quoted
// fields, Chinese or English header names. It streams: rows are handed to
// a callback one at a time, so a file of 100,000 rows needs little memory.
// Every problem with a row is a sentence staff can act on, prefixed with
// the row number Excel shows (the header is row 1).
package payoutcsv

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"paydesk/internal/i18n"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"
)

// Limits of one file.
const (
	MaxRows  = 100_000  // data rows, header not counted
	MaxBytes = 32 << 20 // 32 MiB
)

// Encodings a file may be in.
const (
	EncodingUTF8    = "UTF-8"
	EncodingUTF8BOM = "UTF-8 with BOM"
	EncodingGBK     = "GBK"
)

// FileError is a problem with the whole file: nothing of it is kept.
type FileError struct {
	Msg i18n.Message
	Err error // a sentinel such as ErrTooManyRows, or nil
}

func (e *FileError) Error() string { return e.Msg.String() }

// Unwrap returns the sentinel, if any.
func (e *FileError) Unwrap() error { return e.Err }

// ErrTooManyRows is wrapped by the FileError for a file above MaxRows.
var ErrTooManyRows = errors.New("too many rows")

func fileErr(format string, args ...any) error {
	return &FileError{Msg: i18n.M(format, args...)}
}

// Row is one data row of the file, checked. A row with Errors must not
// become a payout; Warnings are for a person to look at.
type Row struct {
	RowNo           int // as Excel numbers it: the header is row 1
	MchTransOrderNo string
	Amount          int64 // fen
	AccountName     string
	AccountNo       string
	BankCode        string
	BankName        string // the name the code stands for
	Branch          string // 开户行名称 as sent to the gateway; BankName when empty
	Province        string
	City            string
	AccountType     string // "1".."4"
	AccountAttr     string // "0" personal, "1" corporate
	BankType        string
	Param1          string
	Param2          string
	Errors          []i18n.Message
	FieldErrors     map[string]i18n.Message // column key → the first error about it, without the row number
	Warnings        []i18n.Message
	Raw             string // the row as read, for showing an error row
	// Cells are an error row's cells as read, in the order of Columns, so
	// that the row can be written back into a file to fix (nil for rows
	// without errors: TemplateCells rebuilds them).
	Cells []string
}

// TemplateCells is the row in the order of Columns: the cells as read for
// a row with errors, else its checked values.
func (r *Row) TemplateCells() []string {
	if r.Cells != nil {
		return r.Cells
	}
	amount := ""
	if r.Amount != 0 {
		amount = fmt.Sprintf("%d.%02d", r.Amount/100, r.Amount%100)
	}
	byKey := map[string]string{colAccountName: r.AccountName, colAccountNo: r.AccountNo, colAmount: amount, colBankCode: r.BankCode,
		colBankName: r.BankName, colBranch: r.Branch, colProvince: r.Province, colCity: r.City, colAccountType: r.AccountType,
		colAccountAttr: r.AccountAttr, colBankType: r.BankType, colParam1: r.Param1, colParam2: r.Param2, colMchNo: r.MchTransOrderNo}
	all := Columns()
	cells := make([]string, len(all))
	for i, c := range all {
		cells[i] = byKey[c.Key]
	}
	return cells
}

// ColumnIndex is the position of the column key in Columns, or -1.
func ColumnIndex(key string) int {
	for i, c := range Columns() {
		if c.Key == key {
			return i
		}
	}
	return -1
}

// Headers are the template's header cells, in order.
func Headers() []string {
	var h []string
	for _, c := range Columns() {
		h = append(h, c.Header)
	}
	return h
}

// ErrorHeader heads the column of the errors file that says what is wrong
// with each row; the reader ignores it when the file comes back.
const ErrorHeader = "错误/error"

// comment reports whether a row is a note, not a payout: its first cell
// starts with # (the template's example row is one).
func comment(rec []string) bool {
	if len(rec) == 0 {
		return false
	}
	c := strings.TrimLeft(rec[0], " \t\u3000\ufeff")
	return strings.HasPrefix(c, "#") || strings.HasPrefix(c, "＃")
}

// Summary tells what was read.
type Summary struct {
	Encoding    string
	Rows        int   // data rows read (blank rows skipped)
	ValidRows   int   // rows without errors
	ErrorRows   int   // rows with at least one error
	WarningRows int   // rows with warnings
	Total       int64 // fen, over valid rows
}

// Column keys.
const (
	colAccountName = "account_name"
	colAccountNo   = "account_no"
	colAmount      = "amount"
	colBankCode    = "bank_code"
	colBankName    = "bank_name"
	colBranch      = "branch"
	colProvince    = "province"
	colCity        = "city"
	colAccountType = "account_type"
	colAccountAttr = "account_attr"
	colBankType    = "bank_type"
	colParam1      = "param1"
	colParam2      = "param2"
	colMchNo       = "mch_trans_order_no"
)

// Column is one column of the template: its key, the Chinese name and the
// header text the template uses.
type Column struct {
	Key, Chinese, Header, Example, Help string
	Required                            bool
	Name                                string // in a sentence: "the account name"
}

// Columns lists the template's columns in order, with the help text the
// README and the upload page show.
func Columns() []Column {
	return []Column{
		{colAccountName, "账户名", "账户名/account_name", "张三", i18n.N("Account holder's name, up to 64 characters."), true, i18n.N("the account name")},
		{colAccountNo, "账号", "账号/account_no", "6222020200112233445", i18n.N("Account number (bank card: digits only, spaces ignored). Format the column as Text in Excel."), true, i18n.N("the account number")},
		{colAmount, "金额", "金额(元)/amount", "1,234.50", i18n.N("Amount in yuan, at most two decimals: 100, 0.5, 1,234.50."), true, i18n.N("the amount")},
		{colBankCode, "银行代码", "银行代码/bank_code", "HPT00003", i18n.N("Bank code HPT00001–HPT00097. Give this or the bank name."), false, i18n.N("the bank code")},
		{colBankName, "银行名称", "银行名称/bank_name", "中国建设银行", i18n.N("Exact bank name from the code list; used when there is no bank code."), false, i18n.N("the bank name")},
		{colBranch, "开户支行", "开户支行/branch", "中国建设银行上海分行", i18n.N("Branch name sent to the gateway; the bank name when empty."), false, i18n.N("the branch name")},
		{colProvince, "省份", "省份/province", "上海", i18n.N("Province of the account's bank."), true, i18n.N("the province")},
		{colCity, "城市", "城市/city", "上海", i18n.N("City of the account's bank."), true, i18n.N("the city")},
		{colAccountType, "账户类型", "账户类型/account_type", "1", i18n.N("1 bank card (default), 2 WeChat, 3 Alipay, 4 other."), false, i18n.N("the account type")},
		{colAccountAttr, "对公对私", "对公对私/account_attr", "0", i18n.N("0 personal (default), 1 corporate."), false, i18n.N("the personal or corporate column")},
		{colBankType, "联行号", "联行号/bank_type", "", i18n.N("Optional interbank number (digits)."), false, i18n.N("the interbank number")},
		{colParam1, "扩展参数1", "扩展参数1/param1", "", i18n.N("Optional, returned by the gateway as is; up to 64 characters."), false, i18n.N("param1")},
		{colParam2, "扩展参数2", "扩展参数2/param2", "", i18n.N("Optional, returned by the gateway as is; up to 64 characters."), false, i18n.N("param2")},
		{colMchNo, "商户代付单号", "商户代付单号/mch_trans_order_no", "", i18n.N("Optional merchant payout number (letters, digits, - and _, up to 30); generated when empty. Never reused."), false, i18n.N("the merchant payout number")},
	}
}

// aliases maps normalised header names to column keys.
func aliases() map[string]string {
	return map[string]string{
		"账户名": colAccountName, "户名": colAccountName, "收款人": colAccountName, "收款人姓名": colAccountName, "收款户名": colAccountName, "姓名": colAccountName,
		"accountname": colAccountName, "name": colAccountName, "payee": colAccountName,
		"账号": colAccountNo, "账户号": colAccountNo, "卡号": colAccountNo, "银行卡号": colAccountNo, "银行账号": colAccountNo, "收款账号": colAccountNo,
		"accountno": colAccountNo, "accountnumber": colAccountNo, "account": colAccountNo,
		"金额": colAmount, "代付金额": colAmount, "amount": colAmount, "amountyuan": colAmount,
		"银行代码": colBankCode, "bankcode": colBankCode,
		"银行名称": colBankName, "银行": colBankName, "bankname": colBankName, "bank": colBankName,
		"开户支行": colBranch, "支行": colBranch, "支行名称": colBranch, "开户行": colBranch, "开户行名称": colBranch, "branch": colBranch, "branchname": colBranch,
		"省份": colProvince, "省": colProvince, "开户行所在省份": colProvince, "province": colProvince,
		"城市": colCity, "市": colCity, "开户行所在市": colCity, "city": colCity,
		"账户类型": colAccountType, "accounttype": colAccountType,
		"对公对私": colAccountAttr, "账户属性": colAccountAttr, "accountattr": colAccountAttr,
		"联行号": colBankType, "banktype": colBankType,
		"扩展参数1": colParam1, "param1": colParam1,
		"扩展参数2": colParam2, "param2": colParam2,
		"商户代付单号": colMchNo, "商户订单号": colMchNo, "商户代付订单号": colMchNo, "mchtransorderno": colMchNo, "payoutno": colMchNo,
	}
}

// normalise lowers a header cell and drops spaces, separators, a required
// marker and anything in brackets: "金额（元）*" → "金额".
func normalise(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range strings.ToLower(s) {
		switch r {
		case '(', '（', '[', '【':
			depth++
		case ')', '）', ']', '】':
			if depth > 0 {
				depth--
			}
		case ' ', '\t', '_', '-', '*', '\ufeff', '\u3000', ':', '：':
		default:
			if depth == 0 {
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// headerKey maps one header cell to a column key: the whole cell, or any
// part of it split at "/" (the template's "账户名/account_name").
func headerKey(cell string, al map[string]string) string {
	if k, ok := al[normalise(cell)]; ok {
		return k
	}
	for _, part := range strings.FieldsFunc(cell, func(r rune) bool { return r == '/' || r == '|' || r == '\n' }) {
		if k, ok := al[normalise(part)]; ok {
			return k
		}
	}
	return ""
}

// scan is what detect learns about a file's bytes.
type scan struct {
	utf8 bool // the whole file is valid UTF-8
	// For a file that is not: valid UTF-8 sequences of three or four bytes
	// (CJK text is three) and bytes that start no valid sequence.
	long, invalid int
}

// mostlyUTF8 tells a UTF-8 file with a few stray bytes from a GBK file.
// GBK text makes valid three-byte UTF-8 sequences only by accident: about
// one for every fifty invalid bytes in long files, and in short ones
// (a name or two) never twice as many as invalid bytes in two hundred
// thousand random trials. UTF-8 text with Chinese names has one for every
// character and an invalid byte only where the file was damaged.
func (sc scan) mostlyUTF8() bool {
	return sc.long >= 2*sc.invalid
}

// detect reads r to the end, refusing files above MaxBytes, and tells
// whether it is valid UTF-8; when it is not, it reads it again from the
// start to count what kind of bytes it has.
func detect(r io.ReadSeeker) (scan, error) {
	sc := scan{utf8: true}
	tally := false // counting, after the first invalid chunk
	buf := make([]byte, 64<<10+utf8.UTFMax)
	carry, total := 0, int64(0)
	for {
		n, rerr := r.Read(buf[carry : carry+64<<10])
		total += int64(n)
		if total > MaxBytes {
			return sc, fileErr("The file is larger than %d MiB. Split it into smaller files (at most %d rows each).", MaxBytes>>20, MaxRows)
		}
		data := buf[:carry+n]
		cut := len(data)
		if rerr == nil {
			for i := len(data) - 1; i >= 0 && i >= len(data)-utf8.UTFMax; i-- {
				if utf8.RuneStart(data[i]) {
					if !utf8.FullRune(data[i:]) {
						cut = i
					}
					break
				}
			}
		}
		switch {
		case tally:
			sc.count(data[:cut])
		case !utf8.Valid(data[:cut]):
			// Count from the start: the chunks before were valid and gone.
			if _, err := r.Seek(0, io.SeekStart); err != nil {
				return sc, err
			}
			sc.utf8, tally = false, true
			carry, total = 0, 0
			continue
		}
		carry = copy(buf, data[cut:])
		if rerr == io.EOF {
			return sc, nil
		}
		if rerr != nil {
			return sc, rerr
		}
	}
}

// count adds b's long UTF-8 sequences and invalid bytes to sc.
func (sc *scan) count(b []byte) {
	for i := 0; i < len(b); {
		if i+8 <= len(b) && binary.LittleEndian.Uint64(b[i:])&0x8080808080808080 == 0 {
			i += 8 // eight ASCII bytes
			continue
		}
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			sc.invalid++
		case n >= 3:
			sc.long++
		}
		i += n
	}
}

// Parse reads a payout CSV from r and calls fn for every data row, in
// order. A *FileError means the file as a whole is refused (no header, a
// broken quote, bytes that are not text, too many rows, too large); rows
// already handed to fn must then be discarded. An error from fn stops the
// reading and is returned.
//
// A file that is valid UTF-8 is read as UTF-8. One that is not is read as
// GBK, unless it is mostly UTF-8 with a few stray bytes (then it is refused,
// naming the rows with those bytes, rather than read with every name
// garbled), or has bytes that GBK does not take either (refused the same
// way).
func Parse(r io.ReadSeeker, fn func(*Row) error) (Summary, error) {
	var sum Summary
	sc, err := detect(r)
	if err != nil {
		return sum, err
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return sum, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if b, _ := br.Peek(8); bytes.HasPrefix(b, []byte("PK\x03\x04")) || bytes.HasPrefix(b, []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1")) {
		return sum, fileErr("This is an Excel workbook, not a CSV file. In Excel choose File → Save As → \"CSV UTF-8 (Comma delimited)\" (or \"CSV\"), and upload that file.")
	}
	var in io.Reader = br
	switch {
	case sc.utf8 || sc.mostlyUTF8():
		sum.Encoding = EncodingUTF8
		if b, _ := br.Peek(3); string(b) == "\xef\xbb\xbf" {
			br.Discard(3)
			sum.Encoding = EncodingUTF8BOM
		}
	default:
		sum.Encoding = EncodingGBK
		in = transform.NewReader(br, simplifiedchinese.GBK.NewDecoder())
	}
	// The GBK decoder turns bytes that are not GBK into U+FFFD, which GBK
	// cannot encode: U+FFFD in a field means the file is not GBK either.
	// Records are looked at only once the decoded stream has shown one.
	watch := &replacementWatch{r: in}
	if sum.Encoding == EncodingGBK {
		in = watch
	}
	cr := csv.NewReader(in)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true

	if !sc.utf8 && sc.mostlyUTF8() {
		return sum, notText(cr, 1, nil, invalidUTF8, "The file is UTF-8 but row %d contains bytes that are not text. Save it again as UTF-8 (or as GBK) and upload it again.",
			"The file is UTF-8 but rows %s contain bytes that are not text. Save it again as UTF-8 (or as GBK) and upload it again.")
	}
	notGBK := func(rowNo int) error {
		return notText(cr, rowNo+1, []int{rowNo}, hasReplacement, "The file is neither UTF-8 nor GBK: row %d contains bytes that are not text in either. Save it again as UTF-8 (or as GBK) and upload it again.",
			"The file is neither UTF-8 nor GBK: rows %s contain bytes that are not text in either. Save it again as UTF-8 (or as GBK) and upload it again.")
	}

	head, err := cr.Read()
	if err == io.EOF {
		return sum, fileErr("The file is empty. Download the template, fill in one row per payout, and upload it again.")
	}
	if err != nil {
		return sum, csvErr(err)
	}
	if watch.seen && hasReplacement(head) {
		return sum, notGBK(1)
	}
	cols, err := mapHeader(head)
	if err != nil {
		return sum, err
	}
	width := len(head)

	// Reading and checking the rows takes about as long as storing them:
	// one goroutine reads and checks while the caller's stores, so that a
	// second core shares the work. fn still sees the rows one at a time,
	// in order, in the caller's goroutine.
	chunks := make(chan []*Row, 4)
	stop := make(chan struct{})
	var read Summary // the reader's, complete once chunks is closed
	var readErr error
	var panicked any
	go func() {
		defer close(chunks)
		defer func() { panicked = recover() }()
		read, readErr = readRows(cr, watch, cols, width, notGBK, chunks, stop)
	}()
	var fnErr error
	for chunk := range chunks {
		for _, row := range chunk {
			if fnErr == nil {
				fnErr = fn(row)
				if fnErr != nil {
					close(stop) // and wait for the reader to see it
				}
			}
		}
	}
	if panicked != nil {
		panic(panicked)
	}
	read.Encoding = sum.Encoding
	if fnErr != nil {
		return read, fnErr
	}
	if readErr != nil {
		return read, readErr
	}
	if read.Rows == 0 {
		return read, fileErr("The file has a header but no payout rows.")
	}
	return read, nil
}

// rowChunk is how many rows readRows hands over at a time.
const rowChunk = 256

// readRows reads and checks the data rows from cr and sends them to out in
// chunks until the file ends, it is refused, or stop is closed.
func readRows(cr *csv.Reader, watch *replacementWatch, cols map[string]int, width int, notGBK func(int) error, out chan<- []*Row, stop <-chan struct{}) (Summary, error) {
	var sum Summary
	v := newValidator()
	v.width = width
	chunk := make([]*Row, 0, rowChunk)
	send := func() bool {
		select {
		case out <- chunk:
			chunk = make([]*Row, 0, rowChunk)
			return true
		case <-stop:
			return false
		}
	}
	rowNo := 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return sum, csvErr(err)
		}
		rowNo++
		if watch.seen && hasReplacement(rec) {
			return sum, notGBK(rowNo)
		}
		if blank(rec) || comment(rec) {
			continue
		}
		sum.Rows++
		if sum.Rows > MaxRows {
			return sum, &FileError{Err: ErrTooManyRows,
				Msg: i18n.M("The file has more than %d payout rows. Split it into files of at most %d rows each and upload them one by one.", MaxRows, MaxRows)}
		}
		row := v.check(rowNo, rec, cols)
		if len(row.Errors) > 0 {
			sum.ErrorRows++
		} else {
			sum.ValidRows++
			sum.Total += row.Amount
		}
		if len(row.Warnings) > 0 {
			sum.WarningRows++
		}
		if chunk = append(chunk, row); len(chunk) == rowChunk && !send() {
			return sum, nil
		}
	}
	if len(chunk) > 0 {
		send()
	}
	return sum, nil
}

// replacementWatch reads r and notes whether it has given U+FFFD.
type replacementWatch struct {
	r    io.Reader
	seen bool
	tail [2]byte // the last two bytes read, for a U+FFFD split between reads
}

func (w *replacementWatch) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	if !w.seen && n > 0 {
		fffd := []byte("\xef\xbf\xbd")
		var edge [4]byte
		copy(edge[:], w.tail[:])
		k := 2 + copy(edge[2:], p[:n])
		w.seen = bytes.Contains(p[:n], fffd) || bytes.Contains(edge[:k], fffd)
		if n >= 2 {
			copy(w.tail[:], p[n-2:n])
		} else {
			w.tail = [2]byte{w.tail[1], p[0]}
		}
	}
	return n, err
}

func invalidUTF8(rec []string) bool {
	for _, f := range rec {
		if !utf8.ValidString(f) {
			return true
		}
	}
	return false
}

func hasReplacement(rec []string) bool {
	for _, f := range rec {
		if strings.ContainsRune(f, utf8.RuneError) {
			return true
		}
	}
	return false
}

// notText refuses the file, naming the rows in which bad finds bytes that
// are not text: found, those known already, and those from row next on,
// which cr reads next. one and many are the sentences for one row and for
// more.
func notText(cr *csv.Reader, next int, found []int, bad func([]string) bool, one, many string) error {
	const shown = 10
	rows := found
	more := 0
	for rowNo := next; ; rowNo++ {
		rec, err := cr.Read()
		if err != nil {
			break // a broken quote after the bad bytes: what was found is named
		}
		if !bad(rec) {
			continue
		}
		if len(rows) < shown {
			rows = append(rows, rowNo)
		} else {
			more++
		}
	}
	switch len(rows) {
	case 0: // the bytes are where a broken quote kept them from being read
		return fileErr("The file has bytes that are not text. Save it again as UTF-8 (or as GBK) and upload it again.")
	case 1:
		return fileErr(one, rows[0])
	}
	return fileErr(many, rowList(rows, more))
}

// rowList writes row numbers as "3", "3 and 17", "3, 5 and 17", or with
// more: "3, 5, 17 and 40 more".
func rowList(rows []int, more int) string {
	var b strings.Builder
	for i, n := range rows {
		switch {
		case i == 0:
		case i == len(rows)-1 && more == 0:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(strconv.Itoa(n))
	}
	if more > 0 {
		fmt.Fprintf(&b, " and %d more", more)
	}
	return b.String()
}

func csvErr(err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		what := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			what = "a quote mark is misplaced (a field with a comma or a quote must be wholly in double quotes, and a quote inside it written twice)"
		}
		return fileErr("The file could not be read at line %d: %s. Save it again from Excel as CSV and upload it again.", pe.Line, what)
	}
	return fileErr("The file could not be read: %v.", err)
}

func mapHeader(head []string) (map[string]int, error) {
	al := aliases()
	cols := make(map[string]int)
	for i, cell := range head {
		k := headerKey(cell, al)
		if k == "" {
			continue
		}
		if j, dup := cols[k]; dup {
			return nil, fileErr("The header names the same column twice (%q in column %d and %q in column %d). Keep one of them.", head[j], j+1, cell, i+1)
		}
		cols[k] = i
	}
	var missing []string
	for _, c := range Columns() {
		if _, ok := cols[c.Key]; c.Required && !ok {
			missing = append(missing, c.Header)
		}
	}
	_, code := cols[colBankCode]
	_, name := cols[colBankName]
	if !code && !name {
		missing = append(missing, "银行代码/bank_code or 银行名称/bank_name")
	}
	if len(missing) > 0 {
		return nil, fileErr("The first row must be the header, and it has no column for: %s. Download the template to see the column names.", strings.Join(missing, ", "))
	}
	return cols, nil
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
