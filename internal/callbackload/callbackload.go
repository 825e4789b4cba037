// Package callbackload sends signed gateway callbacks the way the gateway
// does, over keep-alive HTTP/1.1 connections, and measures the answers. It
// also builds and runs the ceiling server (tools/ceiling), so that
// BenchmarkNotifyIngest and internal/ingestcheck drive Paydesk and the
// ceiling with the same code and the same load, in the same run.
package callbackload

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"paydesk/payments"
)

// PayFields is a pay order's paid callback as the gateway sends it, signed
// with key.
func PayFields(mchID, appID, key, payOrderID, mchOrderNo string, amount int64, status int) url.Values {
	p := payments.Params{"payOrderId": payOrderID, "mchId": mchID, "appId": appID, "productId": "8000", "mchOrderNo": mchOrderNo,
		"amount": strconv.FormatInt(amount, 10), "income": strconv.FormatInt(amount-amount/100, 10), "status": strconv.Itoa(status),
		"channelOrderNo": "CH" + payOrderID, "paySuccTime": "1764115200000", "backType": "2", "param1": "", "param2": ""}
	v := url.Values{}
	for k, x := range p {
		v.Set(k, payments.ValueString(x))
	}
	v.Set("sign", payments.Sign(p, key))
	return v
}

// PostRequest is a whole HTTP/1.1 form POST of f to path on host.
func PostRequest(host, path string, f url.Values) []byte {
	body := f.Encode()
	return fmt.Appendf(nil, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
		path, host, len(body), body)
}

// Load is what Run sends.
type Load struct {
	Addr string // host:port
	// Requests are whole HTTP/1.1 requests; the i-th request sent is
	// Requests[i%len(Requests)].
	Requests [][]byte
	Senders  int // connections, each sending its next request once answered
	// Count stops after this many requests; with 0, Duration does.
	Count    int
	Duration time.Duration
	// Rate, when above 0, paces the senders to about this many requests a
	// second in all; a sender that falls behind sends at once, without
	// catching up.
	Rate float64
}

// Result is what a Run measured.
type Result struct {
	Sent    int             // requests answered
	Failed  int             // answered other than 200 "success", or a broken connection
	First   string          // the first failure, for the message
	Elapsed time.Duration   // from the first request to the last answer
	Latency []time.Duration // of every answered request, sorted
}

// PerSecond is the rate of answered requests.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Sent) / r.Elapsed.Seconds()
}

// Percentile is the latency below which the fraction p of the requests
// were answered (0 when none were).
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latency) == 0 {
		return 0
	}
	return r.Latency[min(len(r.Latency)-1, int(float64(len(r.Latency))*p))]
}

// Ms is a duration in milliseconds, for reporting.
func Ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// String is the result in one line.
func (r Result) String() string {
	return fmt.Sprintf("%d answered in %.2f s: %.0f/s, p50 %.1f ms, p99 %.1f ms, %d failed",
		r.Sent, r.Elapsed.Seconds(), r.PerSecond(), Ms(r.Percentile(0.50)), Ms(r.Percentile(0.99)), r.Failed)
}

// Run sends the load and waits for every answer, or until ctx ends.
func Run(ctx context.Context, l Load) Result {
	var next atomic.Int64
	var failed atomic.Int64
	var firstMu sync.Mutex
	var first string
	fail := func(what string) {
		failed.Add(1)
		firstMu.Lock()
		if first == "" {
			first = what
		}
		firstMu.Unlock()
	}
	lat := make([][]time.Duration, l.Senders)
	start := time.Now()
	var deadline time.Time
	if l.Count <= 0 {
		deadline = start.Add(l.Duration)
	}
	var gap time.Duration
	if l.Rate > 0 {
		gap = time.Duration(float64(time.Second) * float64(l.Senders) / l.Rate)
	}
	var wg sync.WaitGroup
	for g := range l.Senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", l.Addr)
			if err != nil {
				fail(err.Error())
				return
			}
			defer conn.Close()
			stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
			defer stop()
			rd := bufio.NewReaderSize(conn, 4096)
			// Paced senders start spread over one gap.
			due := start.Add(gap * time.Duration(g) / time.Duration(l.Senders))
			for {
				if gap > 0 {
					if wait := time.Until(due); wait > 0 {
						time.Sleep(wait)
					} else {
						due = time.Now()
					}
					due = due.Add(gap)
				}
				if !deadline.IsZero() && !time.Now().Before(deadline) || ctx.Err() != nil {
					return
				}
				i := next.Add(1) - 1
				if l.Count > 0 && i >= int64(l.Count) {
					return
				}
				t0 := time.Now()
				if _, err := conn.Write(l.Requests[i%int64(len(l.Requests))]); err != nil {
					fail(err.Error())
					return
				}
				code, body, err := ReadResponse(rd)
				if err != nil {
					fail(err.Error())
					return
				}
				lat[g] = append(lat[g], time.Since(t0))
				if code != 200 || body != "success" {
					fail(fmt.Sprintf("%d %.200s", code, body))
				}
			}
		}()
	}
	wg.Wait()
	r := Result{Elapsed: time.Since(start), Failed: int(failed.Load()), First: first}
	for _, l := range lat {
		r.Latency = append(r.Latency, l...)
	}
	slices.Sort(r.Latency)
	r.Sent = len(r.Latency)
	return r
}

// ReadResponse reads one HTTP/1.1 response with a Content-Length: its
// status code and body.
func ReadResponse(rd *bufio.Reader) (int, string, error) {
	line, err := rd.ReadString('\n')
	if err != nil {
		return 0, "", err
	}
	if len(line) < 12 {
		return 0, "", fmt.Errorf("status line %q", line)
	}
	code, _ := strconv.Atoi(line[9:12])
	length := -1
	for {
		h, err := rd.ReadString('\n')
		if err != nil {
			return 0, "", err
		}
		if h == "\r\n" {
			break
		}
		if k, v, ok := strings.Cut(h, ":"); ok && strings.EqualFold(k, "Content-Length") {
			length, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	if length < 0 {
		return 0, "", fmt.Errorf("no content length")
	}
	buf := make([]byte, length)
	_, err = io.ReadFull(rd, buf)
	return code, string(buf), err
}
