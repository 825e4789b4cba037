package store

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkAuditAppend measures one audit row appended in its own write
// transaction (db.Audit), as a sign-in or a settings change does.
func BenchmarkAuditAppend(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "p.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	e := AuditEntry{Actor: "li.na", Action: "payment.create", Subject: "pay:PD20261126000123", Detail: "amount 12345 fen at gateway account Main", ClientAddr: "10.0.0.7"}
	for b.Loop() {
		if err := db.Audit(ctx, e); err != nil {
			b.Fatal(err)
		}
	}
}
