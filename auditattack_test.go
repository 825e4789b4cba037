package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"paydesk/store"
)

// auditLogOfCommands builds a data folder whose audit log has rows rows,
// written by the user commands as staff would.
func auditLogOfCommands(t *testing.T, rows int) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := runCmd(t, dir, "first-password-1\n", "user", "add", "-username", "olga", "-role", "admin"); err != nil {
		t.Fatal(err)
	}
	for i := 1; i < rows; i++ {
		if _, err := runCmd(t, dir, fmt.Sprintf("password-number-%02d\n", i), "user", "passwd", "-username", "olga"); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// copyDataFolder copies a data folder as someone with the files would:
// the database through `paydesk backup`, and the other files.
func copyDataFolder(t *testing.T, dir string) string {
	t.Helper()
	dst := t.TempDir()
	if _, err := runCmd(t, dir, "", "backup", filepath.Join(dst, "paydesk.db")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"master.key", "audit.head"} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// tamper opens the database in dir as someone without the master key
// would: the triggers refusing changes dropped, rows edited with SQL.
func tamper(t *testing.T, dir string, edit func(db *store.DB)) {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(dir, "paydesk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{`DROP TRIGGER audit_log_no_update`, `DROP TRIGGER audit_log_no_delete`} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	edit(db)
}

func mustExec(t *testing.T, db *store.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

// rechainPlain recomputes the hashes of rows from to to (0: the last) with
// plain SHA-256, as the source code shows anyone how, and marks them as
// plain rows where the log knows the difference.
func rechainPlain(t *testing.T, db *store.DB, from, to int64) {
	t.Helper()
	var hasKeyed int
	db.QueryRow(`SELECT count(*) FROM pragma_table_info('audit_log') WHERE name = 'keyed'`).Scan(&hasKeyed)
	var prev string
	if err := db.QueryRow(`SELECT hash FROM audit_log WHERE id = ?`, from-1).Scan(&prev); err != nil {
		t.Fatal(err)
	}
	type row struct {
		id     int64
		fields []string
	}
	if to == 0 {
		to = 1 << 62
	}
	rows, err := db.Query(`SELECT id, at, actor, action, subject, detail, client_addr FROM audit_log WHERE id BETWEEN ? AND ? ORDER BY id`, from, to)
	if err != nil {
		t.Fatal(err)
	}
	var all []row
	for rows.Next() {
		r := row{fields: make([]string, 6)}
		if err := rows.Scan(&r.id, &r.fields[0], &r.fields[1], &r.fields[2], &r.fields[3], &r.fields[4], &r.fields[5]); err != nil {
			t.Fatal(err)
		}
		all = append(all, r)
	}
	rows.Close()
	for _, r := range all {
		h := sha256.New()
		for _, f := range append([]string{prev}, r.fields...) {
			fmt.Fprintf(h, "%d:%s|", len(f), f)
		}
		hash := hex.EncodeToString(h.Sum(nil))
		mustExec(t, db, `UPDATE audit_log SET prev_hash = ?, hash = ? WHERE id = ?`, prev, hash, r.id)
		if hasKeyed > 0 {
			mustExec(t, db, `UPDATE audit_log SET keyed = 0 WHERE id = ?`, r.id)
		}
		prev = hash
	}
}

// The review's attack: on a copy of the database, the newest 20 rows
// deleted and row 12 rewritten with every hash after it recomputed.
// `audit verify` must not call that intact.
func TestAuditVerifyCatchesRewrittenLog(t *testing.T) {
	dir := auditLogOfCommands(t, 35)
	if out, err := runCmd(t, dir, "", "audit", "verify"); err != nil || !strings.Contains(out, "intact: 35 rows") {
		t.Fatalf("the untouched log: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		name  string
		edit  func(db *store.DB)
		wants []string
	}{
		{"newest rows removed and row 12 rewritten", func(db *store.DB) {
			mustExec(t, db, `DELETE FROM audit_log WHERE id > 15`)
			mustExec(t, db, `UPDATE audit_log SET detail = 'password set by the owner' WHERE id = 12`)
			rechainPlain(t, db, 12, 0)
		}, []string{"BROKEN: row 12", "anchor names row 35, but the log ends at row 15"}},
		{"newest rows removed only", func(db *store.DB) {
			mustExec(t, db, `DELETE FROM audit_log WHERE id > 15`)
		}, []string{"anchor names row 35, but the log ends at row 15: rows were removed from the end"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cp := copyDataFolder(t, dir)
			tamper(t, cp, tt.edit)
			out, err := runCmd(t, cp, "", "audit", "verify")
			if err == nil {
				t.Fatalf("audit verify passed a tampered log:\n%s", out)
			}
			for _, w := range tt.wants {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q:\n%s", w, out)
				}
			}
		})
	}
}
