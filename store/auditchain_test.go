package store

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"paydesk/internal/dbtest"
	"strings"
	"sync"
	"testing"
)

var (
	testAuditKey  = bytes.Repeat([]byte{0x5a}, 32)
	wrongAuditKey = bytes.Repeat([]byte{0xa5}, 32)
)

// sealedLog is one program's view of a sealed audit log: its database
// handle and its anchor file.
type sealedLog struct {
	db   *DB
	head string
	logs *bytes.Buffer
}

// openSealed opens the database at path with key and the anchor head, and
// takes up the chain as the console does at start-up.
func openSealed(t *testing.T, path, head string, key []byte) *sealedLog {
	t.Helper()
	ctx := context.Background()
	db, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	logs := &bytes.Buffer{}
	if err := db.SetAuditKey(AuditKey{Key: key, HeadFile: head, Log: slog.New(slog.NewTextHandler(logs, nil))}); err != nil {
		t.Fatal(err)
	}
	if err := db.ResumeAuditChain(ctx); err != nil {
		t.Fatal(err)
	}
	return &sealedLog{db: db, head: head, logs: logs}
}

// newSealed is a fresh sealed log in its own folder.
func newSealed(t *testing.T) *sealedLog {
	dir := t.TempDir()
	return openSealed(t, filepath.Join(dir, "paydesk.db"), filepath.Join(dir, "audit.head"), testAuditKey)
}

func appendRows(t *testing.T, db *DB, n int) {
	t.Helper()
	for i := range n {
		if err := db.Audit(context.Background(), AuditEntry{Actor: "li.na", Action: "payment.create", Subject: fmt.Sprintf("pay:%d", i), Detail: fmt.Sprintf("amount %d fen", 100+i), ClientAddr: "10.0.0.7"}); err != nil {
			t.Fatal(err)
		}
	}
}

