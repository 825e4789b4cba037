package payments

import "strings"

// Bank is one payout bank code of the gateway (appendix 4.3, 代付银行代码).
type Bank struct {
	Code string
	Name string
}

// Banks returns the 97 payout bank codes HPT00001–HPT00097 in order, with
// the names exactly as the document gives them. HPT00034 and HPT00073 are
// the same bank (浙江稠州商业银行) listed twice; both codes are kept. The
// slice is fresh on every call.
func Banks() []Bank {
	return []Bank{
		{"HPT00001", "中国银行"},
		{"HPT00002", "中国工商银行"},
		{"HPT00003", "中国建设银行"},
		{"HPT00004", "中国农业银行"},
		{"HPT00005", "招商银行"},
		{"HPT00006", "交通银行"},
		{"HPT00007", "中信银行"},
		{"HPT00008", "兴业银行"},
		{"HPT00009", "中国民生银行"},
		{"HPT00010", "华夏银行"},
		{"HPT00011", "上海浦东发展银行"},
		{"HPT00012", "汇丰银行"},
		{"HPT00013", "渣打银行"},
		{"HPT00014", "花旗银行"},
		{"HPT00015", "德意志银行"},
		{"HPT00016", "瑞士银行"},
		{"HPT00017", "荷兰银行"},
		{"HPT00018", "香港汇丰"},
		{"HPT00019", "香港花旗"},
		{"HPT00020", "香港东亚银行"},
		{"HPT00021", "恒生银行"},
		{"HPT00022", "中国光大银行"},
		{"HPT00023", "广发银行"},
		{"HPT00024", "平安银行"},
		{"HPT00025", "北京银行"},
		{"HPT00026", "中国邮政储蓄银行"},
		{"HPT00027", "上海银行"},
		{"HPT00028", "南京银行"},
		{"HPT00029", "渤海银行"},
		{"HPT00030", "宁波银行"},
		{"HPT00031", "深圳发展银行"},
		{"HPT00032", "北京农商银行"},
		{"HPT00033", "上海农商银行"},
		{"HPT00034", "浙江稠州商业银行"},
		{"HPT00035", "杭州银行"},
		{"HPT00036", "富滇银行"},
		{"HPT00037", "浙商银行"},
		{"HPT00038", "河北银行"},
		{"HPT00039", "徽商银行"},
		{"HPT00040", "人民银行（央行）"},
		{"HPT00041", "广州银行"},
		{"HPT00042", "哈尔滨银行"},
		{"HPT00043", "长沙银行"},
		{"HPT00044", "青岛银行"},
		{"HPT00045", "上饶银行"},
		{"HPT00046", "东莞银行"},
		{"HPT00047", "临商银行"},
		{"HPT00048", "内蒙古银行"},
		{"HPT00049", "华融湘江银行"},
		{"HPT00050", "南充市商业银行"},
		{"HPT00051", "台州银行"},
		{"HPT00052", "吉林银行"},
		{"HPT00053", "国家开发银行"},
		{"HPT00054", "大连银行"},
		{"HPT00055", "天津农商银行"},
		{"HPT00056", "天津银行"},
		{"HPT00057", "威海市商业银行"},
		{"HPT00058", "宁夏银行"},
		{"HPT00059", "宜宾市商业银行"},
		{"HPT00060", "平顶山银行"},
		{"HPT00061", "廊坊银行"},
		{"HPT00062", "德州银行"},
		{"HPT00063", "恒丰银行"},
		{"HPT00064", "成都农商银行"},
		{"HPT00065", "成都银行"},
		{"HPT00066", "承德银行"},
		{"HPT00067", "昆仑银行"},
		{"HPT00068", "汉口银行"},
		{"HPT00069", "洛阳银行"},
		{"HPT00070", "济宁银行"},
		{"HPT00071", "浙江民泰商业银行"},
		{"HPT00072", "浙江泰隆商业银行"},
		{"HPT00073", "浙江稠州商业银行"},
		{"HPT00074", "温州银行"},
		{"HPT00075", "湖北银行"},
		{"HPT00076", "潍坊银行"},
		{"HPT00077", "盛京银行"},
		{"HPT00078", "石嘴山银行"},
		{"HPT00079", "福建海峡银行"},
		{"HPT00080", "绍兴银行"},
		{"HPT00081", "苏州银行"},
		{"HPT00082", "莱商银行"},
		{"HPT00083", "营口银行"},
		{"HPT00084", "衡水银行"},
		{"HPT00085", "西安银行"},
		{"HPT00086", "赣州银行"},
		{"HPT00087", "邢台银行"},
		{"HPT00088", "郑州银行"},
		{"HPT00089", "鄂尔多斯银行"},
		{"HPT00090", "重庆三峡银行"},
		{"HPT00091", "锦州银行"},
		{"HPT00092", "陕西信合"},
		{"HPT00093", "青海银行"},
		{"HPT00094", "韩亚银行"},
		{"HPT00095", "齐商银行"},
		{"HPT00096", "齐鲁银行"},
		{"HPT00097", "龙江银行"},
	}
}

// BankByCode returns the bank with the given code, ignoring case and
// surrounding space ("hpt00003 " finds HPT00003).
func BankByCode(code string) (Bank, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	for _, b := range Banks() {
		if b.Code == code {
			return b, true
		}
	}
	return Bank{}, false
}

// BanksByName returns every bank whose name is exactly name (after trimming
// surrounding space); 浙江稠州商业银行 gives two.
func BanksByName(name string) []Bank {
	name = strings.TrimSpace(name)
	var out []Bank
	for _, b := range Banks() {
		if b.Name == name {
			out = append(out, b)
		}
	}
	return out
}
