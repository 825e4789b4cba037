// Package money is how Paydesk writes and reads amounts of yuan, held
// everywhere as integer fen (int64): Format for every place that shows an
// amount (¥1,234.50), Plain for CSV files and form fields (1234.50),
// Capitals for the amount in Chinese capitals (大写) on approvals and
// printed cards, and Parse for every amount typed by staff or read from a
// file, accepting what Chinese staff type (full-width digits, ￥, a
// trailing 元, thousands separators). Standard library only: the sandbox
// gateway uses it too.
package money

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Max is the largest amount Parse accepts: ¥9,999,999,999.99, far above
// any single payment, and far below int64 overflow.
const Max = 999_999_999_999

// Format renders fen as yuan with a currency sign, thousands separators
// and two decimals: ¥1,234.50; a negative amount as -¥1,234.50.
func Format(fen int64) string {
	if fen < 0 {
		return "-¥" + Grouped(-fen)
	}
	return "¥" + Grouped(fen)
}

// Grouped renders fen as yuan with thousands separators and two decimals,
// without a currency sign: 1,234.50 (-1,234.50 when negative).
func Grouped(fen int64) string {
	neg, u := split(fen)
	whole := strconv.FormatUint(u/100, 10)
	b := make([]byte, 0, len(whole)+len(whole)/3+4)
	if neg {
		b = append(b, '-')
	}
	for i := 0; i < len(whole); i++ {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, whole[i])
	}
	return string(append(b, '.', byte('0'+u%100/10), byte('0'+u%10)))
}

// Plain renders fen as yuan with two decimals and nothing else, the form
// written to CSV files and into form fields: 1234.50 (-1234.50).
func Plain(fen int64) string {
	neg, u := split(fen)
	s := strconv.FormatUint(u/100, 10) + "." + string([]byte{byte('0' + u%100/10), byte('0' + u%10)})
	if neg {
		return "-" + s
	}
	return s
}

func split(fen int64) (bool, uint64) {
	if fen < 0 {
		return true, uint64(-fen)
	}
	return false, uint64(fen)
}

var (
	capDigits = []string{"零", "壹", "贰", "叁", "肆", "伍", "陆", "柒", "捌", "玖"}
	capUnits  = []string{"", "拾", "佰", "仟"}
	capGroups = []string{"", "万", "亿", "万亿"}
)

// Capitals writes fen in Chinese capitals as a bank's cheque or payment
// order does: ¥100.00 壹佰元整, ¥1,005.05 壹仟零伍元零伍分, ¥25,229.05
// 贰万伍仟贰佰贰拾玖元零伍分, ¥0.50 伍角, ¥10.30 壹拾元叁角: 整 only when
// there is neither 角 nor 分 (the rules let it be left out after 角 and
// forbid it after 分); one 零 for each run of zeros between digits, also
// across the 万 and 亿 groups; 零 between 元 and 分 when there is no 角
// (none is needed between 元 and 角); 拾 always with its digit (壹拾). A
// negative amount is preceded by 负.
func Capitals(fen int64) string {
	neg, u := split(fen)
	var b strings.Builder
	if neg {
		b.WriteString("负")
	}
	yuan, jiao, fenDigit := u/100, u/10%10, u%10
	if yuan == 0 && jiao == 0 && fenDigit == 0 {
		return b.String() + "零元整"
	}
	if yuan > 0 {
		b.WriteString(capitalsOfInteger(yuan))
		b.WriteString("元")
	}
	switch {
	case jiao == 0 && fenDigit == 0:
		b.WriteString("整")
	case jiao == 0:
		if yuan > 0 {
			b.WriteString("零")
		}
		b.WriteString(capDigits[fenDigit] + "分")
	default:
		b.WriteString(capDigits[jiao] + "角")
		if fenDigit > 0 {
			b.WriteString(capDigits[fenDigit] + "分")
		}
	}
	return b.String()
}

// capitalsOfInteger writes n > 0 in capitals, in groups of four digits
// (个, 万, 亿, 万亿).
func capitalsOfInteger(n uint64) string {
	var groups []uint64
	for n > 0 {
		groups = append(groups, n%10000)
		n /= 10000
	}
	var b strings.Builder
	zero := false // a zero is owed before the next digit written
	for g := len(groups) - 1; g >= 0; g-- {
		v := groups[g]
		if v == 0 {
			zero = b.Len() > 0
			continue
		}
		for i := 3; i >= 0; i-- {
			d := v / pow10(i) % 10
			if d == 0 {
				zero = b.Len() > 0
				continue
			}
			if zero {
				b.WriteString("零")
				zero = false
			}
			b.WriteString(capDigits[d] + capUnits[i])
		}
		b.WriteString(capGroups[g])
	}
	return b.String()
}

