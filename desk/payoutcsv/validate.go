package payoutcsv

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"paydesk/internal/i18n"
	"paydesk/internal/money"
	"paydesk/payments"
)

// validator checks rows one by one and remembers what it needs to warn
// about repeats within the file.
type validator struct {
	byCode  map[string]string   // code → name
	byName  map[string][]string // name → codes
	twins   map[string]int      // account number + amount → first row
	numbers map[string]int      // merchant payout number → row
	names   map[string]string   // column key → its name in a sentence (a message key)
	width   int                 // cells of the header; 0: any number
}

func newValidator() *validator {
	v := &validator{
		byCode:  make(map[string]string),
		byName:  make(map[string][]string),
		twins:   make(map[string]int),
		numbers: make(map[string]int),
		names:   make(map[string]string),
	}
	for _, c := range Columns() {
		v.names[c.Key] = c.Name
	}
	for _, b := range payments.Banks() {
		v.byCode[b.Code] = b.Name
		v.byName[b.Name] = append(v.byName[b.Name], b.Code)
	}
	return v
}

func field(rec []string, cols map[string]int, key string) string {
	i, ok := cols[key]
	if !ok || i >= len(rec) {
		return ""
	}
	return strings.TrimSpace(rec[i])
}

// HasControl reports whether s has a control character (U+0000–U+001F,
// U+007F–U+009F): invisible, they end up in the gateway's signature, in
// logs and in exported files. In multi-line text a line break (\n or
// \r\n) is allowed.
func HasControl(s string, multiLine bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x20 && c < 0x7f:
			continue
		case c < 0x20:
			if multiLine && (c == '\n' || c == '\r' && i+1 < len(s) && s[i+1] == '\n') {
				continue
			}
			return true
		case c == 0x7f:
			return true
		case c == 0xc2 && i+1 < len(s) && s[i+1] >= 0x80 && s[i+1] <= 0x9f:
			return true // U+0080–U+009F
		}
	}
	return false
}

// IsScientific reports whether s looks like a number Excel turned into
// scientific notation, such as 6.22202E+18.
func IsScientific(s string) bool {
	mant, exp, ok := strings.Cut(strings.ToUpper(s), "E")
	if !ok || mant == "" || exp == "" {
		return false
	}
	exp = strings.TrimPrefix(strings.TrimPrefix(exp, "+"), "-")
	whole, frac, _ := strings.Cut(mant, ".")
	return digits(whole) && (frac == "" || digits(frac)) && digits(exp)
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// ValidMchNo reports whether a merchant payout number has an acceptable
// form: 1–30 letters, digits, '-' or '_'.
func ValidMchNo(s string) bool {
	if s == "" || len(s) > 30 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// AccountType maps what staff write to the gateway's accountType.
func AccountType(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "1", "银行卡", "bank", "bank card", "card":
		return "1", true
	case "2", "微信", "wechat":
		return "2", true
	case "3", "支付宝", "alipay":
		return "3", true
	case "4", "其他", "其它", "other":
		return "4", true
	}
	return "", false
}

// AccountAttr maps what staff write to the gateway's accountAttr.
func AccountAttr(s string) (string, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "0", "对私", "私", "个人", "personal", "private":
		return "0", true
	case "1", "对公", "公", "企业", "corporate", "company":
		return "1", true
	}
	return "", false
}

