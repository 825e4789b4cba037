package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"
)

// ThrottleCount is the sign-in throttle's count for one key (a username, a
// client address, a user's two-factor codes), as several consoles on one
// database share it (migration 0092). What the fields mean is the core's.
type ThrottleCount struct {
	Key      string
	Failures int
	Pending  int
	Refused  int
	Until    time.Time
	Last     time.Time
}

// empty reports whether c counts nothing: such a count has no row.
func (c ThrottleCount) empty() bool { return c.Failures == 0 && c.Pending == 0 && c.Refused == 0 }

// UpdateThrottle hands f the counts of keys (zero for a key without one)
// locked against every other console on the database until they are
// written back: f's changes to one key's count follow every other
// console's changes to it, none lost. A count f leaves empty is deleted.
// The transaction takes no lock but the rows' own, so a sign-in does not
// wait for the callback writer.
func (db *DB) UpdateThrottle(ctx context.Context, keys []string, f func(counts []*ThrottleCount)) error {
	keys = slices.Clone(keys)
	slices.Sort(keys)
	keys = slices.Compact(keys)
	if len(keys) == 0 {
		return nil
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	defer tx.Rollback()
	in := strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ")
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	sel := `SELECT key, failures, pending, refused, wait_until, last_at FROM signin_throttle WHERE key IN (` + in + `) ORDER BY key`
	if db.pg {
		// A row to lock for every key. Keys are inserted in order, and a
		// console inserting the same new key waits for this one's commit,
		// so two consoles never wait on each other in a circle.
		ins := `INSERT INTO signin_throttle (key, last_at) VALUES ` + strings.TrimSuffix(strings.Repeat("(?, ?), ", len(keys)), ", ") + ` ON CONFLICT (key) DO NOTHING`
		insArgs := make([]any, 0, 2*len(keys))
		now := timeText(db.now())
		for _, k := range keys {
			insArgs = append(insArgs, k, now)
		}
		if _, err := tx.ExecContext(ctx, ins, insArgs...); err != nil {
			return fmt.Errorf("throttle: %w", err)
		}
		sel += ` FOR UPDATE`
	}
	counts := make([]*ThrottleCount, len(keys))
	byKey := map[string]*ThrottleCount{}
	for i, k := range keys {
		counts[i] = &ThrottleCount{Key: k}
		byKey[k] = counts[i]
	}
	rows, err := tx.QueryContext(ctx, sel, args...)
	if err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	for rows.Next() {
		var c ThrottleCount
		var until sql.NullString
		var last string
		if err := rows.Scan(&c.Key, &c.Failures, &c.Pending, &c.Refused, &until, &last); err != nil {
			rows.Close()
			return fmt.Errorf("throttle: %w", err)
		}
		c.Until, c.Last = parseTime(until.String), parseTime(last)
		*byKey[c.Key] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	before := make([]ThrottleCount, len(counts))
	for i, c := range counts {
		before[i] = *c
	}
	f(counts)
	for i, c := range counts {
		c.Key = keys[i]
		switch {
		case *c == before[i] && !(db.pg && c.empty()):
			continue
		case c.empty():
			_, err = tx.ExecContext(ctx, `DELETE FROM signin_throttle WHERE key = ?`, c.Key)
		default:
			_, err = tx.ExecContext(ctx, `INSERT INTO signin_throttle (key, failures, pending, refused, wait_until, last_at) VALUES (?, ?, ?, ?, ?, ?)
				ON CONFLICT (key) DO UPDATE SET failures = excluded.failures, pending = excluded.pending, refused = excluded.refused,
				wait_until = excluded.wait_until, last_at = excluded.last_at`,
				c.Key, c.Failures, c.Pending, c.Refused, nullTime(c.Until), timeText(c.Last))
		}
		if err != nil {
			return fmt.Errorf("throttle: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("throttle: %w", err)
	}
	return nil
}

// ThrottleCounts returns the counts of those of keys that have one, as
// committed, without locking them.
func (db *DB) ThrottleCounts(ctx context.Context, keys []string) ([]ThrottleCount, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	args := make([]any, len(keys))
	for i, k := range keys {
		args[i] = k
	}
	return collect(ctx, db, func(r rowScanner) (ThrottleCount, error) {
		var c ThrottleCount
		var until sql.NullString
		var last string
		err := r.Scan(&c.Key, &c.Failures, &c.Pending, &c.Refused, &until, &last)
		c.Until, c.Last = parseTime(until.String), parseTime(last)
		return c, err
	}, `SELECT key, failures, pending, refused, wait_until, last_at FROM signin_throttle WHERE key IN (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(keys)), ", ")+`) AND NOT (failures = 0 AND pending = 0 AND refused = 0)`, args...)
}

// ForgetThrottles deletes the counts whose last attempt was before idle
// and whose wait has ended by now (attempts still counted as being checked
// then belonged to a console that stopped), and returns how many.
func (db *DB) ForgetThrottles(ctx context.Context, idle, now time.Time) (int64, error) {
	res, err := db.ExecContext(ctx, `DELETE FROM signin_throttle WHERE last_at < ? AND (wait_until IS NULL OR wait_until <= ?)`, timeText(idle), timeText(now))
	if err != nil {
		return 0, fmt.Errorf("forget throttles: %w", err)
	}
	return res.RowsAffected()
}