func pow10(i int) uint64 {
	p := uint64(1)
	for ; i > 0; i-- {
		p *= 10
	}
	return p
}

// Reason says what is wrong with an amount Parse refused.
type Reason int

const (
	Empty      Reason = iota + 1 // nothing typed
	NotNumber                    // not a number of yuan
	Negative                     // below zero
	Exponent                     // scientific notation, 1e3 (Excel writes these)
	Decimals                     // more than two decimals
	Separators                   // thousands separators in the wrong places
	Zero                         // zero
	TooLarge                     // above Max
)

// Error is an amount Parse refused and why.
type Error struct {
	Reason Reason
	Input  string // as typed, cut to 40 characters
}

func (e *Error) Error() string {
	switch e.Reason {
	case Empty:
		return "enter an amount in yuan, such as 12.50"
	case Negative:
		return "amount " + strconv.Quote(e.Input) + " is negative; enter an amount above zero"
	case Exponent:
		return "amount " + strconv.Quote(e.Input) + " is in scientific notation; write it out in yuan, such as 1000.00"
	case Decimals:
		return "amount " + strconv.Quote(e.Input) + " has more than two decimals; amounts are exact to the fen (0.01)"
	case Separators:
		return "amount " + strconv.Quote(e.Input) + " has thousands separators in the wrong places; use them only between groups of three digits, or leave them out"
	case Zero:
		return "amount " + strconv.Quote(e.Input) + " is zero; enter an amount above zero"
	case TooLarge:
		return "amount " + strconv.Quote(e.Input) + " is too large"
	}
	return "amount " + strconv.Quote(e.Input) + " is not a number of yuan"
}

// Parse reads an amount of yuan as staff type it, exactly, into fen:
// "12", "0.5", "1,234.50", "¥12.50", "￥12.50", "12.50元", and the same
// with full-width digits and punctuation ("１２．５０", "１，２３４"), or
// the ideographic full stop an input method gives for a point ("12。50");
// spaces around (also full-width ones) are ignored. At most two decimals;
// thousands separators only between groups of three digits. Zero,
// negatives, exponents ("1e3") and anything else are refused with an
// *Error saying why.
func Parse(s string) (int64, error) {
	in := s
	if utf8.RuneCountInString(in) > 40 {
		in = string([]rune(in)[:40]) + "…"
	}
	fail := func(r Reason) (int64, error) { return 0, &Error{Reason: r, Input: in} }
	s = normalize(s)
	s = strings.TrimSpace(strings.TrimSuffix(s, "元"))
	s = strings.TrimSpace(strings.TrimPrefix(s, "¥"))
	if s == "" {
		if strings.TrimSpace(in) == "" {
			return fail(Empty)
		}
		return fail(NotNumber)
	}
	if strings.HasPrefix(s, "-") {
		return fail(Negative)
	}
	if strings.ContainsAny(s, "eE") {
		return fail(Exponent)
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if hasDot && len(frac) > 2 {
		if strings.Trim(frac, "0123456789") == "" {
			return fail(Decimals)
		}
		return fail(NotNumber)
	}
	if hasDot && frac == "" {
		return fail(NotNumber)
	}
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		for i, g := range groups {
			if (i == 0 && (len(g) < 1 || len(g) > 3)) || (i > 0 && len(g) != 3) {
				return fail(Separators)
			}
		}
		whole = strings.Join(groups, "")
	}
	if whole == "" {
		whole = "0"
	}
	var fen int64
	for _, c := range whole + (frac + "00")[:2] {
		if c < '0' || c > '9' {
			return fail(NotNumber)
		}
		fen = fen*10 + int64(c-'0')
		if fen > Max {
			return fail(TooLarge)
		}
	}
	if fen == 0 {
		return fail(Zero)
	}
	return fen, nil
}

// normalize turns the full-width forms of digits, signs and punctuation
// into ASCII, ￥ into ¥, and the ideographic full stop into a point.
func normalize(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return '0' + r - '０'
		case r == '．' || r == '。':
			return '.'
		case r == '，':
			return ','
		case r == '－':
			return '-'
		case r == '＋':
			return '+'
		case r == '￥':
			return '¥'
		case r == '\u3000' || r == '\u00a0':
			return ' '
		case r == 'Ｅ' || r == 'ｅ':
			return 'e'
		}
		return r
	}, s)
}