func (v *validator) check(rowNo int, rec []string, cols map[string]int) *Row {
	r := &Row{RowNo: rowNo}
	if v.width > 0 && !fits(rec, v.width) {
		// Every column after the first extra or missing cell is shifted:
		// one error that says why, not one per shifted column.
		r.Errors = append(r.Errors, i18n.M("Row %s: %s", strconv.Itoa(rowNo), i18n.M("It has %d cells but the header has %d. An amount such as 1,000 written without quotes splits into two cells: put amounts with thousands separators in quotes (\"1,000.00\"), or save the file from Excel again, which quotes them.", len(rec), v.width)))
		r.Raw = rawRow(rec)
		return r
	}
	bad := func(col string, m i18n.Message) {
		r.Errors = append(r.Errors, i18n.M("Row %s: %s", strconv.Itoa(rowNo), m))
		if r.FieldErrors == nil {
			r.FieldErrors = make(map[string]i18n.Message)
		}
		if _, ok := r.FieldErrors[col]; !ok {
			r.FieldErrors[col] = m
		}
	}
	warn := func(m i18n.Message) {
		r.Warnings = append(r.Warnings, i18n.M("Row %s: %s", strconv.Itoa(rowNo), m))
	}
	r.AccountName = field(rec, cols, colAccountName)
	r.AccountNo = field(rec, cols, colAccountNo)
	amount := field(rec, cols, colAmount)
	code := strings.ToUpper(field(rec, cols, colBankCode))
	name := field(rec, cols, colBankName)
	r.Branch = field(rec, cols, colBranch)
	r.Province = field(rec, cols, colProvince)
	r.City = field(rec, cols, colCity)
	accountType := field(rec, cols, colAccountType)
	accountAttr := field(rec, cols, colAccountAttr)
	r.BankType = field(rec, cols, colBankType)
	r.Param1 = field(rec, cols, colParam1)
	r.Param2 = field(rec, cols, colParam2)
	r.MchTransOrderNo = field(rec, cols, colMchNo)

	for _, f := range [...]struct{ key, value string }{
		{colAccountName, r.AccountName}, {colAccountNo, r.AccountNo}, {colAmount, amount}, {colBankCode, code},
		{colBankName, name}, {colBranch, r.Branch}, {colProvince, r.Province}, {colCity, r.City},
		{colAccountType, accountType}, {colAccountAttr, accountAttr}, {colBankType, r.BankType},
		{colParam1, r.Param1}, {colParam2, r.Param2}, {colMchNo, r.MchTransOrderNo},
	} {
		if HasControl(f.value, false) {
			bad(f.key, i18n.M("%s contains a control character; remove it.", i18n.M(v.names[f.key])))
		}
	}
	if len(r.Errors) > 0 {
		r.Raw, r.Cells = rawRow(rec), templateCells(rec, cols)
		return r
	}

	switch n := utf8.RuneCountInString(r.AccountName); {
	case n == 0:
		bad(colAccountName, i18n.M("The account name is empty."))
	case n > 64:
		bad(colAccountName, i18n.M("The account name is longer than 64 characters."))
	}

	var ok bool
	if r.AccountType, ok = AccountType(accountType); !ok {
		bad(colAccountType, i18n.M("The account type %q is not one of 1 (bank card), 2 (WeChat), 3 (Alipay), 4 (other).", accountType))
	}
	if r.AccountAttr, ok = AccountAttr(accountAttr); !ok {
		bad(colAccountAttr, i18n.M("%q is neither 0 (personal) nor 1 (corporate).", accountAttr))
	}

	switch {
	case r.AccountNo == "":
		bad(colAccountNo, i18n.M("The account number is empty."))
	case IsScientific(r.AccountNo):
		bad(colAccountNo, i18n.M("The account number %s was turned into scientific notation by Excel and its last digits are lost. In Excel, format the account number column as Text (or type an apostrophe ' before each number), type the numbers in again, save as CSV and upload again.", r.AccountNo))
	default:
		if r.AccountType == "1" {
			r.AccountNo = strings.Join(strings.Fields(r.AccountNo), "")
			if !digits(r.AccountNo) {
				bad(colAccountNo, i18n.M("The account number %q must have only digits for a bank card.", r.AccountNo))
			}
		}
		if utf8.RuneCountInString(r.AccountNo) > 64 {
			bad(colAccountNo, i18n.M("The account number is longer than 64 characters."))
		}
	}

	if fen, err := money.Parse(amount); err != nil {
		bad(colAmount, AmountProblem(err))
	} else {
		r.Amount = fen
	}

	switch {
	case code != "":
		n, ok := v.byCode[code]
		if !ok {
			bad(colBankCode, i18n.M("The bank code %s does not exist; use a code from HPT00001 to HPT00097 (see the bank list).", code))
			break
		}
		r.BankCode, r.BankName = code, n
		if name != "" && name != n {
			bad(colBankCode, i18n.M("The bank code %s is %s, but the bank name says %s; correct one of them.", code, n, name))
		}
	case name != "":
		codes := v.byName[name]
		switch len(codes) {
		case 0:
			bad(colBankName, i18n.M("The bank name %q is not in the bank list; write it exactly as the list does, or give the bank code.", name))
		default:
			r.BankCode, r.BankName = codes[0], name
			if len(codes) > 1 {
				warn(i18n.M("The bank name %s has the codes %s; %s is used.", name, strings.Join(codes, ", "), codes[0]))
			}
		}
	default:
		bad(colBankCode, i18n.M("The bank is missing: give a bank code (HPT00001–HPT00097) or the exact bank name."))
	}
	if r.Branch == "" {
		r.Branch = r.BankName
	}
	if utf8.RuneCountInString(r.Branch) > 128 {
		bad(colBranch, i18n.M("The branch name is longer than 128 characters."))
	}
	if r.Province == "" {
		bad(colProvince, i18n.M("The province is empty."))
	} else if utf8.RuneCountInString(r.Province) > 32 {
		bad(colProvince, i18n.M("The province is longer than 32 characters."))
	}
	if r.City == "" {
		bad(colCity, i18n.M("The city is empty."))
	} else if utf8.RuneCountInString(r.City) > 32 {
		bad(colCity, i18n.M("The city is longer than 32 characters."))
	}
	if r.BankType != "" && !digits(r.BankType) {
		bad(colBankType, i18n.M("The interbank number %q must have only digits.", r.BankType))
	}
	if utf8.RuneCountInString(r.Param1) > 64 || utf8.RuneCountInString(r.Param2) > 64 {
		bad(colParam1, i18n.M("param1 and param2 may have at most 64 characters."))
	}
	if r.MchTransOrderNo != "" {
		if !ValidMchNo(r.MchTransOrderNo) {
			bad(colMchNo, i18n.M("The merchant payout number %q may have only letters, digits, - and _, at most 30.", r.MchTransOrderNo))
		} else if first, dup := v.numbers[r.MchTransOrderNo]; dup {
			bad(colMchNo, i18n.M("The merchant payout number %s is used already in row %s; every payout needs its own number.", r.MchTransOrderNo, strconv.Itoa(first)))
		} else {
			v.numbers[r.MchTransOrderNo] = rowNo
		}
	}

	if len(r.Errors) == 0 {
		key := r.AccountNo + "\x00" + strconv.FormatInt(r.Amount, 10)
		if first, dup := v.twins[key]; dup {
			warn(i18n.M("The same account number and amount as row %s; check that it is not paid twice.", strconv.Itoa(first)))
		} else {
			v.twins[key] = rowNo
		}
	} else {
		r.Raw, r.Cells = rawRow(rec), templateCells(rec, cols)
	}
	return r
}

