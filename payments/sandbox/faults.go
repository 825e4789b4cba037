package sandbox

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Faults are the switches that make the sandbox misbehave the way a real
// gateway sometimes does. The zero value is a well-behaved gateway.
type Faults struct {
	Latency          time.Duration // added before every API answer
	Timeout          bool          // hold API answers until the caller gives up (request context done), nothing created
	HTTP500          bool          // answer API calls with HTTP 500, nothing created
	SystemError      bool          // answer {"errCode":"0010",...,"retMsg":"支付中心系统异常"}, nothing created
	Garbage          bool          // answer a non-JSON body with HTTP 200, nothing created
	BadSign          bool          // SUCCESS answers carry a wrong signature (the order IS created)
	LostAnswer       bool          // create_order (pay and trans) stores the order, then the answer is lost: hold until the caller gives up
	FaultPercent     int           // 0 or 100 → the answer faults above apply to every API request; 1..99 → to that share (deterministic counter)
	DuplicateNotify  bool          // every notification attempt is sent twice
	OutOfOrder       bool          // after a notification with a newer status, an older status is also sent
	RefuseNotifies   int           // the first N attempts of every notification chain are not delivered (recorded as failed)
	PostFormProducts []int         // these productIds answer payUrl as "POST;<cashier-url>?a=1&b=2"
	// LateCreate, with LostAnswer: a payout create is accepted (and
	// counted) but lands only once a query of its merchant payout number
	// has answered "not found": a create still on its way while the query
	// was answered. A create of the number meanwhile is a duplicate.
	LateCreate bool
	// DuplicateMessage is the retMsg of the FAIL that answers a create of
	// a merchant order number used before; empty: 商户订单号重复[…].
	DuplicateMessage string
	// DuplicateSystemError answers a create of a merchant order number
	// used before with the system error 0010 instead of a FAIL, as the
	// reference gateway does in some paths.
	DuplicateSystemError bool
}

func (f Faults) clone() Faults {
	f.PostFormProducts = slices.Clone(f.PostFormProducts)
	return f
}

// answerFaults reports whether any fault that changes an API answer is on.
// LostAnswer only counts for the create endpoints.
func (f Faults) answerFaults(create bool) bool {
	return f.Timeout || f.HTTP500 || f.SystemError || f.Garbage || f.BadSign || (f.LostAnswer && create)
}

// String renders the faults in the syntax ParseFaults reads.
func (f Faults) String() string {
	var parts []string
	add := func(on bool, s string) {
		if on {
			parts = append(parts, s)
		}
	}
	add(f.LostAnswer, "lost-answer")
	add(f.Timeout, "timeout")
	add(f.HTTP500, "500")
	add(f.SystemError, "0010")
	add(f.Garbage, "garbage")
	add(f.BadSign, "bad-sign")
	add(f.DuplicateNotify, "duplicate")
	add(f.OutOfOrder, "out-of-order")
	add(f.LateCreate, "late-create")
	add(f.DuplicateSystemError, "dup-0010")
	add(f.DuplicateMessage != "", "dup-msg="+f.DuplicateMessage)
	add(f.RefuseNotifies > 0, "refuse="+strconv.Itoa(f.RefuseNotifies))
	add(f.Latency > 0, "latency="+f.Latency.String())
	add(f.FaultPercent > 0 && f.FaultPercent < 100, "percent="+strconv.Itoa(f.FaultPercent))
	if len(f.PostFormProducts) > 0 {
		ids := make([]string, len(f.PostFormProducts))
		for i, id := range f.PostFormProducts {
			ids[i] = strconv.Itoa(id)
		}
		parts = append(parts, "post-form="+strings.Join(ids, "+"))
	}
	return strings.Join(parts, ",")
}

