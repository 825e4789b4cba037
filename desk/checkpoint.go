package desk

import (
	"context"
	"time"
)

// checkpointEvery is how often the WAL is copied into the database file.
// Often, because what is left uncopied is what the commit that crosses
// wal_autocheckpoint's mark copies itself (runCheckpointer).
const checkpointEvery = 25 * time.Millisecond

// runCheckpointer copies the WAL into the database file in the background.
// Left to SQLite, the commit that crosses the WAL's size mark does the copy
// and its fsync itself, and every callback in that batch waits for it; done
// here, on another connection, commits do not wait for the copy. While
// callbacks keep coming the WAL still grows to that mark, since SQLite
// starts it again only at a write transaction that finds every frame
// copied, which is what the crossing commit's own pass provides: it then
// copies only the frames written since the last pass here. At 32 senders
// the longest writer transactions took 34-48 ms with a pass every 250 ms,
// 9-17 ms with one every 25 ms.
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
