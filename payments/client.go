package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Gateway endpoint paths.
const (
	PathPayCreate   = "/api/pay/create_order"
	PathPayQuery    = "/api/pay/query_order"
	PathTransCreate = "/api/trans/create_order"
	PathTransQuery  = "/api/trans/query_order"
)

const (
	defaultTimeout = 15 * time.Second
	maxAnswerBytes = 1 << 20
)

// Account is what the client needs to talk to one gateway merchant.
type Account struct {
	BaseURL string // like "http://127.0.0.1:3020"; a trailing slash is fine
	MchID   string
	AppID   string
	Key     string
}

// Client calls the gateway's pay and payout endpoints for one account. It
// is safe for concurrent use.
type Client struct {
	acct    Account
	hc      *http.Client
	timeout time.Duration
}

// NewClient returns a client for acct. hc may be nil (then a client with a
// 15 s timeout is used); timeout bounds each call (0 means 15 s).
func NewClient(acct Account, hc *http.Client, timeout time.Duration) *Client {
	if hc == nil {
		hc = &http.Client{Timeout: defaultTimeout}
	}
	if timeout <= 0 {
		timeout = defaultTimeout
	}
	acct.BaseURL = strings.TrimRight(acct.BaseURL, "/")
	return &Client{acct: acct, hc: hc, timeout: timeout}
}

// PayOrderRequest is a pay order to create (统一下单).
type PayOrderRequest struct {
	ProductID  int
	MchOrderNo string
	Currency   string // "" means "cny"
	Amount     int64  // fen, > 0
	ClientIP   string
	Device     string
	ReturnURL  string
	NotifyURL  string
	Subject    string
	Body       string
	Param1     string
	Param2     string
}

// PayOrderCreated is the gateway's verified answer to a created pay order.
type PayOrderCreated struct {
	PayOrderID string
	PayURL     string // payParams.payUrl, never URL-decoded
	PayMethod  string // payParams.payMethod when present
	Raw        Params // the whole verified answer
}

// PayQuery asks for one pay order by gateway or merchant order number.
// ExecuteNotify makes the gateway send the notification again (only for
// paid orders).
type PayQuery struct {
	PayOrderID    string
	MchOrderNo    string
	ExecuteNotify bool
}

// PayOrder is a pay order as the gateway reports it.
type PayOrder struct {
	MchID, AppID, PayOrderID, MchOrderNo, Currency string
	ProductID                                      int
	Amount                                         int64 // fen
	Status                                         int   // raw gateway status, unknown values kept
	ChannelUser, ChannelOrderNo, ChannelAttach     string
	PaySuccTime                                    int64 // ms since epoch, 0 when absent
	Raw                                            Params
}

// TransOrderRequest is a payout (代付) to create.
type TransOrderRequest struct {
	MchTransOrderNo string
	Currency        string // "" means "cny"
	Amount          int64  // fen, > 0
	ClientIP        string
	Device          string
	NotifyURL       string
	AccountAttr     string // "0" personal, "1" corporate
	BankType        string // 联行号, optional
	BankCode        string // HPT000NN
	BankName        string
	AccountType     string // "1" bank card, "2" WeChat, "3" Alipay, "4" other
	AccountName     string
	AccountNo       string
	Province        string
	City            string
	Param1          string
	Param2          string
}

// TransQuery asks for one payout by gateway or merchant payout number.
type TransQuery struct {
	TransOrderID    string
	MchTransOrderNo string
	ExecuteNotify   bool
}

// TransOrder is a payout as the gateway reports it.
type TransOrder struct {
	MchID, TransOrderID, MchTransOrderNo, Currency, ChannelOrderNo, ChannelErrMsg string
	Amount                                                                        int64 // fen
	Status                                                                        int   // 0 created, 1 transferring, 2 succeeded, 3 failed, 4 completed
	CreateTime                                                                    int64 // ms
	TransSuccTime                                                                 int64 // ms
	Raw                                                                           Params
}

