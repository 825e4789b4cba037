package payments

import (
	"errors"
	"fmt"
	"strings"
)

// MaxFen is the largest amount ParseYuan accepts: ¥9,999,999,999.99, far
// above any single payment, and far below int64 overflow.
const MaxFen = 999_999_999_999

// ParseYuan converts an amount typed in yuan ("12", "0.5", "1,234.50",
// " 12 ") to fen, exactly: digits only, at most two decimals, commas only
// as thousands separators. Zero, negatives, exponents ("1e3") and anything
// else are refused with a sentence saying what is wrong.
func ParseYuan(s string) (int64, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "¥")
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, errors.New("enter an amount in yuan, such as 12.50")
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("amount %q is negative; enter an amount above zero", s)
	}
	if strings.ContainsAny(s, "eE") {
		return 0, fmt.Errorf("amount %q is in scientific notation; write it out in yuan, such as 1000.00", s)
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if hasDot && (len(frac) == 0 || len(frac) > 2) {
		if len(frac) > 2 {
			return 0, fmt.Errorf("amount %q has more than two decimals; amounts are exact to the fen (0.01)", s)
		}
		return 0, fmt.Errorf("amount %q is not a number of yuan", s)
	}
	if strings.Contains(whole, ",") {
		groups := strings.Split(whole, ",")
		for i, g := range groups {
			if (i == 0 && (len(g) < 1 || len(g) > 3)) || (i > 0 && len(g) != 3) {
				return 0, fmt.Errorf("amount %q has commas in the wrong places; use them only between groups of three digits, or leave them out", s)
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
			return 0, fmt.Errorf("amount %q is not a number of yuan", s)
		}
		fen = fen*10 + int64(c-'0')
		if fen > MaxFen {
			return 0, fmt.Errorf("amount %q is too large", s)
		}
	}
	if fen == 0 {
		return 0, fmt.Errorf("amount %q is zero; enter an amount above zero", s)
	}
	return fen, nil
}
