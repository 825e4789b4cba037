package sandbox

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"paydesk/payments"
)

func TestParseFaults(t *testing.T) {
	tests := []struct {
		spec string
		want Faults
	}{
		{"", Faults{}},
		{"none", Faults{}},
		{"lost-answer,timeout,500,0010,garbage,bad-sign,duplicate,out-of-order,refuse=2,latency=200ms,percent=30,post-form=8002+8003",
			Faults{LostAnswer: true, Timeout: true, HTTP500: true, SystemError: true, Garbage: true, BadSign: true,
				DuplicateNotify: true, OutOfOrder: true, RefuseNotifies: 2, Latency: 200 * time.Millisecond,
				FaultPercent: 30, PostFormProducts: []int{8002, 8003}}},
		{" timeout , http500 ,system-error", Faults{Timeout: true, HTTP500: true, SystemError: true}},
		{"post-form=8001", Faults{PostFormProducts: []int{8001}}},
		{"lost-answer,late-create,dup-msg=商户单号已使用", Faults{LostAnswer: true, LateCreate: true, DuplicateMessage: "商户单号已使用"}},
		{"dup-0010", Faults{DuplicateSystemError: true}},
	}
	for _, tt := range tests {
		got, err := ParseFaults(tt.spec)
		if err != nil {
			t.Errorf("ParseFaults(%q): %v", tt.spec, err)
			continue
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("ParseFaults(%q) (-want +got):\n%s", tt.spec, d)
		}
		again, err := ParseFaults(got.String())
		if err != nil || !cmp.Equal(got, again) {
			t.Errorf("String() %q does not parse back: %v %v", got.String(), again, err)
		}
	}
	for _, bad := range []string{"slow", "refuse=-1", "refuse=x", "latency=soon", "percent=101", "post-form=abc", "timeout=1", "dup-msg=", "late-create=1"} {
		if _, err := ParseFaults(bad); err == nil {
			t.Errorf("ParseFaults(%q) accepted", bad)
		}
	}
}

