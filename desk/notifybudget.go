package desk

import (
	"net/netip"
	"sync"
	"time"
)

// What a callback that fails verification or parsing may store. Such a
// request may come from anyone: only the start of it is kept, and only so
// many per client address and overall per hour; beyond that only the
// count of its alert moves. The buckets live in memory: one console
// process owns the database, and a restart only refills them.
const (
	// rejectedKeep is how much of a rejected request's query and body is
	// stored; a gateway's callback is well under 2 KB.
	rejectedKeep = 4 << 10
	// rejectedFieldKeep bounds what is stored of the merchant id and order
	// numbers read from a rejected request (the protocol's are ≤ 30).
	rejectedFieldKeep = 64
	// rejectedPerAddr and rejectedPerHour are the stored rejected rows per
	// client address (IPv6: per /64) and overall, per hour.
	rejectedPerAddr = 20
	rejectedPerHour = 200
	// overBudgetKey is the alert key that counts rejected callbacks from
	// addresses that stored none within the hour, once the overall budget
	// is spent: so a flood from many addresses opens one alert, not one
	// per address.
	overBudgetKey = "other addresses (over the hourly budget)"
)

// rejectBudget is two levels of token buckets: one per client address,
// one for all.
type rejectBudget struct {
	mu    sync.Mutex
	addrs map[string]*bucket
	all   bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

// refill adds what perHour tokens an hour earned since the last call, up
// to perHour; a new bucket starts full.
func (b *bucket) refill(now time.Time, perHour float64) {
	switch {
	case b.at.IsZero():
		b.tokens = perHour
	case now.After(b.at):
		b.tokens = min(perHour, b.tokens+perHour*now.Sub(b.at).Hours())
	default:
		return
	}
	b.at = now
}

func newRejectBudget() *rejectBudget {
	return &rejectBudget{addrs: map[string]*bucket{}}
}

// take decides what becomes of one rejected callback from the address
// key: stored raw (its start), or only counted. alertKey is the dedupe
// key of the alert that counts it.
func (rb *rejectBudget) take(key string, now time.Time) (stored bool, alertKey string) {
	rb.mu.Lock()
	defer rb.mu.Unlock()
	b, known := rb.addrs[key]
	if !known {
		b = &bucket{}
	}
	b.refill(now, rejectedPerAddr)
	rb.all.refill(now, rejectedPerHour)
	if b.tokens >= 1 && rb.all.tokens >= 1 {
		b.tokens--
		rb.all.tokens--
		if !known {
			rb.forgetFull(now)
			rb.addrs[key] = b
		}
		return true, key
	}
	if known {
		return false, key
	}
	return false, overBudgetKey
}

// forgetFull drops the buckets that are full again (unused for an hour)
// once there are many: a new bucket costs a token of the overall budget,
// so the map holds about two hours' worth of it at most.
func (rb *rejectBudget) forgetFull(now time.Time) {
	if len(rb.addrs) < 2*rejectedPerHour {
		return
	}
	for k, b := range rb.addrs {
		if b.refill(now, rejectedPerAddr); b.tokens >= rejectedPerAddr {
			delete(rb.addrs, k)
		}
	}
}

// rejectKey is the budget key of a client address: the address itself,
// or its /64 for IPv6 (one host commonly holds a whole /64).
func rejectKey(clientAddr string) string {
	a, err := netip.ParseAddr(clientAddr)
	if err != nil {
		// Only a forwarded header can say this; they share one key.
		return "unparsable address"
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}