// verifyWith checks the log at path as `audit verify` does: a fresh handle
// that has the key and reads the anchor but appends nothing.
func verifyWith(t *testing.T, path, head string, key []byte) AuditReport {
	t.Helper()
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if key != nil {
		if err := db.SetAuditKey(AuditKey{Key: key, HeadFile: head}); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := db.VerifyAudit(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// copyLog copies the database (a consistent copy, as `paydesk backup`
// makes) and its anchor into a new folder: the attacker works on a copy.
func copyLog(t *testing.T, l *sealedLog) (path, head string) {
	t.Helper()
	dir := t.TempDir()
	path, head = filepath.Join(dir, "paydesk.db"), filepath.Join(dir, "audit.head")
	if l.db.Postgres() {
		path = copyPostgresLog(t, l.db)
	} else if err := l.db.Backup(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(l.head)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(head, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path, head
}

// attacker has the database file but not the master key: it drops the
// triggers that refuse changes and edits rows with plain SQL.
type attacker struct {
	t  *testing.T
	db *DB
}

func attack(t *testing.T, path string) *attacker {
	t.Helper()
	db, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	for _, q := range []string{dropTrigger(db, "audit_log_no_update"), dropTrigger(db, "audit_log_no_delete")} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return &attacker{t: t, db: db}
}

func (a *attacker) exec(q string, args ...any) {
	a.t.Helper()
	if _, err := a.db.Exec(q, args...); err != nil {
		a.t.Fatal(err)
	}
}

// deleteNewest removes the newest n rows.
func (a *attacker) deleteNewest(n int) {
	a.exec(`DELETE FROM audit_log WHERE id IN (SELECT id FROM audit_log ORDER BY id DESC LIMIT ?)`, n)
}

// rechain recomputes the links and hashes of rows from to to (0: the last),
// with plain SHA-256 (key nil) or with an HMAC under a key of its own.
func (a *attacker) rechain(from, to int64, key []byte) {
	a.t.Helper()
	prev := auditGenesis
	if from > 1 {
		if err := a.db.QueryRow(`SELECT hash FROM audit_log WHERE id = ?`, from-1).Scan(&prev); err != nil {
			a.t.Fatal(err)
		}
	}
	if to == 0 {
		to = 1 << 62
	}
	rows, err := a.db.Query(`SELECT id, at, actor, action, subject, detail, client_addr FROM audit_log WHERE id BETWEEN ? AND ? ORDER BY id`, from, to)
	if err != nil {
		a.t.Fatal(err)
	}
	type row struct {
		e  AuditEntry
		at string
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.e.ID, &r.at, &r.e.Actor, &r.e.Action, &r.e.Subject, &r.e.Detail, &r.e.ClientAddr); err != nil {
			a.t.Fatal(err)
		}
		all = append(all, r)
	}
	rows.Close()
	for _, r := range all {
		hash := auditHash(prev, r.e, r.at)
		if key != nil {
			hash = (&auditChain{key: key}).seal(r.e.ID, prev, r.e, r.at)
		}
		a.exec(`UPDATE audit_log SET prev_hash = ?, hash = ?, keyed = ? WHERE id = ?`, prev, hash, key != nil, r.e.ID)
		prev = hash
	}
}

func TestAuditSealedLogIsAnchored(t *testing.T) {
	l := newSealed(t)
	appendRows(t, l.db, 40)
	rep := verifyWith(t, l.db.Path(), l.head, testAuditKey)
	if !rep.Intact() || rep.Rows != 40 || rep.SealedFrom != 1 || !rep.SealsChecked || rep.AnchorRow != 40 || rep.AfterAnchor != 0 || len(rep.Reanchored) != 0 {
		t.Fatalf("sealed log: %+v", rep)
	}
	st, err := os.Stat(l.head)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("anchor file: %v %v", st, err)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(l.head), ".audit.head-*")); len(left) != 0 {
		t.Fatalf("temporary anchor files left behind: %v", left)
	}
	head, stuck := l.db.AuditAnchor()
	var mac string
	l.db.QueryRow(`SELECT hash FROM audit_log WHERE id = 40`).Scan(&mac)
	if head.Row != 40 || head.MAC != mac || stuck != "" {
		t.Fatalf("anchor in memory: %+v %q, row 40 hash %s", head, stuck, mac)
	}
	// A sealed row's hash is no plain SHA-256 of its content.
	var plain int
	l.db.QueryRow(`SELECT count(*) FROM audit_log WHERE keyed = 0`).Scan(&plain)
	if plain != 0 {
		t.Fatalf("%d plain rows in a sealed log", plain)
	}
}

// The review's attack, on a copy of the database: the newest 20 rows
// deleted and row 12 rewritten, with the chain recomputed after it.
func TestAuditRewrittenAndCutLogDetected(t *testing.T) {
	for _, tt := range []struct {
		name string
		key  []byte // the attacker's: nil for plain SHA-256
	}{
		{"recomputed with plain SHA-256", nil},
		{"recomputed with HMACs under a wrong key", wrongAuditKey},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newSealed(t)
			appendRows(t, l.db, 40)
			path, head := copyLog(t, l)
			a := attack(t, path)
			a.deleteNewest(20)
			a.exec(`UPDATE audit_log SET detail = 'amount 1 fen' WHERE id = 12`)
			a.rechain(12, 0, tt.key)
			rep := verifyWith(t, path, head, testAuditKey)
			if rep.Intact() || rep.BrokenAt != 12 || rep.BrokenWhy == "" || rep.Rows != 20 {
				t.Fatalf("rewritten log: %+v", rep)
			}
			if !strings.Contains(rep.AnchorProblem, "removed from the end") {
				t.Fatalf("cut log, anchor: %+v", rep)
			}
		})
	}
	// Every row rewritten as plain rows: each link and hash holds, but the
	// anchored row is not the one anchored.
	l := newSealed(t)
	appendRows(t, l.db, 40)
	path, head := copyLog(t, l)
	a := attack(t, path)
	a.exec(`UPDATE audit_log SET detail = 'amount 1 fen' WHERE id = 12`)
	a.rechain(1, 0, nil)
	rep := verifyWith(t, path, head, testAuditKey)
	if rep.Intact() || rep.BrokenAt != 0 || rep.SealedFrom != 0 || !strings.Contains(rep.AnchorProblem, "row 40 is not the row the anchor names") {
		t.Fatalf("log rewritten as plain rows: %+v", rep)
	}
}