// rawCreate posts a signed create_order with a short client timeout.
func rawCreate(t *testing.T, srvURL, path string, p payments.Params, timeout time.Duration) (*http.Response, string, error) {
	t.Helper()
	hc := &http.Client{Timeout: timeout}
	defer hc.CloseIdleConnections()
	resp, err := hc.Post(srvURL+path, "application/x-www-form-urlencoded", strings.NewReader(paramsForm(t, p)))
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestAnswerFaultsRaw(t *testing.T) {
	tests := []struct {
		name    string
		f       Faults
		timeout bool   // the caller gives up
		code    int    // HTTP status otherwise
		body    string // exact body, when known
		creates int
	}{
		{"timeout", Faults{Timeout: true}, true, 0, "", 0},
		{"lost answer", Faults{LostAnswer: true}, true, 0, "", 1},
		{"HTTP 500", Faults{HTTP500: true}, false, 500, "", 0},
		{"system error", Faults{SystemError: true}, false, 200, `{"errCode":"0010","errDes":"请联系技术人员查看","retCode":"FAIL","retMsg":"支付中心系统异常"}`, 0},
		{"garbage", Faults{Garbage: true}, false, 200, "", 0},
		{"bad sign", Faults{BadSign: true}, false, 200, "", 1},
	}
	for _, tt := range tests {
		for _, path := range []string{"/api/pay/create_order", "/api/trans/create_order"} {
			t.Run(tt.name+path, func(t *testing.T) {
				sb, srv := startSandbox(t, Config{TimeScale: 1000, Faults: tt.f})
				no := "F-" + strings.ReplaceAll(tt.name, " ", "-")
				p := signed(payReq(no, "http://127.0.0.1:1/n"))
				if strings.Contains(path, "trans") {
					p = signed(transReq(no, "1", "http://127.0.0.1:1/n"))
				}
				resp, body, err := rawCreate(t, srv.URL, path, p, 300*time.Millisecond)
				if tt.timeout {
					if err == nil {
						t.Fatalf("got an answer (%d %s), want none", resp.StatusCode, body)
					}
				} else {
					if err != nil {
						t.Fatal(err)
					}
					if resp.StatusCode != tt.code || (tt.body != "" && body != tt.body) {
						t.Errorf("got %d %s", resp.StatusCode, body)
					}
					ans, jerr := payments.DecodeParams([]byte(body))
					switch {
					case tt.f.Garbage && jerr == nil:
						t.Errorf("garbage answer is JSON: %s", body)
					case tt.f.BadSign && (ans["retCode"] != "SUCCESS" || payments.Verify(ans, testKey) || ans["sign"] == nil):
						t.Errorf("bad-sign answer: %s", body)
					}
				}
				if n := sb.CreateCount(no); n != tt.creates {
					t.Errorf("CreateCount = %d, want %d", n, tt.creates)
				}
				// Queries are not lost: a lost create can be found.
				if tt.f.LostAnswer {
					q := payments.Params{"mchId": testMchID, "appId": testAppID, "mchOrderNo": no}
					qpath := "/api/pay/query_order"
					if strings.Contains(path, "trans") {
						q = payments.Params{"mchId": testMchID, "appId": testAppID, "mchTransOrderNo": no}
						qpath = "/api/trans/query_order"
					}
					if body, ans := call(t, srv, qpath, signed(q)); ans["retCode"] != "SUCCESS" {
						t.Errorf("query after lost answer: %s", body)
					}
				}
			})
		}
	}
}

func TestFaultPercentIsDeterministic(t *testing.T) {
	sb, srv := startSandbox(t, Config{Faults: Faults{HTTP500: true, FaultPercent: 30}})
	var failed []int
	for i := range 20 {
		resp, _, err := rawCreate(t, srv.URL, "/api/pay/create_order", signed(payReq("P-"+strconv.Itoa(i), "http://127.0.0.1:1/n")), 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == 500 {
			failed = append(failed, i)
			if sb.CreateCount("P-"+strconv.Itoa(i)) != 0 {
				t.Errorf("faulted request %d created an order", i)
			}
		}
	}
	if len(failed) != 6 {
		t.Errorf("%d of 20 requests faulted (%v), want 6", len(failed), failed)
	}
}

func TestLatency(t *testing.T) {
	_, srv := startSandbox(t, Config{Faults: Faults{Latency: 150 * time.Millisecond}})
	start := time.Now()
	_, body, err := rawCreate(t, srv.URL, "/api/pay/create_order", signed(payReq("L-1", "http://127.0.0.1:1/n")), 5*time.Second)
	if err != nil || !strings.Contains(body, "SUCCESS") {
		t.Fatalf("%v %s", err, body)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Errorf("answered after %v, want at least the 150ms latency", d)
	}
}

func TestFaultsAPI(t *testing.T) {
	sb, srv := startSandbox(t, Config{})
	want := Faults{BadSign: true, RefuseNotifies: 3, Latency: time.Second, FaultPercent: 40, PostFormProducts: []int{8002}}
	b, _ := json.Marshal(want)
	resp, err := http.Post(srv.URL+"/sandbox/api/faults", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST faults: %d", resp.StatusCode)
	}
	if d := cmp.Diff(want, sb.Faults()); d != "" {
		t.Errorf("Faults() after POST (-want +got):\n%s", d)
	}
	resp, err = http.Get(srv.URL + "/sandbox/api/faults")
	if err != nil {
		t.Fatal(err)
	}
	var got Faults
	err = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if err != nil || !cmp.Equal(want, got) {
		t.Errorf("GET faults = %+v, %v", got, err)
	}
	for _, bad := range []string{`{"FaultPercent":200}`, `{"Nope":1}`, `not json`} {
		resp, err := http.Post(srv.URL+"/sandbox/api/faults", "application/json", strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("POST %s: %d, want 400", bad, resp.StatusCode)
		}
	}
	if d := cmp.Diff(want, sb.Faults()); d != "" {
		t.Errorf("refused POSTs changed the faults:\n%s", d)
	}

	// The returned value is a copy.
	f := sb.Faults()
	f.PostFormProducts[0] = 1
	if sb.Faults().PostFormProducts[0] != 8002 {
		t.Error("Faults() shares its slice with the sandbox")
	}
}

// late-create: a payout create whose answer is lost lands only once a
// query has said "not found"; a create of the number after that is a
// duplicate, answered in the chosen words or with 0010, and never a second
// payout.
func TestLateCreateAndDuplicateAnswers(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		f      Faults
		answer func(err error) bool
	}{
		{"dup-msg", Faults{DuplicateMessage: "商户单号已使用"}, func(err error) bool {
			var g *payments.GatewayError
			return errors.As(err, &g) && g.RetMsg == "商户单号已使用" && !payments.IsUnclear(err) && !payments.IsDuplicateNumber(err)
		}},
		{"dup-0010", Faults{DuplicateSystemError: true}, func(err error) bool {
			var u *payments.UnclearError
			return errors.As(err, &u) && u.Reason == payments.ReasonGatewaySystem
		}},
		{"default wording", Faults{}, payments.IsDuplicateNumber},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sb, srv := startSandbox(t, Config{TimeScale: 1000})
			f := tt.f
			f.LostAnswer, f.LateCreate = true, true
			sb.SetFaults(f)
			c := newClient(srv, testKey, 200*time.Millisecond)
			req := transRequest("LATE-1", "6222000011112222", srv.URL+"/notify")
			if _, err := c.CreateTransOrder(ctx, req); !payments.IsUnclear(err) {
				t.Fatalf("the first create: %v, want its answer lost", err)
			}
			if sb.CreateCount("LATE-1") != 1 {
				t.Fatalf("the create was not accepted")
			}
			if _, err := c.QueryTransOrder(ctx, payments.TransQuery{MchTransOrderNo: "LATE-1"}); !payments.IsNotFound(err) {
				t.Fatalf("the query while it is on its way: %v, want not found", err)
			}
			_, err := c.CreateTransOrder(ctx, req)
			if !tt.answer(err) {
				t.Fatalf("the second create: %v", err)
			}
			got, err := c.QueryTransOrder(ctx, payments.TransQuery{MchTransOrderNo: "LATE-1"})
			if err != nil || got.Amount != req.Amount || sb.CreateCount("LATE-1") != 1 {
				t.Fatalf("after landing: %+v %v, %d creates", got, err, sb.CreateCount("LATE-1"))
			}
		})
	}
}
