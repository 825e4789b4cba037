package desk

import (
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"paydesk/payments"
)

// While callbacks keep coming, the WAL starts again from its beginning
// once it is long, instead of growing until wal_autocheckpoint's 10,000
// pages make a commit copy it (and every callback of that commit wait):
// the WAL file never reaches that mark.
func TestWALStaysShortUnderCallbacks(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 10,240 callbacks")
	}
	e := newCoreEnv(t)
	e.accountFor("Main", testMchID, "app1", testKey)
	wal := e.db.Path() + "-wal"
	var peak atomic.Int64
	stop := make(chan struct{})
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		for {
			if st, err := os.Stat(wal); err == nil && st.Size() > peak.Load() {
				peak.Store(st.Size())
			}
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
		}
	}()
	// Unknown orders, each recorded as external: every callback adds rows
	// and index entries, about 40 KB of WAL each, hundreds of megabytes
	// in all.
	const senders, each = 32, 320
	var wg sync.WaitGroup
	var failed atomic.Int64
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := s*each + i
				q := signedQuery(payFields(testMchID, "app1", fmt.Sprintf("Q%019d", n), fmt.Sprintf("EX%012d", n), 100+int64(n%1000), payments.PayPaid), testKey)
				if rep := e.notify(payments.NotifyPay, q); rep.Code != 200 {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-watched
	if failed.Load() > 0 {
		t.Fatalf("%d callbacks not answered success", failed.Load())
	}
	// wal_autocheckpoint's mark (store.Open), in 4 KiB pages.
	const autocheckpoint = 10000 * 4096
	if peak.Load() >= autocheckpoint {
		t.Errorf("the WAL grew to %.1f MB; want it started again before %.1f MB", float64(peak.Load())/(1<<20), float64(autocheckpoint)/(1<<20))
	}
	t.Logf("WAL peak %.1f MB", float64(peak.Load())/(1<<20))
}
