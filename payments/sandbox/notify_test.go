package sandbox

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"paydesk/payments"
)

// fastScale runs the gateway's schedule 1000× faster: retries after 60, 120,
// 180, 240 and 300 ms, payouts settle after 2 ms.
const fastScale = 0.001

func TestPayNotifyRetrySchedule(t *testing.T) {
	const refused = 3
	rc := newReceiver(t, func(n int) string {
		if n <= refused {
			return "fail"
		}
		return "success"
	})
	sb, srv := startSandbox(t, Config{TimeScale: fastScale})
	id := createPay(t, srv, "N-1", rc.URL())
	if err := sb.Pay(id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "4 notifications", 10*time.Second, func() bool { return len(rc.all()) >= refused+1 })
	time.Sleep(400 * time.Millisecond) // longer than the next retry delay (240 ms)

	got := rc.all()
	if len(got) != refused+1 {
		t.Fatalf("receiver got %d notifications, want %d", len(got), refused+1)
	}
	for i, g := range got {
		if g.Method != "POST" {
			t.Errorf("notification %d: method %s, want POST", i+1, g.Method)
		}
		if !payments.Verify(g.Fields, testKey) {
			t.Errorf("notification %d: signature does not verify: %v", i+1, g.Fields)
		}
		for _, k := range []string{"payOrderId", "mchId", "appId", "productId", "mchOrderNo", "amount", "income", "status", "channelOrderNo", "paySuccTime", "backType", "sign"} {
			if g.Fields[k] == nil || g.Fields[k] == "" {
				t.Errorf("notification %d lacks %s: %v", i+1, k, g.Fields)
			}
		}
		if g.Fields["payOrderId"] != id || g.Fields["status"] != "2" || g.Fields["amount"] != "100" || g.Fields["backType"] != "2" || g.Fields["mchOrderNo"] != "N-1" {
			t.Errorf("notification %d: %v", i+1, g.Fields)
		}
	}

	att := sb.Attempts(id)
	if len(att) != refused+1 {
		t.Fatalf("Attempts = %d, want %d: %+v", len(att), refused+1, att)
	}
	for i, a := range att {
		wantOK := i == refused
		if a.N != i+1 || a.Chain != 1 || a.OK != wantOK || !a.Delivered || a.HTTPStatus != 200 || a.Status != 2 || a.Method != "POST" || a.URL != rc.URL() {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
		if i > 0 {
			gap := a.At.Sub(att[i-1].At)
			want := time.Duration(i) * 60 * time.Millisecond
			if gap < want || gap > want+3*time.Second {
				t.Errorf("gap before attempt %d = %v, want about %v", i+1, gap, want)
			}
		}
	}
	if att[0].Reply != "fail" || att[refused].Reply != "success" {
		t.Errorf("replies recorded: %q, %q", att[0].Reply, att[refused].Reply)
	}
}

func TestNotifyExhaustedThenExecuteNotify(t *testing.T) {
	rc := newReceiver(t, always("fail"))
	sb, srv := startSandbox(t, Config{TimeScale: fastScale})
	id := createPay(t, srv, "N-2", rc.URL())
	if err := sb.Pay(id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "6 attempts", 10*time.Second, func() bool { return len(sb.Attempts(id)) >= 6 })
	time.Sleep(500 * time.Millisecond)
	if n := len(rc.all()); n != 6 {
		t.Fatalf("receiver got %d notifications, want 6 then nothing", n)
	}

	// The chain is exhausted: executeNotify gives exactly one more attempt.
	body, ans := call(t, srv, "/api/pay/query_order", signed(payments.Params{"mchId": testMchID, "appId": testAppID, "payOrderId": id, "executeNotify": true}))
	if ans["retCode"] != "SUCCESS" {
		t.Fatal(body)
	}
	waitFor(t, "the re-notify", 5*time.Second, func() bool { return len(sb.Attempts(id)) >= 7 })
	time.Sleep(300 * time.Millisecond)
	att := sb.Attempts(id)
	if len(att) != 7 || len(rc.all()) != 7 {
		t.Fatalf("after executeNotify: %d attempts, receiver %d; want 7", len(att), len(rc.all()))
	}
	if a := att[6]; a.Chain != 2 || a.N != 1 || a.OK {
		t.Errorf("re-notify attempt: %+v", a)
	}
}

func TestExecuteNotify(t *testing.T) {
	rc := newReceiver(t, always("success"))
	sb, srv := startSandbox(t, Config{TimeScale: fastScale})
	paid := createPay(t, srv, "X-paid", rc.URL())
	unpaid := createPay(t, srv, "X-unpaid", rc.URL())
	if err := sb.Pay(paid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "first notification", 5*time.Second, func() bool { return len(sb.Attempts(paid)) == 1 })

	for _, v := range []any{true, "true", "1", 1} {
		call(t, srv, "/api/pay/query_order", signed(payments.Params{"mchId": testMchID, "appId": testAppID, "mchOrderNo": "X-unpaid", "executeNotify": v}))
	}
	n := len(sb.Attempts(paid))
	for i, v := range []any{true, "true", "1", 1} {
		call(t, srv, "/api/pay/query_order", signed(payments.Params{"mchId": testMchID, "appId": testAppID, "mchOrderNo": "X-paid", "executeNotify": v}))
		waitFor(t, "re-notify "+strconv.Itoa(i), 5*time.Second, func() bool { return len(sb.Attempts(paid)) == n+i+1 })
	}
	call(t, srv, "/api/pay/query_order", signed(payments.Params{"mchId": testMchID, "appId": testAppID, "mchOrderNo": "X-paid", "executeNotify": false}))
	time.Sleep(200 * time.Millisecond)

	att := sb.Attempts(paid)
	if len(att) != 5 {
		t.Fatalf("paid order: %d attempts, want 1 + 4 re-notifies", len(att))
	}
	for i, a := range att {
		if a.Chain != i+1 || a.N != 1 || !a.OK {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
	}
	if a := sb.Attempts(unpaid); len(a) != 0 {
		t.Errorf("unpaid order was notified: %+v", a)
	}
	for _, g := range rc.all() {
		if g.Fields["payOrderId"] != paid {
			t.Errorf("notification for %v", g.Fields["payOrderId"])
		}
	}
}

func TestNotifyReplyMustBeExactlySuccess(t *testing.T) {
	tests := []struct {
		reply string
		ok    bool
	}{
		{"success", true},
		{"success\n", false},
		{" success", false},
		{"SUCCESS", false},
		{"ok", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(strconv.Quote(tt.reply), func(t *testing.T) {
			rc := newReceiver(t, always(tt.reply))
			sb, srv := startSandbox(t, Config{TimeScale: 1000}) // no retry within the test
			id := createPay(t, srv, "R-1", rc.URL())
			if err := sb.Fail(id); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the attempt", 5*time.Second, func() bool { return len(sb.Attempts(id)) == 1 })
			a := sb.Attempts(id)[0]
			if a.OK != tt.ok || a.Reply != tt.reply || a.Status != payments.PayFailed {
				t.Errorf("attempt: %+v", a)
			}
		})
	}
	t.Run("HTTP 500 with success", func(t *testing.T) {
		bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = io.WriteString(w, "success")
		}))
		defer bad.Close()
		sb, srv := startSandbox(t, Config{TimeScale: 1000})
		id := createPay(t, srv, "R-2", bad.URL+"/notify")
		_ = sb.Pay(id)
		waitFor(t, "the attempt", 5*time.Second, func() bool { return len(sb.Attempts(id)) == 1 })
		if a := sb.Attempts(id)[0]; a.OK || a.HTTPStatus != 500 || a.Reply != "success" {
			t.Errorf("attempt: %+v", a)
		}
	})
}

