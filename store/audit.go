package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
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

// auditHash chains a row to the one before it. Fields are length-prefixed so
// that no two different rows hash alike.
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
// serialises appends and keeps the chain linear.
func (db *DB) AuditTx(ctx context.Context, tx *sql.Tx, e AuditEntry) error {
	prev := auditGenesis
	err := tx.QueryRowContext(ctx, `SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("audit: %w", err)
	}
	at := timeText(db.now())
	if e.Actor == "" {
		e.Actor = "system"
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, action, subject, detail, client_addr, prev_hash, hash)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, at, e.Actor, e.Action, e.Subject, e.Detail, e.ClientAddr, prev, auditHash(prev, e, at))
	if err != nil {
		return fmt.Errorf("audit: %w", err)
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

// AuditReport is the outcome of checking the hash chain.
type AuditReport struct {
	Rows      int
	BrokenAt  int64 // id of the first row that does not chain, 0 when intact
	BrokenWhy string
}

// Intact reports whether every row chains to the one before it.
func (r AuditReport) Intact() bool { return r.BrokenAt == 0 }

// VerifyAudit walks the whole log and recomputes every hash.
func (db *DB) VerifyAudit(ctx context.Context) (AuditReport, error) {
	rows, err := db.QueryContext(ctx, `SELECT id, at, actor, action, subject, detail, client_addr, prev_hash, hash FROM audit_log ORDER BY id`)
	if err != nil {
		return AuditReport{}, err
	}
	defer rows.Close()
	var rep AuditReport
	prev := auditGenesis
	for rows.Next() {
		var e AuditEntry
		var at string
		if err := rows.Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Subject, &e.Detail, &e.ClientAddr, &e.PrevHash, &e.Hash); err != nil {
			return rep, err
		}
		rep.Rows++
		if rep.BrokenAt != 0 {
			continue
		}
		switch {
		case e.PrevHash != prev:
			rep.BrokenAt, rep.BrokenWhy = e.ID, "its link to the row before does not match (a row was removed or changed)"
		case auditHash(prev, e, at) != e.Hash:
			rep.BrokenAt, rep.BrokenWhy = e.ID, "its content does not match its hash (the row was changed)"
		}
		prev = e.Hash
	}
	return rep, rows.Err()
}

func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
