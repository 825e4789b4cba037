package payoutcsv

import (
	"encoding/csv"
	"io"
	"strings"
	"unicode/utf8"
)

// BOM starts every CSV Paydesk writes, so that Excel reads it as UTF-8.
const BOM = "\ufeff"

// ExamplePrefix starts the template's example row: a row whose first cell
// starts with # is a note, which the reader skips, so a file uploaded with
// the example still in it pays nothing for it.
const ExamplePrefix = "#示例 以#开头的行不导入 rows starting with # are skipped: "

// WriteTemplate writes the batch template: a UTF-8 BOM, the header with
// Chinese and English names, and one example row (skipped on upload).
func WriteTemplate(w io.Writer) error {
	if _, err := io.WriteString(w, BOM); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	var head, example []string
	for i, c := range Columns() {
		head = append(head, c.Header)
		if i == 0 {
			example = append(example, ExamplePrefix+c.Example)
			continue
		}
		example = append(example, ExcelText(c.Example))
	}
	cw.Write(head)
	cw.Write(example)
	cw.Flush()
	return cw.Error()
}

// ExcelText makes a cell safe and readable in Excel: a long run of digits
// (an account number) gets a leading tab so that Excel keeps it as text
// instead of 6.22202E+18; anything else goes through FormulaSafe.
// Paydesk's reader trims the tab again.
func ExcelText(s string) string {
	if len(s) > 11 && digits(s) {
		return "\t" + s
	}
	return FormulaSafe(s)
}

// FormulaSafe keeps a spreadsheet from running a cell as a formula, in
// every CSV Paydesk writes: a cell whose first character other than
// spaces, tabs and line breaks is = + - or @, or that starts with a tab or
// a carriage return, gets a leading apostrophe. Bytes that are not UTF-8
// become U+FFFD, so that no reader takes the file for another encoding.
func FormulaSafe(s string) string {
	if s == "" {
		return s
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if s[0] == '\t' || s[0] == '\r' {
		return "'" + s
	}
	if t := strings.TrimLeft(s, " \t\r\n"); t != "" && strings.IndexByte("=+-@", t[0]) >= 0 {
		return "'" + s
	}
	return s
}