func TestAuditCutLogDetectedByAnchor(t *testing.T) {
	l := newSealed(t)
	appendRows(t, l.db, 30)
	path, head := copyLog(t, l)
	attack(t, path).deleteNewest(3)
	rep := verifyWith(t, path, head, testAuditKey)
	if rep.BrokenAt != 0 || rep.Rows != 27 {
		t.Fatalf("the rows left still chain: %+v", rep)
	}
	if rep.Intact() || rep.AnchorProblem != "the anchor names row 30, but the log ends at row 27: rows were removed from the end of the log" {
		t.Fatalf("cut log: %+v", rep)
	}
	// Without the key the cut cannot be told, and the report says the seals
	// were not checked.
	if rep := verifyWith(t, path, head, nil); !rep.Intact() || rep.SealsChecked || rep.SealedFrom != 1 {
		t.Fatalf("cut log without the key: %+v", rep)
	}
}

// The log is cut behind a running program, which then appends more rows
// than were removed: the anchor must not move on to the new rows, or the
// cut would vanish.
func TestAuditAnchorStaysWhenLogCutWhileRunning(t *testing.T) {
	l := newSealed(t)
	appendRows(t, l.db, 30)
	before, _ := os.ReadFile(l.head)
	attack(t, l.db.Path()).deleteNewest(20)
	appendRows(t, l.db, 25)
	after, _ := os.ReadFile(l.head)
	if !bytes.Equal(before, after) {
		t.Fatalf("the anchor moved past a cut:\n%s\n%s", before, after)
	}
	if _, stuck := l.db.AuditAnchor(); !strings.Contains(stuck, "row 30") || !strings.Contains(l.logs.String(), "level=ERROR") {
		t.Fatalf("stuck=%q, logs:\n%s", stuck, l.logs)
	}
	rep := verifyWith(t, l.db.Path(), l.head, testAuditKey)
	if rep.Intact() || rep.BrokenAt != 0 || !strings.Contains(rep.AnchorProblem, "row 30 is not the row the anchor names") {
		t.Fatalf("log regrown past the cut: %+v", rep)
	}
	// Restarted, the program still keeps the anchor where it is.
	l.db.Close()
	l2 := openSealed(t, l.db.Path(), l.head, testAuditKey)
	appendRows(t, l2.db, 1)
	if after2, _ := os.ReadFile(l.head); !bytes.Equal(before, after2) {
		t.Fatal("the anchor moved past a cut after a restart")
	}
	if _, stuck := l2.db.AuditAnchor(); stuck == "" {
		t.Fatal("restarted program does not say the anchor is stuck")
	}
}