// CreatePayOrder creates a pay order. A *GatewayError means no order was
// made; an *UnclearError means it may exist (query by MchOrderNo, or retry
// with the same MchOrderNo).
func (c *Client) CreatePayOrder(ctx context.Context, r PayOrderRequest) (*PayOrderCreated, error) {
	const op = "create pay order"
	if r.MchOrderNo == "" || r.Amount <= 0 || r.ProductID <= 0 {
		return nil, fmt.Errorf("%s: %w: need a merchant order number, a product and a positive amount", op, ErrInvalidRequest)
	}
	p := c.base()
	p["productId"] = r.ProductID
	p["mchOrderNo"] = r.MchOrderNo
	p["currency"] = currency(r.Currency)
	p["amount"] = r.Amount
	setNonEmpty(p, "clientIp", r.ClientIP)
	setNonEmpty(p, "device", r.Device)
	setNonEmpty(p, "returnUrl", r.ReturnURL)
	setNonEmpty(p, "notifyUrl", r.NotifyURL)
	setNonEmpty(p, "subject", r.Subject)
	setNonEmpty(p, "body", r.Body)
	setNonEmpty(p, "param1", r.Param1)
	setNonEmpty(p, "param2", r.Param2)
	ans, err := c.call(ctx, op, PathPayCreate, p)
	if err != nil {
		return nil, err
	}
	if err := c.sameOrder(op, ans, "", "", "mchOrderNo", r.MchOrderNo); err != nil {
		return nil, err
	}
	out := &PayOrderCreated{PayOrderID: ValueString(ans["payOrderId"]), Raw: ans}
	switch pp := ans["payParams"].(type) {
	case map[string]any:
		out.PayURL, out.PayMethod = ValueString(pp["payUrl"]), ValueString(pp["payMethod"])
	case string:
		// Some editions send payParams as a JSON text.
		if inner, err := DecodeParams([]byte(pp)); err == nil {
			out.PayURL, out.PayMethod = ValueString(inner["payUrl"]), ValueString(inner["payMethod"])
		}
	}
	return out, nil
}

// QueryPayOrder asks the gateway for a pay order's state.
func (c *Client) QueryPayOrder(ctx context.Context, q PayQuery) (*PayOrder, error) {
	const op = "query pay order"
	if q.PayOrderID == "" && q.MchOrderNo == "" {
		return nil, fmt.Errorf("%s: %w: need payOrderId or mchOrderNo", op, ErrInvalidRequest)
	}
	p := c.base()
	setNonEmpty(p, "payOrderId", q.PayOrderID)
	setNonEmpty(p, "mchOrderNo", q.MchOrderNo)
	if q.ExecuteNotify {
		p["executeNotify"] = true
	}
	ans, err := c.call(ctx, op, PathPayQuery, p)
	if err != nil {
		return nil, err
	}
	if err := c.sameOrder(op, ans, "payOrderId", q.PayOrderID, "mchOrderNo", q.MchOrderNo); err != nil {
		return nil, err
	}
	var f fieldReader
	o := &PayOrder{
		MchID:          ValueString(ans["mchId"]),
		AppID:          ValueString(ans["appId"]),
		PayOrderID:     ValueString(ans["payOrderId"]),
		MchOrderNo:     ValueString(ans["mchOrderNo"]),
		Currency:       ValueString(ans["currency"]),
		ProductID:      int(f.int(ans, "productId", false)),
		Amount:         f.int(ans, "amount", false),
		Status:         int(f.int(ans, "status", true)),
		ChannelUser:    ValueString(ans["channelUser"]),
		ChannelOrderNo: ValueString(ans["channelOrderNo"]),
		ChannelAttach:  ValueString(ans["channelAttach"]),
		PaySuccTime:    f.int(ans, "paySuccTime", false),
		Raw:            ans,
	}
	if f.err != nil {
		return nil, &UnclearError{Op: op, Reason: ReasonUnexpected, Err: f.err}
	}
	return o, nil
}