func TestPayoutSettlesAndNotifiesByGET(t *testing.T) {
	rc := newReceiver(t, always("success"))
	sb, srv := startSandbox(t, Config{TimeScale: fastScale})
	okID := createTrans(t, srv, "PO-ok", "6222000000000001", rc.URL())
	failID := createTrans(t, srv, "PO-fail", "6222000000000004", rc.URL())
	waitFor(t, "two payout notifications", 5*time.Second, func() bool { return len(rc.all()) >= 2 })

	byID := map[string]received{}
	for _, g := range rc.all() {
		if g.Method != "GET" {
			t.Errorf("payout notification by %s, want GET", g.Method)
		}
		if !payments.Verify(g.Fields, testKey) {
			t.Errorf("payout notification signature does not verify: %v", g.Fields)
		}
		byID[payments.ValueString(g.Fields["transOrderId"])] = g
	}
	ok, fail := byID[okID].Fields, byID[failID].Fields
	if ok["status"] != "2" || ok["mchTransOrderNo"] != "PO-ok" || ok["amount"] != "100" || ok["transSuccTime"] == nil || ok["backType"] != "2" || ok["mchId"] != testMchID {
		t.Errorf("success notification: %v", ok)
	}
	if fail["status"] != "3" || fail["channelErrMsg"] != "账户号无效（沙箱规则：账号以4结尾）" {
		t.Errorf("failure notification: %v", fail)
	}
	// The receiver sees the request before the sandbox has read the reply and recorded the attempt.
	waitFor(t, "the attempt record", 5*time.Second, func() bool { return len(sb.Attempts(okID)) >= 1 })
	if a := sb.Attempts(okID); len(a) != 1 || a[0].Method != "GET" || !a[0].OK || a[0].Status != 2 {
		t.Errorf("attempts: %+v", a)
	}

	_, ans := call(t, srv, "/api/trans/query_order", signed(payments.Params{"mchId": testMchID, "appId": testAppID, "mchTransOrderNo": "PO-fail", "executeNotify": true}))
	if ans["status"] != "3" || ans["channelErrMsg"] == nil || !payments.Verify(ans, testKey) {
		t.Errorf("query of failed payout: %v", ans)
	}
	waitFor(t, "payout re-notify", 5*time.Second, func() bool { return len(sb.Attempts(failID)) == 2 })
	if a := sb.Attempts(failID)[1]; a.Chain != 2 || a.Status != 3 {
		t.Errorf("re-notify: %+v", a)
	}
}