// An anchor older than the log is what a crash between a commit and the
// anchor's write leaves, and also what putting back an older genuine
// anchor file gives: the rows after it must chain and carry their seals,
// and are otherwise accepted. Rows after such an older anchor can be
// removed unnoticed; that is the documented limit.
func TestAuditOlderAnchorAccepted(t *testing.T) {
	l := newSealed(t)
	appendRows(t, l.db, 10)
	old, err := os.ReadFile(l.head)
	if err != nil {
		t.Fatal(err)
	}
	appendRows(t, l.db, 10)
	path, head := copyLog(t, l)
	if err := os.WriteFile(head, old, 0o600); err != nil {
		t.Fatal(err)
	}
	rep := verifyWith(t, path, head, testAuditKey)
	if !rep.Intact() || rep.AnchorRow != 10 || rep.AfterAnchor != 10 || rep.Rows != 20 {
		t.Fatalf("older anchor: %+v", rep)
	}
	a := attack(t, path)
	a.deleteNewest(5)
	if rep := verifyWith(t, path, head, testAuditKey); !rep.Intact() || rep.AfterAnchor != 5 {
		t.Fatalf("rows after an older anchor removed: %+v", rep)
	}
	// The rows after the anchor are still checked.
	a.exec(`UPDATE audit_log SET actor = 'mallory' WHERE id = 13`)
	if rep := verifyWith(t, path, head, testAuditKey); rep.Intact() || rep.BrokenAt != 13 {
		t.Fatalf("row after an older anchor changed: %+v", rep)
	}
}

// Two programs on one database, each with its own anchor (as several
// console instances on one database would be): each anchor names a row it
// wrote, and lags the other's rows, which is allowed. The second program,
// finding no anchor of its own, records that it anchored the log afresh.
func TestAuditAnchorPerProgram(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "paydesk.db")
	os.Mkdir(filepath.Join(dir, "a"), 0o700)
	os.Mkdir(filepath.Join(dir, "b"), 0o700)
	a := openSealed(t, path, filepath.Join(dir, "a", "audit.head"), testAuditKey)
	appendRows(t, a.db, 5)
	b := openSealed(t, path, filepath.Join(dir, "b", "audit.head"), testAuditKey)
	appendRows(t, b.db, 5)
	for _, l := range []*sealedLog{a, b} {
		rep := verifyWith(t, path, l.head, testAuditKey)
		if !rep.Intact() || rep.Rows != 11 || fmt.Sprint(rep.Reanchored) != "[6]" {
			t.Fatalf("anchor %s: %+v", l.head, rep)
		}
	}
	if rep := verifyWith(t, path, a.head, testAuditKey); rep.AnchorRow != 5 || rep.AfterAnchor != 6 {
		t.Fatalf("first program's anchor: %+v", rep)
	}
	if rep := verifyWith(t, path, b.head, testAuditKey); rep.AnchorRow != 11 || rep.AfterAnchor != 0 {
		t.Fatalf("second program's anchor: %+v", rep)
	}
	appendRows(t, a.db, 1)
	if rep := verifyWith(t, path, a.head, testAuditKey); !rep.Intact() || rep.AnchorRow != 12 {
		t.Fatalf("first program's anchor after its next row: %+v", rep)
	}
	if _, stuck := a.db.AuditAnchor(); stuck != "" {
		t.Fatalf("stuck: %s", stuck)
	}
}

func TestAuditForgedAnchorDetected(t *testing.T) {
	sealWith := func(key []byte, row int64, mac string) string {
		m := hmac.New(sha256.New, key)
		fmt.Fprintf(m, "paydesk audit head v1|%d|%s", row, mac)
		return hex.EncodeToString(m.Sum(nil))
	}
	for _, tt := range []struct {
		name   string
		forged func(genuine string, macOf func(int64) string) string
	}{
		{"row number lowered", func(g string, _ func(int64) string) string {
			return strings.Replace(g, "row=30 ", "row=10 ", 1)
		}},
		{"sealed with a wrong key", func(_ string, macOf func(int64) string) string {
			return fmt.Sprintf("paydesk-audit-head v1 row=10 mac=%s seal=%s\n", macOf(10), sealWith(wrongAuditKey, 10, macOf(10)))
		}},
		{"unsealed", func(_ string, macOf func(int64) string) string {
			return fmt.Sprintf("paydesk-audit-head v1 row=10 mac=%s\n", macOf(10))
		}},
		{"garbage", func(string, func(int64) string) string { return "\x00\xff not an anchor" }},
		{"huge", func(g string, _ func(int64) string) string { return g + strings.Repeat(" x", 1<<20) }},
		{"empty", func(string, func(int64) string) string { return "" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l := newSealed(t)
			appendRows(t, l.db, 30)
			path, head := copyLog(t, l)
			macOf := func(id int64) string {
				var mac string
				l.db.QueryRow(`SELECT hash FROM audit_log WHERE id = ?`, id).Scan(&mac)
				return mac
			}
			genuine, _ := os.ReadFile(head)
			attack(t, path).deleteNewest(20)
			forged := tt.forged(string(genuine), macOf)
			if err := os.WriteFile(head, []byte(forged), 0o600); err != nil {
				t.Fatal(err)
			}
			rep := verifyWith(t, path, head, testAuditKey)
			if rep.Intact() || !strings.Contains(rep.AnchorProblem, "does not carry a valid seal") {
				t.Fatalf("forged anchor: %+v", rep)
			}
			// A program started on it keeps the forged file as it is.
			p := openSealed(t, path, head, testAuditKey)
			appendRows(t, p.db, 2)
			if now, _ := os.ReadFile(head); string(now) != forged {
				t.Fatal("a forged anchor was overwritten")
			}
			if _, stuck := p.db.AuditAnchor(); stuck == "" {
				t.Fatal("a program started on a forged anchor does not say it is stuck")
			}
		})
	}
}

