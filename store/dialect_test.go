package store

import (
	"context"
	"database/sql"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"paydesk/internal/dbtest"
)

func TestRebind(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE b = ? AND c = ?`, `SELECT a FROM t WHERE b = $1 AND c = $2`},
		// SQLite numbers a bare ? after the largest number so far.
		{`VALUES (?1, ?2, ?2, ?, ?)`, `VALUES ($1, $2, $2, $3, $4)`},
		{`VALUES (?1, ?2), (?1, ?2, ?)`, `VALUES ($1, $2), ($1, $2, $3)`},
		{`SELECT '?', "a?b", x FROM t WHERE y = ? -- why?` + "\n" + `AND z = ?`, `SELECT '?', "a?b", x FROM t WHERE y = $1 -- why?` + "\n" + `AND z = $2`},
		{`SELECT 'it''s ?' WHERE a = ?::bigint`, `SELECT 'it''s ?' WHERE a = $1::bigint`},
	} {
		if got := rebind(c.in); got != c.want {
			t.Errorf("rebind(%q)\n = %q\nwant %q", c.in, got, c.want)
		}
	}
}

// Times go in as text and come back as the same instant: the store's own
// times exactly (on PostgreSQL they are made with microseconds, all it
// keeps), a time given with nanoseconds to the microsecond on PostgreSQL
// and exactly on SQLite.
func TestTimesRoundTrip(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 1, 2, 3, 123456789, time.FixedZone("CST", 8*3600))
	db, err := Open(ctx, dbtest.URL(t), func() time.Time { return now })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	acct := testAccount(t, db)
	expires := time.Date(2026, 12, 1, 23, 59, 59, 999999999, time.UTC)
	var id int64
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		id, err = db.InsertPayOrderTx(ctx, tx, PayOrder{AccountID: acct, MchOrderNo: "T1", ProductID: 8000, Amount: 1, State: "open", ExpiresAt: expires})
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	o, err := db.PayOrderByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	want := now
	if db.Postgres() {
		want = now.Truncate(time.Microsecond)
	}
	if !o.CreatedAt.Equal(want) || !o.UpdatedAt.Equal(want) {
		t.Errorf("created %s, updated %s, want %s", o.CreatedAt.Format(time.RFC3339Nano), o.UpdatedAt.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
	if d := o.ExpiresAt.Sub(expires).Abs(); d > 0 && (!db.Postgres() || d >= time.Microsecond) {
		t.Errorf("expires %s, want %s", o.ExpiresAt.Format(time.RFC3339Nano), expires.Format(time.RFC3339Nano))
	}
	// A time read back still finds its row (the lists page by created_at).
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM pay_orders WHERE created_at = ?`, timeText(o.CreatedAt)).Scan(&n); err != nil || n != 1 {
		t.Errorf("by its created_at: %d rows, %v", n, err)
	}
}

// Instances started together apply the migrations once: the second waits
// for the first's lock and finds them applied.
func TestOpenAtOnceMigratesOnce(t *testing.T) {
	if !dbtest.Postgres() {
		t.Skip("PostgreSQL only: one console opens a SQLite file")
	}
	ctx := context.Background()
	u := dbtest.URL(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			db, err := Open(ctx, u, nil)
			if err == nil {
				db.Close()
			}
			errs[i] = err
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("instance %d: %v", i, err)
		}
	}
	db, err := Open(ctx, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n, distinct int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(DISTINCT version) FROM schema_migrations`).Scan(&n, &distinct); err != nil || n != distinct || n == 0 {
		t.Fatalf("%d migrations recorded, %d distinct: %v", n, distinct, err)
	}
}

// Every migration is in the folder of its dialect, and every SQLite
// migration after the PostgreSQL baseline has a PostgreSQL twin under the
// same number (and no PostgreSQL one is without its SQLite twin): a
// migration left in store/migrations itself would not be embedded, and
// one without its twin would leave the stores apart.
func TestMigrationsHaveTwins(t *testing.T) {
	top, err := os.ReadDir("migrations")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range top {
		if !e.IsDir() {
			t.Errorf("migrations/%s: put it in migrations/sqlite, with its twin in migrations/postgres", e.Name())
		}
	}
	numbers := func(dir string) map[string]string {
		entries, err := migrationFS.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, e := range entries {
			num, _, _ := strings.Cut(e.Name(), "_")
			out[num] = e.Name()
		}
		return out
	}
	lite, pg := numbers("migrations/sqlite"), numbers("migrations/postgres")
	const baseline = "0060"
	if pg[baseline] == "" {
		t.Fatalf("no PostgreSQL baseline %s", baseline)
	}
	for num, name := range lite {
		if num > baseline && pg[num] == "" {
			t.Errorf("sqlite/%s has no PostgreSQL twin postgres/%s_….sql", name, num)
		}
	}
	for num, name := range pg {
		if num < baseline || (num > baseline && lite[num] == "") {
			t.Errorf("postgres/%s has no SQLite twin", name)
		}
	}
}
