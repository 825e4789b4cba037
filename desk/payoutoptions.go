package desk

import "time"

// PayoutOptions tune the payout worker; zero values take the defaults.
type PayoutOptions struct {
	Concurrency int           // gateway calls in flight at once (default 64)
	Chunk       int           // payouts marked "submitting" per transaction (default 256)
	Poll        time.Duration // how often to look for work when idle (default 500ms)
	Backoff     time.Duration // first wait before querying an unclear payout again; doubles up to 16× (default 1s)
	FollowUp    time.Duration // query a payout still transferring after this long without news (default 30s)
}

func (o *PayoutOptions) defaults() {
	if o.Concurrency <= 0 {
		o.Concurrency = 64
	}
	if o.Chunk <= 0 {
		o.Chunk = 256
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
	if o.Backoff <= 0 {
		o.Backoff = time.Second
	}
	if o.FollowUp <= 0 {
		o.FollowUp = 30 * time.Second
	}
}