// Rows written before the log was sealed stay as they are; the first
// sealed row's seal covers the last plain row's hash.
func TestAuditPlainRowsThenSealed(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path, head := filepath.Join(dir, "paydesk.db"), filepath.Join(dir, "audit.head")
	plain, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	appendRows(t, plain, 5)
	plain.Close()

	l := openSealed(t, path, head, testAuditKey)
	appendRows(t, l.db, 4)
	rep := verifyWith(t, path, head, testAuditKey)
	if !rep.Intact() || rep.Rows != 10 || rep.SealedFrom != 6 || rep.AnchorRow != 10 || fmt.Sprint(rep.Reanchored) != "[6]" {
		t.Fatalf("plain rows then sealed: %+v", rep)
	}
	es, _ := l.db.AuditEntries(ctx, AuditFilter{Action: AuditAnchorAction})
	if len(es) != 1 || es[0].ID != 6 || es[0].Actor != "system" {
		t.Fatalf("anchoring afresh is not recorded in the log: %+v", es)
	}

	for _, tt := range []struct {
		name  string
		edit  func(a *attacker)
		want  int64
		words string
	}{
		{"old row changed", func(a *attacker) {
			a.exec(`UPDATE audit_log SET actor = 'mallory' WHERE id = 3`)
		}, 3, "content"},
		{"old row changed and the plain rows rechained", func(a *attacker) {
			a.exec(`UPDATE audit_log SET actor = 'mallory' WHERE id = 3`)
			a.rechain(3, 5, nil)
		}, 6, "link"},
		{"old row changed, the plain rows rechained and the first sealed row relinked", func(a *attacker) {
			a.exec(`UPDATE audit_log SET actor = 'mallory' WHERE id = 3`)
			a.rechain(3, 5, nil)
			a.exec(`UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE id = 5) WHERE id = 6`)
		}, 6, "seal"},
		{"sealed row turned into a plain one", func(a *attacker) {
			a.exec(`UPDATE audit_log SET detail = 'amount 1 fen' WHERE id = 8`)
			a.rechain(8, 0, nil)
		}, 8, "not sealed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cpath, chead := copyLog(t, l)
			tt.edit(attack(t, cpath))
			rep := verifyWith(t, cpath, chead, testAuditKey)
			if rep.Intact() || rep.BrokenAt != tt.want || !strings.Contains(rep.BrokenWhy, tt.words) {
				t.Fatalf("got %+v, want broken at row %d (%s)", rep, tt.want, tt.words)
			}
		})
	}
}

