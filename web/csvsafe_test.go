package web

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"paydesk/payments/sandbox"
	"paydesk/store"
)

// hostile are cell values a spreadsheet would run as formulas, the formula
// hidden behind blanks and line breaks.
var hostile = []string{" =1+2", "\t=HYPERLINK(\"http://x\")", "\r\n+SUM(A1)", "\n-2+3", "  @cmd", "=A1", "\r=x"}

// formulaFree reads a CSV download and fails for every cell whose first
// non-blank character starts a formula without the apostrophe before it;
// it returns every cell (without carriage returns), to look for the
// hostile ones.
func formulaFree(t *testing.T, what string, res response) map[string]bool {
	t.Helper()
	if res.StatusCode != 200 {
		t.Fatalf("%s: status %d: %.300s", what, res.StatusCode, res.body)
	}
	r := csv.NewReader(strings.NewReader(strings.TrimPrefix(res.body, "\ufeff")))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	cells := map[string]bool{}
	for _, rec := range recs {
		for _, c := range rec {
			cells[strings.ReplaceAll(c, "\r", "")] = true
			if tr := strings.TrimLeft(c, " \t\r\n"); tr != "" && strings.IndexByte("=+-@", tr[0]) >= 0 {
				t.Errorf("%s: cell %q runs as a formula", what, c)
			}
		}
	}
	return cells
}

// wantNeutralised checks that every hostile value is in cells, with an
// apostrophe before it. Carriage returns are left out of the comparison:
// encoding/csv reads CR LF inside a field as LF, and CRLF files differ.
func wantNeutralised(t *testing.T, what string, cells map[string]bool, values ...string) {
	t.Helper()
	for _, v := range values {
		if want := "'" + strings.ReplaceAll(v, "\r", ""); !cells[want] {
			t.Errorf("%s: no cell %q", what, want)
		}
	}
}

// Every CSV Paydesk writes neutralises formula-like cells, also when the
// formula hides behind spaces, tabs and line breaks.
func TestEveryCSVIsFormulaSafe(t *testing.T) {
	env := newSandboxEnv(t, sandbox.Faults{})
	ctx := context.Background()
	admin, _ := env.signedIn(store.RoleAdmin)

	// Payments export: text that came from elsewhere (external orders,
	// stored before the forms checked it).
	err := env.db.InTx(ctx, func(tx *sql.Tx) error {
		for i, h := range hostile {
			_, err := env.db.InsertPayOrderTx(ctx, tx, store.PayOrder{AccountID: env.account.ID, MchOrderNo: fmt.Sprintf("EVIL%d", i), ProductID: 8000,
				Amount: 100, Subject: h, Body: h, Param1: h, Param2: h, State: store.PayStateOpen, CreatedBy: h})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cells := formulaFree(t, "payments.csv", admin.get("/payments.csv"))
	wantNeutralised(t, "payments.csv", cells, hostile...)

	// Audit export.
	err = env.db.InTx(ctx, func(tx *sql.Tx) error {
		for _, h := range hostile {
			if err := env.db.AuditTx(ctx, tx, store.AuditEntry{Actor: "evil", Action: "note.csv", Subject: h, Detail: h, ClientAddr: h}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cells = formulaFree(t, "audit.csv", admin.get("/settings/audit.csv?actor=evil"))
	wantNeutralised(t, "audit.csv", cells, hostile...)

	// Batch results: names and bank names stored, the gateway's error text,
	// and the messages of rows that never became payouts.
	var ps []store.Payout
	for i, h := range hostile {
		p := testPayout(fmt.Sprintf("62220202000000000%02d", i))
		p.AccountName, p.BankName = h, h
		ps = append(ps, p)
	}
	id := env.approvedBatch(ps...)
	if _, err := env.db.Exec(`UPDATE payouts SET state = ?, last_error = ? WHERE batch_id = ? AND row_no = 2`, store.PayoutRefused, hostile[2], id); err != nil {
		t.Fatal(err)
	}
	for i, h := range hostile {
		if _, err := env.db.Exec(`INSERT INTO payout_batch_issues (batch_id, row_no, severity, message) VALUES (?, ?, 'error', ?)`, id, 100+i, h); err != nil {
			t.Fatal(err)
		}
	}
	cells = formulaFree(t, "results.csv", admin.get(fmt.Sprintf("/payouts/batches/%d/results.csv", id)))
	wantNeutralised(t, "results.csv", cells, hostile...)

	formulaFree(t, "template.csv", admin.get("/payouts/template.csv"))
}
