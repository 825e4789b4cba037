package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"
)

// AuditEntry is one row of the append-only audit log.
type AuditEntry struct {
	ID         int64
	At         time.Time
	Actor      string // username, or "system"
	Action     string // e.g. "auth.login", "user.create", "payment.create"
	Subject    string // what was acted on, e.g. "user:alice"
	Detail     string // free text; never secrets
	ClientAddr string
	PrevHash   string
	Hash       string
}

// auditGenesis is the prev_hash of the first row.
const auditGenesis = "0000000000000000000000000000000000000000000000000000000000000000"

// auditHash chains a plain row (one written without an audit key) to the
// one before it. Fields are length-prefixed so that no two different rows
// hash alike. Anyone can recompute it: only the seal (auditChain.seal)
// tells a rewritten row from a genuine one.
func auditHash(prev string, e AuditEntry, at string) string {
	h := sha256.New()
	for _, f := range []string{prev, at, e.Actor, e.Action, e.Subject, e.Detail, e.ClientAddr} {
		fmt.Fprintf(h, "%d:%s|", len(f), f)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Audit appends one entry in its own transaction.
func (db *DB) Audit(ctx context.Context, e AuditEntry) error {
	return db.InTx(ctx, func(tx *sql.Tx) error { return db.AuditTx(ctx, tx, e) })
}

// AuditTx appends one entry inside tx, so that an action and its audit row
// commit together. tx must be a write transaction (BEGIN IMMEDIATE), which
// serialises appends and keeps the chain linear. With an audit key (see
// SetAuditKey) the row is sealed with it, and the anchor moves to it once
// tx has committed.
func (db *DB) AuditTx(ctx context.Context, tx *sql.Tx, e AuditEntry) error {
	var prevID int64
	var prevKeyed bool
	prev := auditGenesis
	err := tx.QueryRowContext(ctx, `SELECT id, hash, keyed FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&prevID, &prev, &prevKeyed)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit: %w", err)
	}
	c := db.audit
	if c == nil && prevKeyed {
		// A plain row after a sealed one would read as a forgery.
		return errors.New("audit: the audit log is sealed with the master key, which was not given to this program")
	}
	at := timeText(db.now())
	if e.Actor == "" {
		e.Actor = "system"
	}
	id := prevID + 1
	hash := auditHash(prev, e, at)
	if c != nil {
		hash = c.seal(id, prev, e, at)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (id, at, actor, action, subject, detail, client_addr, prev_hash, hash, keyed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, at, e.Actor, e.Action, e.Subject, e.Detail, e.ClientAddr, prev, hash, c != nil)
	if err != nil {
		return fmt.Errorf("audit: %w", err)
	}
	if c != nil {
		c.appended(tx, AuditHead{Row: id, MAC: hash})
	}
	return nil
}

// AuditFilter selects audit rows. Zero values match everything.
type AuditFilter struct {
	Actor    string
	Action   string // prefix match, e.g. "user." or "payment.create"
	Text     string // substring of subject or detail
	From, To time.Time
	BeforeID int64 // keyset paging: rows with id < BeforeID
	Limit    int
}

// AuditEntries lists matching rows, newest first.
func (db *DB) AuditEntries(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	if f.Actor != "" {
		where, args = append(where, "actor = ?"), append(args, f.Actor)
	}
	if f.Action != "" {
		where, args = append(where, "action LIKE ? ESCAPE '\\'"), append(args, likeEscape(f.Action)+"%")
	}
	if f.Text != "" {
		where = append(where, "(subject LIKE ? ESCAPE '\\' OR detail LIKE ? ESCAPE '\\')")
		p := "%" + likeEscape(f.Text) + "%"
		args = append(args, p, p)
	}
	if !f.From.IsZero() {
		where, args = append(where, "at >= ?"), append(args, timeText(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "at < ?"), append(args, timeText(f.To))
	}
	if f.BeforeID > 0 {
		where, args = append(where, "id < ?"), append(args, f.BeforeID)
	}
	q := `SELECT id, at, actor, action, subject, detail, client_addr, prev_hash, hash FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY id DESC"
	if f.Limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", f.Limit)
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AuditEntry
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Subject, &e.Detail, &e.ClientAddr, &e.PrevHash, &e.Hash); err != nil {
			return nil, err
		}
		e.At = parseTime(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// AuditReport is the outcome of checking the audit log.
type AuditReport struct {
	Rows      int
	BrokenAt  int64 // id of the first row that does not chain, 0 when intact
	BrokenWhy string
	// SealedFrom is the first row sealed with the audit key (0: none);
	// the rows before it are chained with plain SHA-256.
	SealedFrom int64
	// SealsChecked tells whether the audit key was at hand, so that the
	// seals of the rows from SealedFrom on and the anchor were checked.
	// Without it only the links between rows and the plain rows are.
	SealsChecked bool
	// AnchorRow is the row the anchor names (0: none read), AfterAnchor
	// the rows written after it, and AnchorProblem why the anchor does not
	// hold ("" when it does or was not checked).
	AnchorRow     int64
	AfterAnchor   int
	AnchorProblem string
	// Reanchored lists the rows where the log was anchored afresh because
	// no anchor was found (AuditAnchorAction).
	Reanchored []int64
}

// Intact reports whether every row checked chains to the one before it
// and the anchor, when checked, holds.
func (r AuditReport) Intact() bool { return r.BrokenAt == 0 && r.AnchorProblem == "" }

// VerifyAudit walks the whole log and recomputes every hash; with an
// audit key (SetAuditKey) it also checks every seal and the anchor.
func (db *DB) VerifyAudit(ctx context.Context) (AuditReport, error) {
	var rep AuditReport
	c := db.audit
	var anchor AuditHead
	if c != nil {
		rep.SealsChecked = true
		// The anchor is read before the rows: a row committed and anchored
		// while the walk runs must not look missing.
		a, err := readAnchor(c.headFile, c.key)
		switch {
		case errors.Is(err, fs.ErrNotExist):
		case errors.Is(err, errAnchorSeal):
			rep.AnchorProblem = fmt.Sprintf("the anchor file %s does not carry a valid seal: it was forged or changed, or written with another master key", c.headFile)
		case err != nil:
			return rep, err
		default:
			anchor, rep.AnchorRow = a, a.Row
		}
	}
	rows, err := db.QueryContext(ctx, `SELECT id, at, actor, action, subject, detail, client_addr, prev_hash, hash, keyed FROM audit_log ORDER BY id`)
	if err != nil {
		return AuditReport{}, err
	}
	defer rows.Close()
	prev := auditGenesis
	var last int64
	anchorSeen := false
	for rows.Next() {
		var e AuditEntry
		var at string
		var keyed bool
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Subject, &e.Detail, &e.ClientAddr, &e.PrevHash, &e.Hash, &keyed); err != nil {
			return rep, err
		}
		at = db.sealedTime(at)
		rep.Rows++
		last = e.ID
		if e.Action == AuditAnchorAction {
			rep.Reanchored = append(rep.Reanchored, e.ID)
		}
		if anchor.Row != 0 {
			switch {
			case e.ID == anchor.Row:
				anchorSeen = true
				if e.Hash != anchor.MAC && rep.AnchorProblem == "" {
					rep.AnchorProblem = fmt.Sprintf("row %d is not the row the anchor names: it was rewritten", e.ID)
				}
			case e.ID > anchor.Row:
				rep.AfterAnchor++
			}
		}
		if keyed && rep.SealedFrom == 0 {
			rep.SealedFrom = e.ID
		}
		if rep.BrokenAt != 0 {
			continue
		}
		switch {
		case e.PrevHash != prev:
			rep.BrokenAt, rep.BrokenWhy = e.ID, "its link to the row before does not match (a row was removed or changed)"
		case !keyed && rep.SealedFrom != 0:
			rep.BrokenAt, rep.BrokenWhy = e.ID, "it is not sealed with the master key although an earlier row is (the row was rewritten)"
		case !keyed && auditHash(prev, e, at) != e.Hash:
			rep.BrokenAt, rep.BrokenWhy = e.ID, "its content does not match its hash (the row was changed)"
		case keyed && c != nil && c.seal(e.ID, prev, e, at) != e.Hash:
			rep.BrokenAt, rep.BrokenWhy = e.ID, "its seal does not match its content (the row was changed, or sealed with another master key)"
		}
		prev = e.Hash
	}
	if err := rows.Err(); err != nil {
		return rep, err
	}
	switch {
	case rep.AnchorProblem != "" || c == nil:
	case anchor.Row != 0 && !anchorSeen && anchor.Row > last:
		rep.AnchorProblem = fmt.Sprintf("the anchor names row %d, but the log ends at row %d: rows were removed from the end of the log", anchor.Row, last)
	case anchor.Row != 0 && !anchorSeen:
		rep.AnchorProblem = fmt.Sprintf("row %d, which the anchor names, is missing from the log", anchor.Row)
	case anchor.Row == 0 && rep.Rows > 0:
		rep.AnchorProblem = fmt.Sprintf("there is no anchor file %s, so rows removed from the end of the log cannot be told", c.headFile)
	}
	return rep, nil
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
