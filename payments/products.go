package payments

// Product is one pay product of the gateway (appendix 4.1): the productId
// sent with a pay order, its name and its kind of payment, as the document
// writes them.
type Product struct {
	ID   int
	Name string
	Type string
}

// Products returns the 20 pay products, 8000–8019, in order. The slice is
// fresh on every call.
func Products() []Product {
	return []Product{
		{8000, "网银支付", "网银支付"},
		{8001, "银联快捷", "银联快捷"},
		{8002, "微信扫码支付", "微信扫码支付"},
		{8003, "微信 H5 支付", "微信 H5 支付"},
		{8004, "微信公众号支付", "微信公众号支付"},
		{8005, "微信小程序支付", "微信小程序支付"},
		{8006, "支付宝 QY 扫码 支付", "支付宝扫码支付"},
		{8007, "支付宝 QY H5 支付", "支付宝 H5 支付"},
		{8008, "支付宝服务窗支付", "支付宝服务窗支付"},
		{8009, "QQ 钱包扫码", "QQ 钱包扫码"},
		{8010, "QQ 钱包 H5 支付", "QQ 钱包 H5 支付"},
		{8011, "京东扫码支付", "京东扫码支付"},
		{8012, "京东 H5 支付", "京东 H5 支付"},
		{8013, "百度钱包", "百度钱包"},
		{8014, "银联二维码", "银联二维码"},
		{8015, "支付宝 GT H5 支付", "支付宝 H5 支付"},
		{8016, "支付宝 GT 扫码 支付", "支付宝扫码支付"},
		{8017, "支付宝 DM 扫码 支付", "支付宝 H5 支付"},
		{8018, "支付宝 DM H5 支付", "支付宝扫码支付"},
		{8019, "云闪付", "银联二维码"},
	}
}

// ProductByID returns the pay product with the given productId.
func ProductByID(id int) (Product, bool) {
	if id < 8000 || id > 8019 {
		return Product{}, false
	}
	return Products()[id-8000], true
}
