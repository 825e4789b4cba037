package sandbox

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"paydesk/payments"
)

// The gateway's failure bodies, byte for byte as the reference writes them.

// failParam is a create-style parameter error (errCode 0014).
func failParam(msg string) payments.Params {
	return payments.Params{"errCode": "0014", "errDes": msg, "retCode": "FAIL", "retMsg": msg}
}

// failQuery is a query_order error: no errCode.
func failQuery(msg string) payments.Params {
	return payments.Params{"retCode": "FAIL", "retMsg": msg}
}

func systemError() payments.Params {
	return payments.Params{"errCode": "0010", "errDes": "请联系技术人员查看", "retCode": "FAIL", "retMsg": "支付中心系统异常"}
}

// duplicateAnswer answers a create of a merchant order number used before
// (field names the number: mchOrderNo or mchTransOrderNo).
func duplicateAnswer(f Faults, field, no string) payments.Params {
	switch {
	case f.DuplicateSystemError:
		return systemError()
	case f.DuplicateMessage != "":
		return failParam(f.DuplicateMessage)
	}
	return failParam(fmt.Sprintf("商户订单号重复[%s=%s]", field, no))
}

func transNotFound() payments.Params {
	return payments.Params{"errCode": "0112", "errDes": "代付订单不存在", "retCode": "FAIL", "retMsg": "代付订单不存在"}
}

// writeJSON writes p as compact JSON with sorted keys, without HTML escaping
// (a payUrl keeps its raw & characters) and without a trailing newline.
func writeJSON(w http.ResponseWriter, p payments.Params) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(p); err != nil {
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	_, _ = w.Write(bytes.TrimRight(buf.Bytes(), "\n"))
}

// readParams takes the request's parameters from the `params` JSON field
// (form body or query string) or, failing that, from plain form fields.
// A JSON request body is not read, as with the reference gateway.
func readParams(w http.ResponseWriter, r *http.Request) (payments.Params, error) {
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		return nil, err
	}
	if raw := r.Form.Get("params"); raw != "" {
		return payments.DecodeParams([]byte(raw))
	}
	p := payments.ParamsFromValues(r.Form)
	delete(p, "params")
	return p, nil
}

// str is the text of a parameter ("" when absent or null).
func str(p payments.Params, key string) string {
	v, ok := p[key]
	if !ok || v == nil {
		return ""
	}
	return payments.ValueString(v)
}