// ParseFaults reads a comma-separated fault list such as
// "lost-answer,timeout,500,0010,garbage,bad-sign,duplicate,out-of-order,refuse=2,latency=200ms,percent=30,post-form=8002+8003,
// late-create,dup-msg=商户单号已使用,dup-0010".
// An empty spec (or "none") is a well-behaved gateway.
func ParseFaults(spec string) (Faults, error) {
	var f Faults
	for _, tok := range strings.Split(spec, ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" || tok == "none" {
			continue
		}
		name, val, hasVal := strings.Cut(tok, "=")
		name = strings.ToLower(strings.TrimSpace(name))
		val = strings.TrimSpace(val)
		if !hasVal {
			switch name {
			case "lost-answer":
				f.LostAnswer = true
			case "timeout":
				f.Timeout = true
			case "500", "http500":
				f.HTTP500 = true
			case "0010", "system-error":
				f.SystemError = true
			case "garbage":
				f.Garbage = true
			case "bad-sign":
				f.BadSign = true
			case "duplicate":
				f.DuplicateNotify = true
			case "out-of-order":
				f.OutOfOrder = true
			case "late-create":
				f.LateCreate = true
			case "dup-0010":
				f.DuplicateSystemError = true
			default:
				return Faults{}, fmt.Errorf("sandbox: unknown fault %q", tok)
			}
			continue
		}
		switch name {
		case "dup-msg":
			if val == "" {
				return Faults{}, fmt.Errorf("sandbox: fault %q: want the message, such as dup-msg=商户单号已使用", tok)
			}
			f.DuplicateMessage = val
		case "refuse":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return Faults{}, fmt.Errorf("sandbox: fault %q: want a whole number of attempts ≥ 0", tok)
			}
			f.RefuseNotifies = n
		case "latency":
			d, err := time.ParseDuration(val)
			if err != nil || d < 0 {
				return Faults{}, fmt.Errorf("sandbox: fault %q: want a duration such as 200ms", tok)
			}
			f.Latency = d
		case "percent":
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 || n > 100 {
				return Faults{}, fmt.Errorf("sandbox: fault %q: want a percentage 0..100", tok)
			}
			f.FaultPercent = n
		case "post-form":
			for _, s := range strings.Split(val, "+") {
				id, err := strconv.Atoi(strings.TrimSpace(s))
				if err != nil {
					return Faults{}, fmt.Errorf("sandbox: fault %q: want product ids such as 8002+8003", tok)
				}
				f.PostFormProducts = append(f.PostFormProducts, id)
			}
		default:
			return Faults{}, fmt.Errorf("sandbox: unknown fault %q", tok)
		}
	}
	return f, nil
}

// SetFaults replaces the fault switches; it takes effect for the next request
// and the next notification attempt.
func (s *Sandbox) SetFaults(f Faults) {
	f = f.clone()
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Faults returns the fault switches in force.
func (s *Sandbox) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults.clone()
}

// faultsFor returns the faults that apply to this API request: all of them,
// or none when FaultPercent picks another request. The choice is a
// deterministic counter, so percent=30 faults 3 requests in every 10.
func (s *Sandbox) faultsFor(create bool) Faults {
	f := s.Faults()
	if !f.answerFaults(create) || f.FaultPercent <= 0 || f.FaultPercent >= 100 {
		return f
	}
	n := s.faultSeq.Add(1)
	p := uint64(f.FaultPercent)
	if n*p/100 != (n-1)*p/100 {
		return f
	}
	off := f
	off.Timeout, off.HTTP500, off.SystemError, off.Garbage, off.BadSign, off.LostAnswer = false, false, false, false, false, false
	return off
}

// preAnswer applies the faults that come before any processing: latency,
// timeout, HTTP 500, system error and garbage. It reports whether the request
// has been dealt with.
func (s *Sandbox) preAnswer(w http.ResponseWriter, r *http.Request, f Faults) bool {
	if f.Latency > 0 {
		t := time.NewTimer(f.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return true
		case <-s.ctx.Done():
			t.Stop()
			panic(http.ErrAbortHandler)
		}
	}
	switch {
	case f.Timeout:
		s.hold(r)
		return true
	case f.HTTP500:
		http.Error(w, "Internal Server Error", http.StatusInternalServerError)
		return true
	case f.SystemError:
		writeJSON(w, systemError())
		return true
	case f.Garbage:
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		_, _ = w.Write([]byte("<html><body><h1>502 Bad Gateway</h1>nginx</body></html>"))
		return true
	}
	return false
}

// hold keeps the request open until the caller gives up or the sandbox
// closes; then the connection is dropped without an answer. The body is read
// to its end first: only then does net/http notice a caller hanging up.
func (s *Sandbox) hold(r *http.Request) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, 1<<20))
	select {
	case <-r.Context().Done():
	case <-s.ctx.Done():
	}
	panic(http.ErrAbortHandler)
}
