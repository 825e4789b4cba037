package store

import (
	"context"
	"path/filepath"
	"paydesk/internal/dbtest"
	"testing"
)

// BenchmarkAuditAppend measures one audit row appended in its own write
// transaction (db.Audit), as a sign-in or a settings change does: plain,
// as without an audit key, and sealed, which adds the seal and, after the
// commit, the WAL sync and the anchor's atomic write.
func BenchmarkAuditAppend(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		name := "plain"
		if sealed {
			name = "sealed"
		}
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			db := openBenchLog(b, sealed)
			e := AuditEntry{Actor: "li.na", Action: "payment.create", Subject: "pay:PD20261126000123", Detail: "amount 12345 fen at gateway account Main", ClientAddr: "10.0.0.7"}
			for b.Loop() {
				if err := db.Audit(ctx, e); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAuditAppendParallel appends from 8 goroutines per core, plain
// and sealed: sealed commits that wait for the anchor meanwhile share one
// anchor write.
func BenchmarkAuditAppendParallel(b *testing.B) {
	for _, sealed := range []bool{false, true} {
		name := "plain"
		if sealed {
			name = "sealed"
		}
		b.Run(name, func(b *testing.B) {
			db := openBenchLog(b, sealed)
			e := AuditEntry{Actor: "li.na", Action: "payment.create", Subject: "pay:PD20261126000123", Detail: "amount 12345 fen at gateway account Main", ClientAddr: "10.0.0.7"}
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := db.Audit(context.Background(), e); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// openBenchLog is a fresh database, with a sealed and anchored log when
// sealed is set.
func openBenchLog(b *testing.B, sealed bool) *DB {
	ctx := context.Background()
	dir := b.TempDir()
	db, err := Open(ctx, dbtest.URL(b), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if sealed {
		if err := db.SetAuditKey(AuditKey{Key: testAuditKey, HeadFile: filepath.Join(dir, "audit.head")}); err != nil {
			b.Fatal(err)
		}
		if err := db.ResumeAuditChain(ctx); err != nil {
			b.Fatal(err)
		}
	}
	return db
}
