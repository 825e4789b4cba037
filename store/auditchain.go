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
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// The audit log is sealed with a key derived from the master key: each
// row's hash is an HMAC-SHA-256 of its content and of the row before, so
// that nobody without the key can rewrite a row and recompute the chain.
// The seals alone cannot tell that the newest rows were removed, so the
// newest row's id and seal are also kept outside the database, in the
// anchor file, itself sealed. The anchor moves only after a commit that
// appended rows and only while the row it names is still in the log as it
// was: a log cut or rewritten behind the program's back leaves the anchor
// where it was, for `audit verify` to report.

// AuditAnchorAction is the action of the row the log records when it is
// anchored afresh because no anchor was found: on the first start with a
// sealed log, after a restore, or because the anchor file was removed.
const AuditAnchorAction = "audit.anchor"

// AuditKey is what seals the audit log.
type AuditKey struct {
	// Key is 32 bytes derived from the master key for this use alone.
	Key []byte
	// HeadFile is the anchor, outside the database: with several
	// programs on one database, each keeps its own.
	HeadFile string
	// Log receives what an append cannot return once its transaction has
	// committed: an anchor that could not be written or no longer moves.
	Log *slog.Logger
}

// AuditHead names one row of the audit log by its id and seal.
type AuditHead struct {
	Row int64
	MAC string
}

// ErrAuditSeal is returned (wrapped) by ResumeAuditChain when the newest
// audit row is not sealed with the key given.
var ErrAuditSeal = errors.New("the newest audit row is not sealed with this master key")

// errAnchorSeal is returned by readAnchor for an anchor that is malformed
// or whose seal does not match.
var errAnchorSeal = errors.New("the anchor does not carry a valid seal")

type auditChain struct {
	key      []byte
	headFile string
	log      *slog.Logger

	pmu     sync.Mutex
	pending map[*sql.Tx]AuditHead // rows appended by transactions not yet committed
	latest  AuditHead             // the newest committed row

	mu       sync.Mutex // serialises anchor writes; guards the fields below
	resumed  bool
	anchored AuditHead // what the anchor names, as last read or written here
	stuck    string    // why the anchor no longer moves; "" while it does
}

// SetAuditKey makes the store seal the audit rows it appends and check
// seals and the anchor in VerifyAudit. Call it right after Open, before
// the store is used; a program that appends must then call
// ResumeAuditChain. Without it rows are chained with plain SHA-256 as
// before, which only tests still do.
func (db *DB) SetAuditKey(k AuditKey) error {
	if len(k.Key) != 32 {
		return errors.New("store: the audit key must be 32 bytes")
	}
	if k.HeadFile == "" {
		return errors.New("store: the audit key needs a head file")
	}
	if k.Log == nil {
		k.Log = slog.New(slog.DiscardHandler)
	}
	db.audit = &auditChain{key: bytes.Clone(k.Key), headFile: k.HeadFile, log: k.Log, pending: map[*sql.Tx]AuditHead{}}
	return nil
}