// CreateTransOrder creates a payout. A *GatewayError means no payout was
// made; an *UnclearError means it may exist: query by MchTransOrderNo and
// never create a second payout for the same intent.
func (c *Client) CreateTransOrder(ctx context.Context, r TransOrderRequest) (*TransOrder, error) {
	const op = "create payout"
	if r.MchTransOrderNo == "" || r.Amount <= 0 {
		return nil, fmt.Errorf("%s: %w: need a merchant payout number and a positive amount", op, ErrInvalidRequest)
	}
	p := c.base()
	p["mchTransOrderNo"] = r.MchTransOrderNo
	p["currency"] = currency(r.Currency)
	p["amount"] = r.Amount
	for _, kv := range [][2]string{
		{"clientIp", r.ClientIP}, {"device", r.Device}, {"notifyUrl", r.NotifyURL},
		{"accountAttr", r.AccountAttr}, {"bankType", r.BankType}, {"bankCode", r.BankCode},
		{"bankName", r.BankName}, {"accountType", r.AccountType}, {"accountName", r.AccountName},
		{"accountNo", r.AccountNo}, {"province", r.Province}, {"city", r.City},
		{"param1", r.Param1}, {"param2", r.Param2},
	} {
		setNonEmpty(p, kv[0], kv[1])
	}
	ans, err := c.call(ctx, op, PathTransCreate, p)
	if err != nil {
		return nil, err
	}
	if err := c.sameOrder(op, ans, "", "", "mchTransOrderNo", r.MchTransOrderNo); err != nil {
		return nil, err
	}
	return transOrder(op, ans)
}

// QueryTransOrder asks the gateway for a payout's state.
func (c *Client) QueryTransOrder(ctx context.Context, q TransQuery) (*TransOrder, error) {
	const op = "query payout"
	if q.TransOrderID == "" && q.MchTransOrderNo == "" {
		return nil, fmt.Errorf("%s: %w: need transOrderId or mchTransOrderNo", op, ErrInvalidRequest)
	}
	p := c.base()
	setNonEmpty(p, "transOrderId", q.TransOrderID)
	setNonEmpty(p, "mchTransOrderNo", q.MchTransOrderNo)
	if q.ExecuteNotify {
		p["executeNotify"] = true
	}
	ans, err := c.call(ctx, op, PathTransQuery, p)
	if err != nil {
		return nil, err
	}
	if err := c.sameOrder(op, ans, "transOrderId", q.TransOrderID, "mchTransOrderNo", q.MchTransOrderNo); err != nil {
		return nil, err
	}
	return transOrder(op, ans)
}

func transOrder(op string, ans Params) (*TransOrder, error) {
	var f fieldReader
	o := &TransOrder{
		MchID:           ValueString(ans["mchId"]),
		TransOrderID:    ValueString(ans["transOrderId"]),
		MchTransOrderNo: ValueString(ans["mchTransOrderNo"]),
		Currency:        ValueString(ans["currency"]),
		ChannelOrderNo:  ValueString(ans["channelOrderNo"]),
		ChannelErrMsg:   ValueString(ans["channelErrMsg"]),
		Amount:          f.int(ans, "amount", false),
		Status:          int(f.int(ans, "status", true)),
		CreateTime:      f.int(ans, "createTime", false),
		TransSuccTime:   f.int(ans, "transSuccTime", false),
		Raw:             ans,
	}
	if f.err != nil {
		return nil, &UnclearError{Op: op, Reason: ReasonUnexpected, Err: f.err}
	}
	return o, nil
}

func (c *Client) base() Params {
	return Params{"mchId": c.acct.MchID, "appId": c.acct.AppID}
}

func currency(s string) string {
	if s == "" {
		return "cny"
	}
	return s
}

func setNonEmpty(p Params, k, v string) {
	if v != "" {
		p[k] = v
	}
}