// wholeNumber parses a decimal integer without a decimal point or exponent.
func wholeNumber(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// truthy reads executeNotify: true, "true", "1" or 1.
func truthy(p payments.Params, key string) bool {
	switch str(p, key) {
	case "true", "1":
		return true
	}
	return false
}

// sign adds the signature to a SUCCESS answer; BadSign makes it wrong.
func (s *Sandbox) sign(p payments.Params, f Faults) payments.Params {
	key := s.cfg.Key
	if f.BadSign {
		key += "-wrong"
	}
	p["sign"] = payments.Sign(p, key)
	return p
}

// checkMerchant runs the checks every endpoint starts with; it returns the
// failure message or "".
func (s *Sandbox) checkMerchant(p payments.Params) string {
	mchID := str(p, "mchId")
	n, ok := wholeNumber(mchID)
	if !ok {
		return "请求参数[mchId]不能为空且为数值类型."
	}
	if strconv.FormatInt(n, 10) != s.cfg.MchID {
		return fmt.Sprintf("商户不存在[mchId=%s].", mchID)
	}
	return ""
}

// checkAmount validates an amount in fen: a whole number above zero.
func checkAmount(p payments.Params) (int64, string) {
	amount, ok := wholeNumber(str(p, "amount"))
	if !ok {
		return 0, "请求参数[amount]应为数值类型."
	}
	if amount <= 0 {
		return 0, "请求参数[amount]必须大于0."
	}
	return amount, ""
}

func required(p payments.Params, keys ...string) string {
	for _, k := range keys {
		if str(p, k) == "" {
			return fmt.Sprintf("请求参数[%s]不能为空.", k)
		}
	}
	return ""
}

// validatePayCreate checks a create_order request in the reference
// gateway's order; the signature comes last.
func (s *Sandbox) validatePayCreate(p payments.Params) (*payOrder, string) {
	if msg := s.checkMerchant(p); msg != "" {
		return nil, msg
	}
	productID, ok := wholeNumber(str(p, "productId"))
	if !ok {
		return nil, "请求参数[productId]不能为空且为数值类型."
	}
	if msg := required(p, "mchOrderNo"); msg != "" {
		return nil, msg
	}
	amount, msg := checkAmount(p)
	if msg != "" {
		return nil, msg
	}
	if msg := required(p, "currency", "notifyUrl", "subject", "body", "sign"); msg != "" {
		return nil, msg
	}
	if appID := str(p, "appId"); appID != s.cfg.AppID {
		return nil, fmt.Sprintf("应用不存在[appId=%s]", appID)
	}
	if _, ok := payments.ProductByID(int(productID)); !ok || productID != int64(int(productID)) {
		return nil, fmt.Sprintf("商户没有该产品的支付通道[productId=%s,mchId=%s]", str(p, "productId"), str(p, "mchId"))
	}
	if !payments.Verify(p, s.cfg.Key) {
		return nil, "验证签名失败."
	}
	return &payOrder{
		MchOrderNo: str(p, "mchOrderNo"),
		Currency:   str(p, "currency"),
		ProductID:  int(productID),
		Amount:     amount,
		ClientIP:   str(p, "clientIp"),
		Device:     str(p, "device"),
		ReturnURL:  str(p, "returnUrl"),
		NotifyURL:  str(p, "notifyUrl"),
		Subject:    str(p, "subject"),
		Body:       str(p, "body"),
		Param1:     str(p, "param1"),
		Param2:     str(p, "param2"),
	}, ""
}

func (s *Sandbox) apiPayCreate(w http.ResponseWriter, r *http.Request) {
	f := s.faultsFor(true)
	if s.preAnswer(w, r, f) {
		return
	}
	p, err := readParams(w, r)
	if err != nil {
		writeJSON(w, systemError())
		return
	}
	o, msg := s.validatePayCreate(p)
	if msg != "" {
		writeJSON(w, failParam(msg))
		return
	}
	now := time.Now()
	o.ID = s.newID("P", now)
	o.Created = now
	s.mu.Lock()
	if _, dup := s.payByNo[o.MchOrderNo]; dup {
		s.mu.Unlock()
		writeJSON(w, duplicateAnswer(f, "mchOrderNo", o.MchOrderNo))
		return
	}
	s.pays[o.ID] = o
	s.payByNo[o.MchOrderNo] = o
	s.payList = append(s.payList, o)
	s.creates[o.MchOrderNo]++
	postForm := slices.Contains(s.faults.PostFormProducts, o.ProductID)
	s.mu.Unlock()

	if f.LostAnswer {
		s.hold(r)
		return
	}
	payURL := s.publicURL + "/sandbox/pay/" + o.ID
	if postForm {
		payURL = "POST;" + payURL + "?via=post&token=" + s.cashierToken(o.ID)
	}
	writeJSON(w, s.sign(payments.Params{
		"retCode":    "SUCCESS",
		"payOrderId": o.ID,
		"payParams":  map[string]any{"payUrl": payURL},
	}, f))
}

func (s *Sandbox) apiPayQuery(w http.ResponseWriter, r *http.Request) {
	f := s.faultsFor(false)
	if s.preAnswer(w, r, f) {
		return
	}
	p, err := readParams(w, r)
	if err != nil {
		writeJSON(w, systemError())
		return
	}
	mchID := str(p, "mchId")
	payOrderID, mchOrderNo := str(p, "payOrderId"), str(p, "mchOrderNo")
	switch {
	case mchID == "":
		writeJSON(w, failQuery("request params[mchId] error."))
		return
	case payOrderID == "" && mchOrderNo == "":
		writeJSON(w, failQuery("request params[mchOrderNo or payOrderId] error."))
		return
	case str(p, "sign") == "":
		writeJSON(w, failQuery("request params[sign] error."))
		return
	case mchID != s.cfg.MchID:
		writeJSON(w, failQuery(fmt.Sprintf("Can't found mchInfo[mchId=%s] record in db.", mchID)))
		return
	case !payments.Verify(p, s.cfg.Key):
		writeJSON(w, failQuery("Verify XX pay sign failed."))
		return
	}

	s.mu.Lock()
	var o *payOrder
	if payOrderID != "" {
		o = s.pays[payOrderID]
	} else {
		o = s.payByNo[mchOrderNo]
	}
	if o == nil {
		s.mu.Unlock()
		writeJSON(w, failQuery("支付订单不存在"))
		return
	}
	snap := *o
	if truthy(p, "executeNotify") && payments.IsPaid(o.Status) {
		s.startPayChainLocked(o)
	}
	s.mu.Unlock()

	// As the reference: every field a string, paySuccTime a number or "",
	// and a failed order (5) reported as -1.
	status := snap.Status
	if status == payments.PayFailed {
		status = payments.PayFailedAlt
	}
	var succ any = ""
	if snap.PaySuccTime > 0 {
		succ = snap.PaySuccTime
	}
	writeJSON(w, s.sign(payments.Params{
		"retCode":        "SUCCESS",
		"mchId":          s.cfg.MchID,
		"appId":          s.cfg.AppID,
		"productId":      strconv.Itoa(snap.ProductID),
		"payOrderId":     snap.ID,
		"mchOrderNo":     snap.MchOrderNo,
		"amount":         strconv.FormatInt(snap.Amount, 10),
		"currency":       snap.Currency,
		"status":         strconv.Itoa(status),
		"channelUser":    "",
		"channelOrderNo": snap.ChannelOrderNo,
		"channelAttach":  "",
		"paySuccTime":    succ,
	}, f))
}

// validateTransCreate checks a payout request field by field in the
// document's order, in the style of create_order; the signature comes last.
func (s *Sandbox) validateTransCreate(p payments.Params) (*transOrder, string) {
	if msg := s.checkMerchant(p); msg != "" {
		return nil, msg
	}
	if appID := str(p, "appId"); appID != s.cfg.AppID {
		return nil, fmt.Sprintf("应用不存在[appId=%s]", appID)
	}
	if msg := required(p, "mchTransOrderNo", "currency"); msg != "" {
		return nil, msg
	}
	amount, msg := checkAmount(p)
	if msg != "" {
		return nil, msg
	}
	if msg := required(p, "notifyUrl", "bankCode"); msg != "" {
		return nil, msg
	}
	bank, ok := payments.BankByCode(str(p, "bankCode"))
	if !ok {
		return nil, fmt.Sprintf("银行代码不存在[bankCode=%s].", str(p, "bankCode"))
	}
	if msg := required(p, "bankName", "accountType", "accountName", "accountNo", "province", "city", "sign"); msg != "" {
		return nil, msg
	}
	if !payments.Verify(p, s.cfg.Key) {
		return nil, "验证签名失败."
	}
	return &transOrder{
		MchTransOrderNo: str(p, "mchTransOrderNo"),
		Currency:        str(p, "currency"),
		Amount:          amount,
		ClientIP:        str(p, "clientIp"),
		Device:          str(p, "device"),
		NotifyURL:       str(p, "notifyUrl"),
		AccountAttr:     str(p, "accountAttr"),
		BankType:        str(p, "bankType"),
		BankCode:        bank.Code,
		BankName:        str(p, "bankName"),
		AccountType:     str(p, "accountType"),
		AccountName:     str(p, "accountName"),
		AccountNo:       str(p, "accountNo"),
		Province:        str(p, "province"),
		City:            str(p, "city"),
		Param1:          str(p, "param1"),
		Param2:          str(p, "param2"),
	}, ""
}

func (s *Sandbox) apiTransCreate(w http.ResponseWriter, r *http.Request) {
	f := s.faultsFor(true)
	if s.preAnswer(w, r, f) {
		return
	}
	p, err := readParams(w, r)
	if err != nil {
		writeJSON(w, systemError())
		return
	}
	o, msg := s.validateTransCreate(p)
	if msg != "" {
		writeJSON(w, failParam(msg))
		return
	}
	now := time.Now()
	o.ID = s.newID("T", now)
	o.Status = payments.TransTransferring
	o.CreateTime = now.UnixMilli()
	o.ChannelOrderNo = "SBX" + strings.TrimPrefix(o.ID, "T")
	s.mu.Lock()
	_, dup := s.transByNo[o.MchTransOrderNo]
	if _, late := s.lateTrans[o.MchTransOrderNo]; dup || late {
		s.mu.Unlock()
		writeJSON(w, duplicateAnswer(f, "mchTransOrderNo", o.MchTransOrderNo))
		return
	}
	s.creates[o.MchTransOrderNo]++
	if f.LostAnswer && f.LateCreate {
		s.lateTrans[o.MchTransOrderNo] = o
		s.mu.Unlock()
		s.hold(r)
		return
	}
	s.landTransLocked(o)
	snap := *o
	s.mu.Unlock()

	if f.LostAnswer {
		s.hold(r)
		return
	}
	writeJSON(w, s.sign(payments.Params{
		"retCode":         "SUCCESS",
		"transOrderId":    snap.ID,
		"mchId":           s.cfg.MchID,
		"mchTransOrderNo": snap.MchTransOrderNo,
		"amount":          snap.Amount,
		"status":          snap.Status,
		"channelOrderNo":  snap.ChannelOrderNo,
		"createTime":      snap.CreateTime,
	}, f))
}

// landTransLocked stores a created payout and starts its settling. s.mu is
// held.
func (s *Sandbox) landTransLocked(o *transOrder) {
	s.trans[o.ID] = o
	s.transByNo[o.MchTransOrderNo] = o
	s.transList = append(s.transList, o)
	s.goLocked(func() { s.settle(o.ID) })
}

func (s *Sandbox) apiTransQuery(w http.ResponseWriter, r *http.Request) {
	f := s.faultsFor(false)
	if s.preAnswer(w, r, f) {
		return
	}
	p, err := readParams(w, r)
	if err != nil {
		writeJSON(w, systemError())
		return
	}
	if msg := s.checkMerchant(p); msg != "" {
		writeJSON(w, failParam(msg))
		return
	}
	if appID := str(p, "appId"); appID != s.cfg.AppID {
		writeJSON(w, failParam(fmt.Sprintf("应用不存在[appId=%s]", appID)))
		return
	}
	transOrderID, mchTransOrderNo := str(p, "transOrderId"), str(p, "mchTransOrderNo")
	if transOrderID == "" && mchTransOrderNo == "" {
		writeJSON(w, failParam("请求参数[transOrderId或mchTransOrderNo]不能为空."))
		return
	}
	if msg := required(p, "sign"); msg != "" {
		writeJSON(w, failParam(msg))
		return
	}
	if !payments.Verify(p, s.cfg.Key) {
		writeJSON(w, failParam("验证签名失败."))
		return
	}

	s.mu.Lock()
	var o *transOrder
	if transOrderID != "" {
		o = s.trans[transOrderID]
	} else {
		o = s.transByNo[mchTransOrderNo]
	}
	if o == nil {
		if late := s.lateTrans[mchTransOrderNo]; late != nil && transOrderID == "" {
			// Answered "not found" while it was on its way; it lands now.
			delete(s.lateTrans, mchTransOrderNo)
			s.landTransLocked(late)
		}
		s.mu.Unlock()
		writeJSON(w, transNotFound())
		return
	}
	snap := *o
	if truthy(p, "executeNotify") && (o.Status == payments.TransSucceeded || o.Status == payments.TransFailed) {
		s.startTransChainLocked(o)
	}
	s.mu.Unlock()

	var succ any = ""
	if snap.TransSuccTime > 0 {
		succ = snap.TransSuccTime
	}
	ans := payments.Params{
		"retCode":         "SUCCESS",
		"mchId":           s.cfg.MchID,
		"appId":           s.cfg.AppID,
		"transOrderId":    snap.ID,
		"mchTransOrderNo": snap.MchTransOrderNo,
		"amount":          strconv.FormatInt(snap.Amount, 10),
		"currency":        snap.Currency,
		"status":          strconv.Itoa(snap.Status),
		"channelOrderNo":  snap.ChannelOrderNo,
		"transSuccTime":   succ,
	}
	if snap.ChannelErrMsg != "" {
		ans["channelErrMsg"] = snap.ChannelErrMsg
	}
	writeJSON(w, s.sign(ans, f))
}