// AmountProblem is the sentence saying what is wrong with an amount that
// money.Parse refused.
func AmountProblem(err error) i18n.Message {
	var e *money.Error
	if !errors.As(err, &e) || e.Reason == money.Empty {
		return i18n.M("Enter an amount in yuan, such as 12.50.")
	}
	switch e.Reason {
	case money.Negative:
		return i18n.M("The amount %q is negative; enter an amount above zero.", e.Input)
	case money.Exponent:
		return i18n.M("The amount %q is in scientific notation; write it out in yuan, such as 1000.00.", e.Input)
	case money.Decimals:
		return i18n.M("The amount %q has more than two decimals; amounts are exact to the fen (0.01).", e.Input)
	case money.Separators:
		return i18n.M("The amount %q has thousands separators in the wrong places; put them only between groups of three digits, or leave them out.", e.Input)
	case money.Zero:
		return i18n.M("The amount %q is zero; enter an amount above zero.", e.Input)
	case money.TooLarge:
		return i18n.M("The amount %q is too large.", e.Input)
	}
	return i18n.M("The amount %q is not a number of yuan; type digits, such as 12.50 (¥ and full-width digits are fine).", e.Input)
}

// fits reports whether a row has as many cells as the header: extra
// cells at its end are allowed when they are empty (a sheet with
// formatting to the right of the table).
func fits(rec []string, width int) bool {
	if len(rec) < width {
		return false
	}
	for _, c := range rec[width:] {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

// templateCells is the row's cells as read, in the template's column
// order, so that a row with errors can be given back to be fixed.
func templateCells(rec []string, cols map[string]int) []string {
	all := Columns()
	cells := make([]string, len(all))
	for i, c := range all {
		cells[i] = field(rec, cols, c.Key)
	}
	return cells
}

func rawRow(rec []string) string {
	s := strings.Join(rec, ", ")
	if len(s) > 300 {
		cut := 300
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// CheckOne checks one payout given as column key → value (the keys of
// Columns), as the single-payout form does. RowNo is 1.
func CheckOne(fields map[string]string) *Row {
	cols := make(map[string]int)
	var rec []string
	for k, v := range fields {
		cols[k] = len(rec)
		rec = append(rec, v)
	}
	return newValidator().check(1, rec, cols)
}