// ResumeAuditChain takes up the sealed chain in a program that appends to
// it. It refuses a key that did not seal the newest row (appending with a
// wrong key would fork the chain), reads the anchor and, when there is
// none but the log has rows, appends an AuditAnchorAction row, so that the
// log itself records that it was anchored afresh from there. An anchor that
// does not hold does not stop the program: it is left as it is, keeping the
// evidence, and AuditAnchor says why.
func (db *DB) ResumeAuditChain(ctx context.Context) error {
	c := db.audit
	if c == nil {
		return errors.New("store: ResumeAuditChain needs SetAuditKey first")
	}
	var e AuditEntry
	var at string
	var keyed bool
	err := db.QueryRowContext(ctx, `SELECT id, at, actor, action, subject, detail, client_addr, prev_hash, hash, keyed
		FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&e.ID, &at, &e.Actor, &e.Action, &e.Subject, &e.Detail, &e.ClientAddr, &e.PrevHash, &e.Hash, &keyed)
	empty := errors.Is(err, sql.ErrNoRows)
	if err != nil && !empty {
		return fmt.Errorf("audit: %w", err)
	}
	at = db.sealedTime(at)
	if keyed && c.seal(e.ID, e.PrevHash, e, at) != e.Hash {
		return fmt.Errorf("%w (row %d): the key is not the one the log was sealed with, or the row was changed", ErrAuditSeal, e.ID)
	}
	c.mu.Lock()
	missing, err := c.load(ctx, db)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	if missing && !empty {
		return db.Audit(ctx, AuditEntry{Actor: "system", Action: AuditAnchorAction, Subject: "audit_log",
			Detail: "No anchor of the audit log was found, so the log is anchored afresh from this row. Expected on the first start with a sealed log and after restoring a backup; otherwise the anchor file was removed."})
	}
	return nil
}

// AuditSealed reports whether the log's newest row is sealed with a key,
// which every row after the first sealed one is.
func (db *DB) AuditSealed(ctx context.Context) (bool, error) {
	var keyed bool
	err := db.QueryRowContext(ctx, `SELECT keyed FROM audit_log ORDER BY id DESC LIMIT 1`).Scan(&keyed)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return keyed, err
}

// AuditAnchor is the row the anchor names, as this program last read or
// wrote it, and why the anchor no longer moves ("" while it does).
func (db *DB) AuditAnchor() (AuditHead, string) {
	c := db.audit
	if c == nil {
		return AuditHead{}, ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.anchored, c.stuck
}

// seal is a sealed row's hash. The id is sealed too, so that a row cannot
// be moved to another place in the log.
func (c *auditChain) seal(id int64, prev string, e AuditEntry, at string) string {
	m := hmac.New(sha256.New, c.key)
	io.WriteString(m, "paydesk audit row v1|")
	for _, f := range []string{strconv.FormatInt(id, 10), prev, at, e.Actor, e.Action, e.Subject, e.Detail, e.ClientAddr} {
		fmt.Fprintf(m, "%d:%s|", len(f), f)
	}
	return hex.EncodeToString(m.Sum(nil))
}

// appended notes that tx appended the row h, to anchor once tx commits.
func (c *auditChain) appended(tx *sql.Tx, h AuditHead) {
	c.pmu.Lock()
	c.pending[tx] = h
	c.pmu.Unlock()
}

// take returns and forgets the newest row tx appended.
func (c *auditChain) take(tx *sql.Tx) (AuditHead, bool) {
	if c == nil {
		return AuditHead{}, false
	}
	c.pmu.Lock()
	defer c.pmu.Unlock()
	h, ok := c.pending[tx]
	delete(c.pending, tx)
	return h, ok
}

// load reads the anchor; c.mu is held. missing reports that there is none.
func (c *auditChain) load(ctx context.Context, db *DB) (missing bool, err error) {
	c.resumed = true
	a, err := readAnchor(c.headFile, c.key)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return true, nil
	case errors.Is(err, errAnchorSeal):
		c.stick(fmt.Sprintf("the anchor file %s does not carry a valid seal (forged, changed, or written with another master key)", c.headFile))
		return false, nil
	case err != nil:
		return false, fmt.Errorf("read the audit anchor: %w", err)
	}
	c.anchored = a
	why, err := c.check(ctx, db)
	if err != nil {
		return false, err
	}
	if why != "" {
		c.stick(why)
	}
	return false, nil
}

// check says how the log no longer holds the anchored row ("" when it
// does); c.mu is held.
func (c *auditChain) check(ctx context.Context, db *DB) (string, error) {
	var mac string
	err := db.QueryRowContext(ctx, `SELECT hash FROM audit_log WHERE id = ?`, c.anchored.Row).Scan(&mac)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Sprintf("row %d, which the anchor names, is no longer in the audit log (rows were removed)", c.anchored.Row), nil
	case err != nil:
		return "", err
	case mac != c.anchored.MAC:
		return fmt.Sprintf("row %d of the audit log is no longer the row the anchor names (it was rewritten)", c.anchored.Row), nil
	}
	return "", nil
}

// stick stops the anchor where it is; c.mu is held.
func (c *auditChain) stick(why string) {
	c.stuck = why
	c.log.Error("audit log: the anchor is kept where it is because the log does not match it; check the log with audit verify",
		"why", why, "anchor", c.headFile, "row", c.anchored.Row)
}

// advance moves the anchor to h, a row a transaction has just committed,
// or to a newer one: commits waiting here meanwhile are anchored by one
// write. The commit is already done: a failure here is logged, and leaves
// the anchor behind the log, which verification allows.
func (c *auditChain) advance(ctx context.Context, db *DB, h AuditHead) {
	c.pmu.Lock()
	if h.Row > c.latest.Row {
		c.latest = h
	}
	c.pmu.Unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.pmu.Lock()
	h = c.latest
	c.pmu.Unlock()
	if !c.resumed || c.stuck != "" || h.Row <= c.anchored.Row {
		return
	}
	if c.anchored.Row != 0 {
		why, err := c.check(ctx, db)
		if err != nil {
			c.log.Warn("audit log: the anchor was not moved", "err", err)
			return
		}
		if why != "" {
			c.stick(why)
			return
		}
	}
	if err := db.syncCommitted(); err != nil {
		c.log.Warn("audit log: the anchor was not moved", "err", err)
		return
	}
	if err := writeAnchor(c.headFile, c.key, h); err != nil {
		c.log.Warn("audit log: the anchor was not moved", "err", err)
		return
	}
	c.anchored = h
}

// syncCommitted puts the commits made so far on disk. The database runs
// with synchronous=NORMAL, where a commit sits in the WAL file and a power
// failure could take it back; the anchor must never name a row the
// database can still lose. A frame leaves the WAL file only through a
// checkpoint, which syncs the database file first.
func (db *DB) syncCommitted() error {
	f, err := os.Open(db.path + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

const anchorMagic = "paydesk-audit-head v1"

func anchorSeal(key []byte, h AuditHead) string {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "paydesk audit head v1|%d|%s", h.Row, h.MAC)
	return hex.EncodeToString(m.Sum(nil))
}

// readAnchor reads and checks the anchor file: fs.ErrNotExist when there is
// none, errAnchorSeal when it is malformed or its seal does not match.
func readAnchor(path string, key []byte) (AuditHead, error) {
	f, err := os.Open(path)
	if err != nil {
		return AuditHead{}, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1024))
	if err != nil {
		return AuditHead{}, err
	}
	var h AuditHead
	fields := strings.Fields(string(b))
	if len(fields) != 5 || fields[0]+" "+fields[1] != anchorMagic {
		return h, errAnchorSeal
	}
	row, ok1 := strings.CutPrefix(fields[2], "row=")
	mac, ok2 := strings.CutPrefix(fields[3], "mac=")
	seal, ok3 := strings.CutPrefix(fields[4], "seal=")
	if !ok1 || !ok2 || !ok3 {
		return h, errAnchorSeal
	}
	if h.Row, err = strconv.ParseInt(row, 10, 64); err != nil || h.Row <= 0 {
		return AuditHead{}, errAnchorSeal
	}
	h.MAC = mac
	if !hmac.Equal([]byte(seal), []byte(anchorSeal(key, h))) {
		return AuditHead{}, errAnchorSeal
	}
	return h, nil
}

// writeAnchor replaces the anchor file atomically: a crash leaves either
// the old anchor or the new one, both valid. The folder is not synced
// after the rename: should a power failure lose the rename, the older
// anchor is left, which verification allows, and the sync would double
// the cost of every write.
func writeAnchor(path string, key []byte, h AuditHead) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".audit.head-*") // mode 0600
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = fmt.Fprintf(f, "%s row=%d mac=%s seal=%s\n", anchorMagic, h.Row, h.MAC, anchorSeal(key, h))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write the audit anchor: %w", err)
	}
	return nil
}