// sameOrder checks that a verified answer is about the order we asked for
// (and our merchant), comparing only the fields both sides have.
func (c *Client) sameOrder(op string, ans Params, idKey, id, noKey, no string) error {
	check := func(key, want string) error {
		got := ValueString(ans[key])
		if key == "" || want == "" || got == "" || got == want {
			return nil
		}
		return &UnclearError{Op: op, Reason: ReasonDifferentTarget,
			Err: fmt.Errorf("asked for %s %q, the answer is about %q", key, want, got)}
	}
	if err := check("mchId", c.acct.MchID); err != nil {
		return err
	}
	if err := check(idKey, id); err != nil {
		return err
	}
	return check(noKey, no)
}

// call signs p, posts it as the form field params and returns the verified
// answer of a SUCCESS, or a *GatewayError or *UnclearError.
func (c *Client) call(ctx context.Context, op, path string, p Params) (Params, error) {
	p["sign"] = Sign(p, c.acct.Key)
	var js bytes.Buffer
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		return nil, fmt.Errorf("%s: %w: %v", op, ErrInvalidRequest, err)
	}
	form := url.Values{"params": {strings.TrimSuffix(js.String(), "\n")}}

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.acct.BaseURL+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%s: %w: %v", op, ErrInvalidRequest, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=UTF-8")
	req.Header.Set("Accept", "application/json")
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, &UnclearError{Op: op, Reason: transportReason(err), Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return nil, &UnclearError{Op: op, Reason: transportReason(err), Err: err}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, &UnclearError{Op: op, Reason: ReasonHTTPStatus, Err: fmt.Errorf("HTTP %s", resp.Status)}
	}
	if len(body) > maxAnswerBytes {
		return nil, &UnclearError{Op: op, Reason: ReasonUnreadable, Err: errors.New("answer larger than 1 MiB")}
	}
	ans, err := DecodeParams(bytes.TrimPrefix(body, []byte("\xef\xbb\xbf")))
	if err != nil {
		return nil, &UnclearError{Op: op, Reason: ReasonUnreadable, Err: err}
	}
	switch retCode := ValueString(ans["retCode"]); retCode {
	case "SUCCESS":
		if !Verify(ans, c.acct.Key) {
			return nil, &UnclearError{Op: op, Reason: ReasonBadlySigned, Err: errors.New("the success answer's signature is missing or wrong")}
		}
		return ans, nil
	case "FAIL":
		g := &GatewayError{
			Op:      op,
			RetCode: retCode,
			RetMsg:  ValueString(ans["retMsg"]),
			ErrCode: ValueString(ans["errCode"]),
			ErrDes:  ValueString(ans["errDes"]),
		}
		if g.ErrCode == "0010" {
			return nil, &UnclearError{Op: op, Reason: ReasonGatewaySystem, Err: g}
		}
		return nil, g
	default:
		return nil, &UnclearError{Op: op, Reason: ReasonUnexpected, Err: fmt.Errorf("retCode %.40q", retCode)}
	}
}

func transportReason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return ReasonTimeout
	case errors.Is(err, context.Canceled):
		return ReasonCanceled
	}
	return ReasonConnection
}

// fieldReader reads integer fields that the gateway sends as JSON numbers or
// numeric strings alike; the first bad field is kept in err.
type fieldReader struct{ err error }

// int returns the field as an integer: 0 when absent or "" (an error if
// required), an error for anything that is not an integer.
func (f *fieldReader) int(p Params, key string, required bool) int64 {
	n, present, err := intValue(p[key])
	if err == nil && required && !present {
		err = errors.New("missing")
	}
	if err != nil {
		if f.err == nil {
			f.err = fmt.Errorf("field %s: %w", key, err)
		}
		return 0
	}
	return n
}

func intValue(v any) (n int64, present bool, err error) {
	var s string
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case int:
		return int64(x), true, nil
	case int64:
		return x, true, nil
	case json.Number:
		s = string(x)
	case string:
		s = strings.TrimSpace(x)
		if s == "" {
			return 0, false, nil
		}
	default:
		return 0, false, fmt.Errorf("not a number: %T", v)
	}
	n, err = strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("not an integer: %.30q", s)
	}
	return n, true, nil
}
