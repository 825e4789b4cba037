package sandbox

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"paydesk/payments"
)

// Attempt is one notification the sandbox sent (or, under RefuseNotifies,
// pretended to send) to a merchant's notifyUrl.
type Attempt struct {
	OrderID    string
	Chain      int       // 1 for the first chain, +1 per executeNotify re-send / new chain
	N          int       // attempt number within the chain, 1..6
	At         time.Time //
	Status     int       // order status carried
	URL        string
	Method     string
	Delivered  bool   // false when refused by RefuseNotifies
	HTTPStatus int    //
	Reply      string // body received (truncated to 200 bytes)
	OK         bool   // reply was exactly "success" with 2xx
	Err        string
}

// maxAttempts is the length of a full notification chain.
const maxAttempts = 6

// retryDelay is the gateway's wait before attempt n (n ≥ 2) of a chain:
// 60, 120, 180, 240 and 300 s after each failed attempt.
func retryDelay(n int) time.Duration { return time.Duration(n-1) * time.Minute }

// chainState is an order's notification history: how many chains it had,
// how many attempts the latest one used, and how to stop it.
type chainState struct {
	chains int
	used   int
	cancel context.CancelFunc
}

// notifyJob is one notification chain: what to send, where and how.
type notifyJob struct {
	orderID string
	chain   int
	budget  int             // attempts this chain may make
	method  string          // POST (pay, form body) or GET (payout, query string)
	url     string          // notifyUrl
	fields  payments.Params // unsigned fields carrying the new status
	older   payments.Params // unsigned fields carrying an older status, for OutOfOrder
	state   *chainState
}

// startPayChainLocked starts a new notification chain for a pay order,
// replacing any chain still running. The caller holds s.mu.
func (s *Sandbox) startPayChainLocked(o *payOrder) {
	fields := payments.Params{
		"payOrderId": o.ID,
		"mchId":      s.cfg.MchID,
		"appId":      s.cfg.AppID,
		"productId":  o.ProductID,
		"mchOrderNo": o.MchOrderNo,
		"amount":     o.Amount,
		"income":     o.Amount - fee(o.Amount),
		"status":     o.Status,
		"backType":   2,
	}
	// Like the reference, the optional fields travel even when empty (and
	// are then left out of the signature).
	fields["channelOrderNo"] = o.ChannelOrderNo
	fields["param1"] = o.Param1
	fields["param2"] = o.Param2
	if o.PaySuccTime > 0 {
		fields["paySuccTime"] = o.PaySuccTime
	}
	older := clone(fields)
	older["status"] = payments.PayPaying
	delete(older, "paySuccTime")
	older["channelOrderNo"] = ""
	s.startChainLocked(&o.chain, notifyJob{
		orderID: o.ID,
		method:  http.MethodPost,
		url:     o.NotifyURL,
		fields:  fields,
		older:   older,
	})
}

// startTransChainLocked starts a new notification chain for a payout.
// The caller holds s.mu.
func (s *Sandbox) startTransChainLocked(o *transOrder) {
	fields := payments.Params{
		"transOrderId":    o.ID,
		"mchId":           s.cfg.MchID,
		"mchTransOrderNo": o.MchTransOrderNo,
		"amount":          o.Amount,
		"status":          o.Status,
		"backType":        2,
	}
	fields["channelOrderNo"] = o.ChannelOrderNo
	fields["param1"] = o.Param1
	fields["param2"] = o.Param2
	setNonEmpty(fields, "channelErrMsg", o.ChannelErrMsg)
	if o.TransSuccTime > 0 {
		fields["transSuccTime"] = o.TransSuccTime
	}
	older := clone(fields)
	older["status"] = payments.TransTransferring
	delete(older, "transSuccTime")
	delete(older, "channelErrMsg")
	s.startChainLocked(&o.chain, notifyJob{
		orderID: o.ID,
		method:  http.MethodGet,
		url:     o.NotifyURL,
		fields:  fields,
		older:   older,
	})
}

// startChainLocked numbers the chain, gives it its attempt budget and runs
// it. A re-notify continues the order's retry count: a chain that used k
// attempts leaves 6-k to the next, and at least one.
func (s *Sandbox) startChainLocked(st *chainState, job notifyJob) {
	if st.cancel != nil {
		st.cancel()
	}
	job.budget = maxAttempts
	if st.chains > 0 {
		job.budget = max(1, maxAttempts-st.used)
	}
	st.chains++
	st.used = 0
	job.chain = st.chains
	job.state = st
	ctx, cancel := context.WithCancel(s.ctx)
	st.cancel = cancel
	if !s.goLocked(func() {
		defer cancel()
		s.runChain(ctx, job)
	}) {
		cancel()
	}
}

