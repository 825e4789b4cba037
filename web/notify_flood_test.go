package web

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"paydesk/payments"
	"paydesk/store"
)

// dbSize is the size of the database file and of its WAL, in bytes.
func dbSize(t *testing.T, path string) (file, wal int64) {
	t.Helper()
	for _, f := range []struct {
		name string
		size *int64
	}{{path, &file}, {path + "-wal", &wal}} {
		fi, err := os.Stat(f.name)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if err == nil {
			*f.size = fi.Size()
		}
	}
	return file, wal
}

// settledSize checkpoints the whole WAL into the database file, truncates
// the WAL, and returns the size of both: what the data takes.
func settledSize(t *testing.T, db *store.DB) int64 {
	t.Helper()
	// The console's own checkpointer may be copying: try again a while.
	for try := 0; ; try++ {
		var busy, frames, copied int
		err := db.QueryRow(`PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &frames, &copied)
		if err == nil && busy == 0 {
			break
		}
		if try == 100 {
			t.Fatalf("checkpoint: busy %d, %v", busy, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	file, wal := dbSize(t, db.Path())
	return file + wal
}

// 10,000 forged callbacks of 64 KiB each, from 100 addresses, grow the
// database (file and WAL) by less than 10 MB, while genuine callbacks sent
// at the same time are all answered success and applied.
//
// Both sizes are taken with the WAL checkpointed and truncated, so that
// they measure what the data takes. The WAL file's own high-water mark
// (reused, and bounded near 40 MB by wal_autocheckpoint) is logged apart;
// the run without forgeries shows that the genuine callbacks alone reach it.
//
//	go test ./web/ -run TestNotifyFloodGrowth -v
func TestNotifyFloodGrowth(t *testing.T) {
	t.Run("genuine only", func(t *testing.T) { floodRun(t, 0) })
	t.Run("with 10000 forged", func(t *testing.T) {
		if growth := floodRun(t, 10000); growth >= 10e6 {
			t.Errorf("the database grew by %d bytes, want less than 10 MB", growth)
		}
	})
}

// floodRun sends 500 genuine callbacks and, at the same time, forged ones;
// it checks every reply and order and returns the database's growth.
func floodRun(t *testing.T, forged int64) int64 {
	env := newTestEnv(t, trustProxy)
	ctx := context.Background()
	acct := env.cbAccount("Main", testMchID, testKey)
	const genuine, size = 500, maxNotifyBody
	orders := make([]store.PayOrder, genuine)
	for i := range orders {
		orders[i] = env.cbPayOrder(acct.ID, fmt.Sprintf("M-FL-%d", i), fmt.Sprintf("P-FL-%d", i), 100+int64(i), payments.PayPaying)
	}
	// Four kinds of forgery, each exactly 64 KiB.
	pad := func(s string) string { return s + strings.Repeat("x", size-len(s)) }
	forgeries := []struct{ kind, body string }{
		{"pay", pad(cbSigned(cbPayFields("P-FL-1", "M-FL-1", 101, 2), "NOT-THE-KEY").Encode() + "&padding=")},
		{"pay", pad(strings.Replace(cbSigned(cbPayFields("P-FL-2", "M-FL-2", 102, 2), "K").Encode(), "mchId="+testMchID, "mchId=77777777", 1) + "&padding=")},
		{"trans", pad(cbSigned(cbPayFields("P-FL-3", "M-FL-3", 103, 2), testKey).Encode() + "&padding=")},
		{"pay", pad("status=%zz&padding=")},
	}
	before := settledSize(t, env.db)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	defer client.CloseIdleConnections()
	post := func(kind, body, from string) (int, string, error) {
		req, _ := http.NewRequest("POST", env.ts.URL+"/notify/"+kind, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		res, err := client.Do(req)
		if err != nil {
			return 0, "", err
		}
		defer res.Body.Close()
		return res.StatusCode, cbReadAll(res), nil
	}
	var next atomic.Int64
	var forgedOK, forgedSuccess atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= forged {
					return
				}
				f := forgeries[i%int64(len(forgeries))]
				code, body, err := post(f.kind, f.body, fmt.Sprintf("198.51.100.%d", i%100))
				switch {
				case err != nil:
					t.Error(err)
					return
				case body == "success" || code < 400 || code >= 500:
					forgedSuccess.Add(1)
				default:
					forgedOK.Add(1)
				}
			}
		}()
	}
	replies := make([]string, genuine)
	for g := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := g; i < genuine; i += 2 {
				// Spread over the whole flood.
				for next.Load() < int64(i)*forged/genuine {
					time.Sleep(time.Millisecond)
				}
				o := orders[i]
				code, body, err := post("pay", cbSigned(cbPayFields(o.PayOrderID, o.MchOrderNo, o.Amount, 2), testKey).Encode(), "203.0.113.1")
				replies[i] = fmt.Sprintf("%d %s %v", code, body, err)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	file, wal := dbSize(t, env.db.Path())
	after := settledSize(t, env.db)
	t.Logf("right after the flood: database file %.2f MB, WAL file %.2f MB (before: %.2f MB, WAL truncated)", float64(file)/1e6, float64(wal)/1e6, float64(before)/1e6)

	if forgedSuccess.Load() > 0 || forgedOK.Load() != forged {
		t.Errorf("forged: %d refused, %d not refused, of %d", forgedOK.Load(), forgedSuccess.Load(), forged)
	}
	for i, r := range replies {
		if r != "200 success <nil>" {
			t.Errorf("genuine callback %d: %s", i, r)
		}
		if got, _ := env.db.PayOrderByID(ctx, orders[i].ID); got.StatusOr(-1) != payments.PayPaid {
			t.Errorf("order %d: status %d, want paid", i, got.StatusOr(-1))
		}
	}
	if n := env.countRows(`result = 'applied'`); n != genuine {
		t.Errorf("%d callbacks applied, want %d", n, genuine)
	}
	var counted int
	env.db.QueryRow(`SELECT coalesce(sum(count), 0) FROM alerts`).Scan(&counted)
	if int64(counted) != forged {
		t.Errorf("alerts count %d rejected callbacks, want %d", counted, forged)
	}
	stored := env.countRows(`result = 'rejected'`)
	growth := after - before
	t.Logf("%d forged callbacks of %d bytes and %d genuine ones in %v: database and WAL grew by %.2f MB (%d bytes); %d rejected rows stored",
		forged, size, genuine, elapsed.Round(time.Millisecond), float64(growth)/1e6, growth, stored)
	return growth
}