func TestDuplicateNotify(t *testing.T) {
	rc := newReceiver(t, always("success"))
	sb, srv := startSandbox(t, Config{TimeScale: fastScale, Faults: Faults{DuplicateNotify: true}})
	id := createPay(t, srv, "D-1", rc.URL())
	_ = sb.Pay(id)
	waitFor(t, "two deliveries", 5*time.Second, func() bool { return len(rc.all()) >= 2 })
	time.Sleep(100 * time.Millisecond)
	got := rc.all()
	if len(got) != 2 {
		t.Fatalf("receiver got %d, want 2", len(got))
	}
	for k, v := range got[0].Fields {
		if got[1].Fields[k] != v {
			t.Errorf("duplicate differs in %s: %v vs %v", k, v, got[1].Fields[k])
		}
	}
	waitFor(t, "both attempt records", 5*time.Second, func() bool { return len(sb.Attempts(id)) >= 2 })
	if a := sb.Attempts(id); len(a) != 2 || a[0].N != 1 || a[1].N != 1 {
		t.Errorf("attempts: %+v", a)
	}
}

func TestOutOfOrderNotify(t *testing.T) {
	rc := newReceiver(t, always("success"))
	sb, srv := startSandbox(t, Config{TimeScale: fastScale, Faults: Faults{OutOfOrder: true}})
	id := createPay(t, srv, "O-1", rc.URL())
	_ = sb.Pay(id)
	tid := createTrans(t, srv, "O-2", "6222000000000001", rc.URL())
	waitFor(t, "four deliveries", 5*time.Second, func() bool { return len(rc.all()) >= 4 })
	var pay, trans []string
	for _, g := range rc.all() {
		if !payments.Verify(g.Fields, testKey) {
			t.Errorf("stale notification not signed: %v", g.Fields)
		}
		if g.Fields["payOrderId"] == id {
			pay = append(pay, payments.ValueString(g.Fields["status"]))
		}
		if g.Fields["transOrderId"] == tid {
			trans = append(trans, payments.ValueString(g.Fields["status"]))
		}
	}
	if len(pay) != 2 || pay[0] != "2" || pay[1] != "1" {
		t.Errorf("pay statuses in arrival order: %v, want [2 1]", pay)
	}
	if len(trans) != 2 || trans[0] != "2" || trans[1] != "1" {
		t.Errorf("payout statuses in arrival order: %v, want [2 1]", trans)
	}
}

func TestRefuseNotifies(t *testing.T) {
	rc := newReceiver(t, always("success"))
	sb, srv := startSandbox(t, Config{TimeScale: fastScale, Faults: Faults{RefuseNotifies: 2}})
	id := createPay(t, srv, "F-1", rc.URL())
	_ = sb.Pay(id)
	waitFor(t, "the third attempt", 5*time.Second, func() bool { return len(rc.all()) >= 1 })
	waitFor(t, "the third attempt's record", 5*time.Second, func() bool { return len(sb.Attempts(id)) >= 3 })
	att := sb.Attempts(id)
	if len(att) != 3 {
		t.Fatalf("attempts: %+v", att)
	}
	for i, a := range att {
		delivered := i == 2
		if a.N != i+1 || a.Delivered != delivered || a.OK != delivered {
			t.Errorf("attempt %d: %+v", i+1, a)
		}
	}
	if g := rc.all(); len(g) != 1 {
		t.Errorf("receiver got %d, want 1", len(g))
	}
}

