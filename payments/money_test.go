package payments

import "testing"

func TestParseYuan(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0.01", 1, true}, {"0.1", 10, true}, {"0.5", 50, true}, {"12", 1200, true}, {" 12 ", 1200, true},
		{"100", 10000, true}, {"999999.99", 99999999, true}, {"1,000.00", 100000, true}, {"1,234.50", 123450, true},
		{"12,345,678.9", 1234567890, true}, {"¥8.88", 888, true}, {".5", 50, true}, {"5.", 0, false},
		{"9999999999.99", 999999999999, true}, {"10000000000", 0, false},
		{"0", 0, false}, {"0.00", 0, false}, {"-1", 0, false}, {"-0.01", 0, false}, {"1e3", 0, false}, {"1E3", 0, false},
		{"1.234", 0, false}, {"", 0, false}, {"  ", 0, false}, {"abc", 0, false}, {"1,00", 0, false}, {"1,0000.00", 0, false},
		{",100", 0, false}, {"1.2.3", 0, false}, {"+5", 0, false}, {"١٢", 0, false}, {"12 34", 0, false},
		{"99999999999999999999999", 0, false}, {"NaN", 0, false}, {"Inf", 0, false}, {"0x10", 0, false},
	} {
		got, err := ParseYuan(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseYuan(%q) = %d, %v; want %d, ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && err.Error() == "" {
			t.Errorf("ParseYuan(%q): empty message", tc.in)
		}
	}
}
