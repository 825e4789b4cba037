package desk

import (
	"context"
	"time"
)

// checkpointEvery is how often the WAL is copied into the database file.
const checkpointEvery = 250 * time.Millisecond

// runCheckpointer copies the WAL into the database file in the background.
// Left to SQLite, the commit that crosses the WAL's size mark does the copy
// and its fsync itself, and every callback in that batch waits for it; done
// here, on another connection, commits never wait for a checkpoint.
func (d *Desk) runCheckpointer(ctx context.Context) {
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, _, err := d.db.Checkpoint(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("wal checkpoint", "err", err)
		}
	}
}
