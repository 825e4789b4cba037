package desk

import (
	"context"
	"time"
)

const (
	// checkpointEvery is how often the WAL is copied into the database
	// file.
	checkpointEvery = 25 * time.Millisecond
	// restartFrames is the WAL's length (in pages) from which the
	// callback writer is asked to let it start again from its beginning
	// (notifier.finishCheckpoint): 8 MiB, well below the 10,000 pages of
	// wal_autocheckpoint. At 64 senders the writer adds about 1,000 pages
	// between two passes.
	restartFrames = 2048
)

// runCheckpointer copies the WAL into the database file in the background.
// Left to SQLite, the commit that crosses the WAL's size mark does the copy
// and its fsync itself, and every callback in that batch waits for it; done
// here, on another connection, commits wait for no copy.
//
// Copying is not enough while callbacks keep coming: SQLite starts the WAL
// again from its beginning only when a write transaction begins with every
// frame copied, and the callback writer has always written more while a
// pass ran. The WAL then only grows, and once it holds wal_autocheckpoint
// pages every commit copies the new frames and waits for two fsyncs itself
// (30–45 ms, four times a second, measured at 64 senders). So once the WAL
// is long, the writer is asked to copy the frames written during the last
// pass between two of its transactions, and the checkpointer waits for it:
// the writer's next transaction starts the WAL again, and the WAL stays
// within a few megabytes, rewritten in place.
func (d *Desk) runCheckpointer(ctx context.Context) {
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		frames, _, err := d.db.Checkpoint(ctx)
		if err != nil {
			if ctx.Err() == nil {
				d.log.Warn("wal checkpoint", "err", err)
			}
			continue
		}
		if frames >= restartFrames {
			d.notifier.finishCheckpoint(ctx)
		}
	}
}