// runChain makes the chain's attempts: the first at once, each retry after
// the gateway's wait, until one is answered "success" or the budget is spent.
func (s *Sandbox) runChain(ctx context.Context, job notifyJob) {
	for n := 1; n <= job.budget; n++ {
		if n > 1 {
			t := time.NewTimer(s.scaled(retryDelay(n)))
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return
			}
		}
		f := s.Faults()
		s.mu.Lock()
		if ctx.Err() != nil { // superseded by a newer chain, or closed
			s.mu.Unlock()
			return
		}
		job.state.used = n
		s.mu.Unlock()

		if n <= f.RefuseNotifies {
			s.record(Attempt{
				OrderID: job.orderID, Chain: job.chain, N: n, At: time.Now(),
				Status: statusOf(job.fields), URL: job.url, Method: job.method,
				Err: "not delivered (sandbox fault: refuse)",
			})
			continue
		}
		sends := 1
		if f.DuplicateNotify {
			sends = 2
		}
		ok := false
		for range sends {
			if s.send(ctx, job, n, job.fields) {
				ok = true
			}
		}
		if f.OutOfOrder && job.older != nil && statusOf(job.older) != statusOf(job.fields) {
			s.send(ctx, job, n, job.older)
		}
		if ok || ctx.Err() != nil {
			return
		}
	}
}

// send signs and delivers one notification and records the attempt.
func (s *Sandbox) send(ctx context.Context, job notifyJob, n int, fields payments.Params) bool {
	p := clone(fields)
	p["sign"] = payments.Sign(fields, s.cfg.Key)
	vals := url.Values{}
	for k, v := range p {
		vals.Set(k, payments.ValueString(v))
	}
	a := Attempt{
		OrderID: job.orderID, Chain: job.chain, N: n, At: time.Now(),
		Status: statusOf(fields), URL: job.url, Method: job.method, Delivered: true,
	}
	var req *http.Request
	var err error
	if job.method == http.MethodPost {
		// The reference gateway posts to the notifyUrl up to its first '?'.
		target, _, _ := strings.Cut(job.url, "?")
		req, err = http.NewRequestWithContext(ctx, http.MethodPost, target, strings.NewReader(vals.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	} else {
		sep := "?"
		if strings.Contains(job.url, "?") {
			sep = "&"
		}
		req, err = http.NewRequestWithContext(ctx, http.MethodGet, job.url+sep+vals.Encode(), nil)
	}
	if err == nil {
		var resp *http.Response
		resp, err = s.hc.Do(req)
		if err == nil {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, 4096))
			resp.Body.Close()
			a.HTTPStatus = resp.StatusCode
			a.Reply = string(body)
			if len(body) > 200 {
				a.Reply = string(body[:200])
			}
			a.OK = rerr == nil && resp.StatusCode >= 200 && resp.StatusCode < 300 && string(body) == payments.NotifyReply
			err = rerr
		}
	}
	if err != nil {
		a.Err = err.Error()
		s.log.Debug("sandbox notification failed", "order", job.orderID, "chain", job.chain, "attempt", n, "err", err)
	}
	s.record(a)
	return a.OK
}

func (s *Sandbox) record(a Attempt) {
	s.mu.Lock()
	s.attempts[a.OrderID] = append(s.attempts[a.OrderID], a)
	s.attemptLog = append(s.attemptLog, a)
	s.mu.Unlock()
}

// settle finishes a payout after 2 s (× TimeScale): an account number ending
// in 4 fails, every other succeeds. Then the notification chain starts.
func (s *Sandbox) settle(id string) {
	t := time.NewTimer(s.scaled(2 * time.Second))
	select {
	case <-t.C:
	case <-s.ctx.Done():
		t.Stop()
		return
	}
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.trans[id]
	if o == nil || o.Status != payments.TransTransferring {
		return
	}
	if strings.HasSuffix(o.AccountNo, "4") {
		o.Status = payments.TransFailed
		o.ChannelErrMsg = "账户号无效（沙箱规则：账号以4结尾）"
	} else {
		o.Status = payments.TransSucceeded
		o.TransSuccTime = now.UnixMilli()
	}
	s.startTransChainLocked(o)
}

// fee is the sandbox channel's charge (0.6 %, rounded down) behind the
// income field of pay notifications.
func fee(amount int64) int64 { return amount * 6 / 1000 }

func setNonEmpty(p payments.Params, k, v string) {
	if v != "" {
		p[k] = v
	}
}

func clone(p payments.Params) payments.Params {
	c := make(payments.Params, len(p)+1)
	for k, v := range p {
		c[k] = v
	}
	return c
}

func statusOf(p payments.Params) int {
	n, err := strconv.Atoi(fmt.Sprint(p["status"]))
	if err != nil {
		return 0
	}
	return n
}
