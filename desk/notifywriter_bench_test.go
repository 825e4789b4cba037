package desk

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

// BenchmarkNotifyWriter measures the callback writer alone, on one
// goroutine: the CPU it spends per callback storing and applying batches
// of 32 first paid callbacks of distinct known open orders (200,000
// stored), the way it runs under load (each commit stores a batch and
// applies it). No HTTP, no other goroutine competing: the CPU time
// of the process (user and system, so other work on the machine does not
// count) per callback bounds how many callbacks one core of writer can
// take.
//
//	go test ./desk/ -run '^$' -bench NotifyWriter -benchtime 40000x
func BenchmarkNotifyWriter(b *testing.B) {
	for _, batch := range []int{8, 32, 128} {
		b.Run(fmt.Sprintf("first/batch=%d", batch), func(b *testing.B) { benchWriter(b, false, batch) })
	}
	b.Run("external/batch=32", func(b *testing.B) { benchWriter(b, true, 32) })
}

func benchWriter(b *testing.B, external bool, batch int) {
	const orders = 200_000
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	d, err := New(Config{MasterKey: testMasterKey, PublicURL: "http://127.0.0.1:1"}, db, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	acct, err := d.CreateGatewayAccount(ctx, admin, GatewayInput{Name: "Bench", BaseURL: "http://127.0.0.1:1",
		NotifyBaseURL: "http://127.0.0.1:1", MchID: testMchID, AppID: "app1", Key: testKey})
	if err != nil {
		b.Fatal(err)
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO pay_orders (account_id, mch_order_no, pay_order_id, product_id, amount,
			subject, status, state, created_at, updated_at, link_token) VALUES (?, ?, ?, ?, ?, 'Order', ?, 'open', ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range max(orders, b.N) {
			at := base.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000000000Z")
			if _, err := stmt.ExecContext(ctx, acct.ID, fmt.Sprintf("PD%012d", i), fmt.Sprintf("P%019d", i), 8000+i%20, 1+i%100000,
				i%2, at, at, fmt.Sprintf("tok%019d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	jobs := make([]*notifyJob, b.N)
	for i := range jobs {
		p := payFields(testMchID, "app1", fmt.Sprintf("P%019d", i), fmt.Sprintf("PD%012d", i), int64(1+i%100000), payments.PayPaid)
		if external {
			p = payFields(testMchID, "app1", fmt.Sprintf("Q%019d", i), fmt.Sprintf("EX%012d", i), 100, payments.PayPaid)
		}
		body := signedQuery(p, testKey)
		j := &notifyJob{raw: store.RawNotification{ReceivedAt: time.Now(), Kind: string(payments.NotifyPay), Method: "POST", ClientAddr: "203.0.113.9",
			Headers: "Content-Type: application/x-www-form-urlencoded\n", RawBody: []byte(body), BodyLen: len(body)}, reply: make(chan CallbackReply, 1)}
		d.prepareNotify(ctx, j)
		if _, rejected := j.rejection(); rejected {
			b.Fatalf("callback %d rejected", i)
		}
		jobs[i] = j
	}
	nf := d.notifier
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < len(jobs); i += batch {
		nf.cycle(ctx, jobs[i:min(i+batch, len(jobs))])
	}
	cpu := cpuTime() - cpu0
	b.StopTimer()
	for i, j := range jobs {
		if rep := <-j.reply; rep.Code != http.StatusOK {
			b.Fatalf("callback %d: %d %s", i, rep.Code, rep.Body)
		}
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/callback")
	b.ReportMetric(0, "ns/op")
}

// cpuTime is the CPU time this process has used (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