// Close stops pending retries and settlements and leaves no goroutine behind.
func TestCloseStopsEverything(t *testing.T) {
	before := runtime.NumGoroutine()
	rc := newReceiver(t, always("fail"))
	srvSb, srv := startSandboxNoCleanup(t, Config{TimeScale: 1})
	for i := range 5 {
		id := createPay(t, srv, "C-"+strconv.Itoa(i), rc.URL())
		_ = srvSb.Pay(id)
		createTrans(t, srv, "CT-"+strconv.Itoa(i), "1", rc.URL())
	}
	waitFor(t, "first attempts", 5*time.Second, func() bool { return len(rc.all()) >= 5 })
	srv.Close()
	if err := srvSb.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srvSb.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	rc.srv.Close()
	buf := make([]byte, 1<<20)
	if stacks := string(buf[:runtime.Stack(buf, true)]); strings.Contains(stacks, "sandbox.(*Sandbox).runChain") || strings.Contains(stacks, "sandbox.(*Sandbox).settle") {
		t.Fatalf("notifier or settlement goroutines survive Close:\n%s", stacks)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A re-notify while a chain is still retrying replaces it and continues its
// count: six attempts in all, never more.
func TestExecuteNotifyContinuesRunningChain(t *testing.T) {
	rc := newReceiver(t, always("fail"))
	sb, srv := startSandbox(t, Config{TimeScale: fastScale})
	id := createPay(t, srv, "CC-1", rc.URL())
	_ = sb.Pay(id)
	waitFor(t, "the first attempt", 5*time.Second, func() bool { return len(sb.Attempts(id)) == 1 })
	call(t, srv, "/api/pay/query_order", signed(payments.Params{"mchId": testMchID, "appId": testAppID, "payOrderId": id, "executeNotify": "true"}))
	waitFor(t, "six attempts", 10*time.Second, func() bool { return len(sb.Attempts(id)) >= 6 })
	time.Sleep(500 * time.Millisecond)
	att := sb.Attempts(id)
	if len(att) != 6 {
		t.Fatalf("%d attempts, want 6: %+v", len(att), att)
	}
	for i, a := range att[1:] {
		if a.Chain != 2 || a.N != i+1 {
			t.Errorf("attempt %d: chain %d n %d, want chain 2 n %d", i+2, a.Chain, a.N, i+1)
		}
	}
}

// The reference gateway posts pay notifications to the notifyUrl up to its
// first '?'; payout notifications append their fields to the query.
func TestNotifyURLWithQuery(t *testing.T) {
	var mu sync.Mutex
	var queries []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		queries = append(queries, r.Method+" "+r.URL.RawQuery)
		mu.Unlock()
		_, _ = io.WriteString(w, "success")
	}))
	defer rcv.Close()
	sb, srv := startSandbox(t, Config{TimeScale: fastScale})
	id := createPay(t, srv, "Q?-1", rcv.URL+"/n?shop=7")
	_ = sb.Pay(id)
	createTrans(t, srv, "Q?-2", "1", rcv.URL+"/n?shop=8")
	waitFor(t, "two notifications", 5*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(queries) == 2
	})
	for _, q := range queries {
		switch {
		case strings.HasPrefix(q, "POST ") && q != "POST ":
			t.Errorf("pay notification kept the query: %q", q)
		case strings.HasPrefix(q, "GET ") && !strings.HasPrefix(q, "GET shop=8&"):
			t.Errorf("payout notification query: %q", q)
		}
	}
}

// Many callers racing with one merchant order number make one order.
func TestConcurrentDuplicateCreates(t *testing.T) {
	sb, srv := startSandbox(t, Config{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, ans := call(t, srv, "/api/trans/create_order", signed(transReq("RACE-1", "1", "http://127.0.0.1:1/n")))
			if ans["retCode"] == "SUCCESS" {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 || sb.CreateCount("RACE-1") != 1 {
		t.Errorf("%d creates succeeded, CreateCount %d; want 1 and 1", wins, sb.CreateCount("RACE-1"))
	}
}