func TestAuditMissingAnchorIsRecorded(t *testing.T) {
	l := newSealed(t)
	appendRows(t, l.db, 5)
	l.db.Close()
	if err := os.Remove(l.head); err != nil {
		t.Fatal(err)
	}
	rep := verifyWith(t, l.db.Path(), l.head, testAuditKey)
	if rep.Intact() || !strings.Contains(rep.AnchorProblem, "no anchor file") {
		t.Fatalf("no anchor: %+v", rep)
	}
	openSealed(t, l.db.Path(), l.head, testAuditKey)
	rep = verifyWith(t, l.db.Path(), l.head, testAuditKey)
	if !rep.Intact() || rep.AnchorRow != 6 || fmt.Sprint(rep.Reanchored) != "[6]" {
		t.Fatalf("anchored afresh: %+v", rep)
	}
}

func TestAuditResumeRefusesAnotherKey(t *testing.T) {
	l := newSealed(t)
	appendRows(t, l.db, 3)
	db, err := Open(context.Background(), l.db.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetAuditKey(AuditKey{Key: wrongAuditKey, HeadFile: l.head})
	if err := db.ResumeAuditChain(context.Background()); !errors.Is(err, ErrAuditSeal) {
		t.Fatalf("resumed with another key: %v", err)
	}
	if n := countRows(t, db); n != 3 {
		t.Fatalf("%d rows after a refused resume", n)
	}
}

func TestAuditPlainAppendRefusedOnSealedLog(t *testing.T) {
	l := newSealed(t)
	appendRows(t, l.db, 2)
	db, err := Open(context.Background(), l.db.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Audit(context.Background(), AuditEntry{Action: "auth.login"}); err == nil || !strings.Contains(err.Error(), "sealed") {
		t.Fatalf("plain row appended to a sealed log: %v", err)
	}
	if n := countRows(t, db); n != 2 {
		t.Fatalf("%d rows", n)
	}
}

// A rolled-back transaction's row is never anchored.
func TestAuditRollbackNotAnchored(t *testing.T) {
	l := newSealed(t)
	appendRows(t, l.db, 2)
	boom := errors.New("boom")
	err := l.db.InTx(context.Background(), func(tx *sql.Tx) error {
		if err := l.db.AuditTx(context.Background(), tx, AuditEntry{Action: "payment.create"}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if h, _ := l.db.AuditAnchor(); h.Row != 2 {
		t.Fatalf("anchor after a rollback: %+v", h)
	}
	if rep := verifyWith(t, l.db.Path(), l.head, testAuditKey); !rep.Intact() || rep.AnchorRow != 2 {
		t.Fatalf("after a rollback: %+v", rep)
	}
	if len(l.db.audit.pending) != 0 {
		t.Fatalf("pending rows left: %v", l.db.audit.pending)
	}
}

func countRows(t *testing.T, db *DB) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM audit_log`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Appends from many goroutines: the chain stays linear and the anchor ends
// at the newest row, however the anchor writes interleave.
func TestAuditConcurrentAppendsAnchored(t *testing.T) {
	l := newSealed(t)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				if err := l.db.Audit(context.Background(), AuditEntry{Actor: fmt.Sprint("user", g), Action: "auth.login", Subject: fmt.Sprint(i)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	rep := verifyWith(t, l.db.Path(), l.head, testAuditKey)
	if !rep.Intact() || rep.Rows != 80 || rep.AnchorRow != 80 {
		t.Fatalf("after concurrent appends: %+v", rep)
	}
}

// copyPostgresLog copies the audit log of db into a new schema (what
// pg_dump and a restore would give) and returns the URL that opens it.
func copyPostgresLog(t *testing.T, db *DB) string {
	t.Helper()
	u := dbtest.Schema(t)
	cp, err := Open(context.Background(), u, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	from, _ := url.Parse(db.Path())
	if _, err := cp.Exec(`INSERT INTO audit_log SELECT * FROM ` + from.Query().Get("search_path") + `.audit_log`); err != nil {
		t.Fatal(err)
	}
	return u
}
