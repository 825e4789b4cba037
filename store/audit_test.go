package store

import (
	"context"
	"fmt"
	"paydesk/internal/dbtest"
	"testing"
	"time"
)

func TestAuditChainDetectsTampering(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	for i := range 5 {
		if err := db.Audit(ctx, AuditEntry{Actor: "alice", Action: "user.create", Subject: fmt.Sprintf("user:u%d", i), Detail: "role viewer", ClientAddr: "127.0.0.1"}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := db.VerifyAudit(ctx)
	if err != nil || !rep.Intact() || rep.Rows != 5 {
		t.Fatalf("fresh log: %+v %v", rep, err)
	}
	// The log refuses edits and deletes.
	if _, err := db.ExecContext(ctx, `UPDATE audit_log SET detail = 'x' WHERE id = 3`); err == nil {
		t.Fatal("an audit row was updated")
	}
	if _, err := db.ExecContext(ctx, `DELETE FROM audit_log WHERE id = 3`); err == nil {
		t.Fatal("an audit row was deleted")
	}
	// Someone with the file drops the trigger and edits a row.
	if _, err := db.ExecContext(ctx, dropTrigger(db, "audit_log_no_update")); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `UPDATE audit_log SET detail = 'role admin' WHERE id = 3`); err != nil {
		t.Fatal(err)
	}
	rep, err = db.VerifyAudit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Intact() || rep.BrokenAt != 3 || rep.Rows != 5 || rep.BrokenWhy == "" {
		t.Fatalf("tampered log: %+v", rep)
	}
}

func TestAuditDeletedRowDetected(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	for i := range 4 {
		db.Audit(ctx, AuditEntry{Action: "auth.login", Subject: fmt.Sprint(i)})
	}
	db.ExecContext(ctx, dropTrigger(db, "audit_log_no_delete"))
	if _, err := db.ExecContext(ctx, `DELETE FROM audit_log WHERE id = 2`); err != nil {
		t.Fatal(err)
	}
	rep, _ := db.VerifyAudit(ctx)
	if rep.BrokenAt != 3 {
		t.Fatalf("after deleting row 2: %+v", rep)
	}
}

func TestAuditFilterAndPaging(t *testing.T) {
	ctx := context.Background()
	clock := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	db, err := Open(ctx, dbtest.URL(t), func() time.Time { return clock })
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	entries := []AuditEntry{
		{Actor: "alice", Action: "auth.login", Subject: "user:alice"},
		{Actor: "alice", Action: "user.create", Subject: "user:bob", Detail: "role operator"},
		{Actor: "bob", Action: "auth.login", Subject: "user:bob"},
		{Actor: "bob", Action: "payment.create", Subject: "pay:1", Detail: "amount 100_% fen"},
		{Actor: "alice", Action: "user.role", Subject: "user:bob", Detail: "role approver"},
	}
	for _, e := range entries {
		if err := db.Audit(ctx, e); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(24 * time.Hour)
	}
	ids := func(es []AuditEntry) []int64 {
		var out []int64
		for _, e := range es {
			out = append(out, e.ID)
		}
		return out
	}
	tests := []struct {
		name string
		f    AuditFilter
		want []int64
	}{
		{"all newest first", AuditFilter{}, []int64{5, 4, 3, 2, 1}},
		{"actor", AuditFilter{Actor: "bob"}, []int64{4, 3}},
		{"action prefix", AuditFilter{Action: "user."}, []int64{5, 2}},
		{"action prefix is not a substring", AuditFilter{Action: "login"}, nil},
		{"text in subject or detail", AuditFilter{Text: "approver"}, []int64{5}},
		{"text with LIKE wildcards is literal", AuditFilter{Text: "100_%"}, []int64{4}},
		{"underscore alone matches nothing extra", AuditFilter{Text: "_"}, []int64{4}},
		{"from", AuditFilter{From: time.Date(2026, 11, 4, 0, 0, 0, 0, time.UTC)}, []int64{5, 4}},
		{"to is exclusive", AuditFilter{To: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}, []int64{1}},
		{"page 1", AuditFilter{Limit: 2}, []int64{5, 4}},
		{"page 2", AuditFilter{Limit: 2, BeforeID: 4}, []int64{3, 2}},
		{"page 3", AuditFilter{Limit: 2, BeforeID: 2}, []int64{1}},
		{"combined", AuditFilter{Actor: "alice", Action: "user.", Text: "bob"}, []int64{5, 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := db.AuditEntries(ctx, tt.f)
			if err != nil {
				t.Fatal(err)
			}
			if fmt.Sprint(ids(got)) != fmt.Sprint(tt.want) {
				t.Fatalf("got %v, want %v", ids(got), tt.want)
			}
		})
	}
	first, _ := db.AuditEntries(ctx, AuditFilter{Limit: 1, BeforeID: 2})
	if len(first) != 1 || !first[0].At.Equal(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)) || first[0].Actor != "alice" {
		t.Fatalf("row 1 read back as %+v", first)
	}
}

// dropTrigger is the SQL that drops one of audit_log's triggers, as an
// attacker with the database would.
func dropTrigger(db *DB, name string) string {
	if db.Postgres() {
		return `DROP TRIGGER ` + name + ` ON audit_log`
	}
	return `DROP TRIGGER ` + name
}
