package payments

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"testing"
)

func TestProducts(t *testing.T) {
	ps := Products()
	if len(ps) != 20 {
		t.Fatalf("%d products, want 20", len(ps))
	}
	for i, p := range ps {
		if p.ID != 8000+i {
			t.Errorf("product %d has ID %d, want %d", i, p.ID, 8000+i)
		}
		if p.Name == "" || p.Type == "" {
			t.Errorf("product %d has an empty name or type", p.ID)
		}
		got, ok := ProductByID(p.ID)
		if !ok || got != p {
			t.Errorf("ProductByID(%d) = %v, %v", p.ID, got, ok)
		}
	}
	for _, tt := range []struct {
		id         int
		name, kind string
	}{
		{8000, "网银支付", "网银支付"},
		{8002, "微信扫码支付", "微信扫码支付"},
		{8006, "支付宝 QY 扫码 支付", "支付宝扫码支付"},
		{8019, "云闪付", "银联二维码"},
	} {
		p, ok := ProductByID(tt.id)
		if !ok || p.Name != tt.name || p.Type != tt.kind {
			t.Errorf("ProductByID(%d) = %+v, want %s / %s", tt.id, p, tt.name, tt.kind)
		}
	}
	for _, id := range []int{0, 7999, 8020, -8000} {
		if _, ok := ProductByID(id); ok {
			t.Errorf("ProductByID(%d) found a product", id)
		}
	}
	ps[0].Name = "changed"
	if Products()[0].Name != "网银支付" {
		t.Errorf("Products shares its slice between calls")
	}
}

func TestBanks(t *testing.T) {
	bs := Banks()
	if len(bs) != 97 {
		t.Fatalf("%d banks, want 97", len(bs))
	}
	names := map[string]int{}
	for i, b := range bs {
		if want := fmt.Sprintf("HPT%05d", i+1); b.Code != want {
			t.Errorf("bank %d has code %s, want %s", i, b.Code, want)
		}
		if b.Name == "" {
			t.Errorf("%s has no name", b.Code)
		}
		names[b.Name]++
	}
	if len(names) != 96 {
		t.Errorf("%d distinct names, want 96 (one bank listed twice)", len(names))
	}
	for name, n := range names {
		if n > 1 && name != "浙江稠州商业银行" {
			t.Errorf("%s listed %d times", name, n)
		}
	}
	b34, _ := BankByCode("HPT00034")
	b73, _ := BankByCode("HPT00073")
	if b34.Name != "浙江稠州商业银行" || b34.Name != b73.Name {
		t.Errorf("HPT00034 = %q, HPT00073 = %q", b34.Name, b73.Name)
	}
	if got := BanksByName("浙江稠州商业银行"); len(got) != 2 || got[0].Code != "HPT00034" || got[1].Code != "HPT00073" {
		t.Errorf("BanksByName(浙江稠州商业银行) = %v", got)
	}
	for _, tt := range []struct{ code, name string }{
		{"HPT00001", "中国银行"},
		{" hpt00003 ", "中国建设银行"},
		{"Hpt00040", "人民银行（央行）"},
		{"HPT00097", "龙江银行"},
	} {
		b, ok := BankByCode(tt.code)
		if !ok || b.Name != tt.name {
			t.Errorf("BankByCode(%q) = %v, %v; want %s", tt.code, b, ok, tt.name)
		}
	}
	for _, code := range []string{"", "HP00001", "HPT00000", "HPT00098", "HPT0001"} {
		if b, ok := BankByCode(code); ok {
			t.Errorf("BankByCode(%q) = %v", code, b)
		}
	}
	if got := BanksByName(" 中国建设银行"); len(got) != 1 || got[0].Code != "HPT00003" {
		t.Errorf("BanksByName(中国建设银行) = %v", got)
	}
	if got := BanksByName("建设银行"); len(got) != 0 {
		t.Errorf("BanksByName matched a partial name: %v", got)
	}
}

// TestRefDataMatchesDocument compares the tables with the appendix of the
// gateway document when the checkout has the shared spec beside it.
func TestRefDataMatchesDocument(t *testing.T) {
	var doc []byte
	for _, path := range []string{"../../shared/spec/gateway-api.zh.md", "../../../shared/spec/gateway-api.zh.md"} {
		if d, err := os.ReadFile(path); err == nil {
			doc = d
			break
		}
	}
	if doc == nil {
		t.Skip("gateway-api.zh.md not found beside the checkout")
	}
	var products []Product
	for _, m := range regexp.MustCompile(`(?m)^(80\d\d)\t([^\t\n]+)\t([^\t\n]+)$`).FindAllStringSubmatch(string(doc), -1) {
		id, _ := strconv.Atoi(m[1])
		products = append(products, Product{id, m[2], m[3]})
	}
	if fmt.Sprint(products) != fmt.Sprint(Products()) {
		t.Errorf("products differ from the document:\n doc %v\n got %v", products, Products())
	}
	var banks []Bank
	for _, m := range regexp.MustCompile(`(?m)^(HPT\d{5})\t网银\t([^\t\n]+)\t?$`).FindAllStringSubmatch(string(doc), -1) {
		banks = append(banks, Bank{m[1], m[2]})
	}
	if fmt.Sprint(banks) != fmt.Sprint(Banks()) {
		t.Errorf("banks differ from the document:\n doc %v\n got %v", banks, Banks())
	}
}
