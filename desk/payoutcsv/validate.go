package payoutcsv

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"paydesk/payments"
)

// validator checks rows one by one and remembers what it needs to warn
// about repeats within the file.
type validator struct {
	byCode  map[string]string   // code → name
	byName  map[string][]string // name → codes
	twins   map[string]int      // account number + amount → first row
	numbers map[string]int      // merchant payout number → row
	names   map[string]string   // column key → its name in a sentence
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
	bad := func(col, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		r.Errors = append(r.Errors, fmt.Sprintf("Row %d: ", rowNo)+msg)
		if r.FieldErrors == nil {
			r.FieldErrors = make(map[string]string)
		}
		if _, ok := r.FieldErrors[col]; !ok {
			r.FieldErrors[col] = strings.ToUpper(msg[:1]) + msg[1:] + "."
		}
	}
	warn := func(format string, args ...any) {
		r.Warnings = append(r.Warnings, fmt.Sprintf("Row %d: ", rowNo)+fmt.Sprintf(format, args...))
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
			bad(f.key, "%s contains a control character; remove it", v.names[f.key])
		}
	}
	if len(r.Errors) > 0 {
		r.Raw, r.Cells = rawRow(rec), templateCells(rec, cols)
		return r
	}

	switch n := utf8.RuneCountInString(r.AccountName); {
	case n == 0:
		bad(colAccountName, "the account name is empty")
	case n > 64:
		bad(colAccountName, "the account name is longer than 64 characters")
	}

	var ok bool
	if r.AccountType, ok = AccountType(accountType); !ok {
		bad(colAccountType, "account type %q is not one of 1 (bank card), 2 (WeChat), 3 (Alipay), 4 (other)", accountType)
	}
	if r.AccountAttr, ok = AccountAttr(accountAttr); !ok {
		bad(colAccountAttr, "%q is neither 0 (personal, 对私) nor 1 (corporate, 对公)", accountAttr)
	}

	switch {
	case r.AccountNo == "":
		bad(colAccountNo, "the account number is empty")
	case IsScientific(r.AccountNo):
		bad(colAccountNo, "account number %s was turned into scientific notation by Excel and its last digits are lost. In Excel, format the account number column as Text (or type an apostrophe ' before each number), type the numbers in again, save as CSV and upload again", r.AccountNo)
	default:
		if r.AccountType == "1" {
			r.AccountNo = strings.Join(strings.Fields(r.AccountNo), "")
			if !digits(r.AccountNo) {
				bad(colAccountNo, "account number %q must have only digits for a bank card", r.AccountNo)
			}
		}
		if utf8.RuneCountInString(r.AccountNo) > 64 {
			bad(colAccountNo, "the account number is longer than 64 characters")
		}
	}

	if fen, err := payments.ParseYuan(amount); err != nil {
		bad(colAmount, "%v", err)
	} else {
		r.Amount = fen
	}

	switch {
	case code != "":
		n, ok := v.byCode[code]
		if !ok {
			bad(colBankCode, "bank code %s does not exist; use a code from HPT00001 to HPT00097 (see the bank list)", code)
			break
		}
		r.BankCode, r.BankName = code, n
		if name != "" && name != n {
			bad(colBankCode, "bank code %s is %s, but the bank name says %s; correct one of them", code, n, name)
		}
	case name != "":
		codes := v.byName[name]
		switch len(codes) {
		case 0:
			bad(colBankName, "bank name %q is not in the bank list; write it exactly as the list does, or give the bank code", name)
		default:
			r.BankCode, r.BankName = codes[0], name
			if len(codes) > 1 {
				warn("bank name %s has the codes %s; %s is used", name, strings.Join(codes, " and "), codes[0])
			}
		}
	default:
		bad(colBankCode, "the bank is missing: give a bank code (HPT00001–HPT00097) or the exact bank name")
	}
	if r.Branch == "" {
		r.Branch = r.BankName
	}
	if utf8.RuneCountInString(r.Branch) > 128 {
		bad(colBranch, "the branch name is longer than 128 characters")
	}
	if r.Province == "" {
		bad(colProvince, "the province is empty")
	} else if utf8.RuneCountInString(r.Province) > 32 {
		bad(colProvince, "the province is longer than 32 characters")
	}
	if r.City == "" {
		bad(colCity, "the city is empty")
	} else if utf8.RuneCountInString(r.City) > 32 {
		bad(colCity, "the city is longer than 32 characters")
	}
	if r.BankType != "" && !digits(r.BankType) {
		bad(colBankType, "the interbank number (联行号) %q must have only digits", r.BankType)
	}
	if utf8.RuneCountInString(r.Param1) > 64 || utf8.RuneCountInString(r.Param2) > 64 {
		bad(colParam1, "param1 and param2 may have at most 64 characters")
	}
	if r.MchTransOrderNo != "" {
		if !ValidMchNo(r.MchTransOrderNo) {
			bad(colMchNo, "merchant payout number %q may have only letters, digits, - and _, at most 30", r.MchTransOrderNo)
		} else if first, dup := v.numbers[r.MchTransOrderNo]; dup {
			bad(colMchNo, "merchant payout number %s is used already in row %d; every payout needs its own number", r.MchTransOrderNo, first)
		} else {
			v.numbers[r.MchTransOrderNo] = rowNo
		}
	}

	if len(r.Errors) == 0 {
		key := r.AccountNo + "\x00" + strconv.FormatInt(r.Amount, 10)
		if first, dup := v.twins[key]; dup {
			warn("the same account number and amount as row %d; check that it is not paid twice", first)
		} else {
			v.twins[key] = rowNo
		}
	} else {
		r.Raw, r.Cells = rawRow(rec), templateCells(rec, cols)
	}
	return r
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
