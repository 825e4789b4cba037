package payoutcsv

import (
	"encoding/csv"
	"io"
	"strings"
)

// BOM starts every CSV Paydesk writes, so that Excel reads it as UTF-8.
const BOM = "\ufeff"

// WriteTemplate writes the batch template: a UTF-8 BOM, the header with
// Chinese and English names, and one example row.
func WriteTemplate(w io.Writer) error {
	if _, err := io.WriteString(w, BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	var head, example []string
	for _, c := range Columns() {
		head = append(head, c.Header)
		example = append(example, ExcelText(c.Example))
	}
	cw.Write(head)
	cw.Write(example)
	cw.Flush()
	return cw.Error()
}

// ExcelText makes a cell safe and readable in Excel: a long run of digits
// (an account number) gets a leading tab so that Excel keeps it as text
// instead of 6.22202E+18; a cell that Excel would take as a formula
// (starting with = + - @, a tab or a carriage return) gets a leading
// apostrophe. Paydesk's reader trims the tab again.
func ExcelText(s string) string {
	if len(s) > 11 && digits(s) {
		return "\t" + s
	}
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
