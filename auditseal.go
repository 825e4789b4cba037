package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"paydesk/store"
)

// auditHeadFile is the audit log's anchor in the data folder: the newest
// audit row's id and seal, sealed, outside the database.
const auditHeadFile = "audit.head"

// auditHeadLogEvery is how often the console writes the audit log's head
// to its log, when it moved, so that a log kept elsewhere holds it too.
const auditHeadLogEvery = time.Hour

// keyAudit gives db the audit key derived from masterKey and the anchor
// in dataDir.
func keyAudit(db *store.DB, masterKey []byte, dataDir string, log *slog.Logger) error {
	k, err := auditKey(masterKey)
	if err != nil {
		return err
	}
	return db.SetAuditKey(store.AuditKey{Key: k, HeadFile: filepath.Join(dataDir, auditHeadFile), Log: log})
}

// sealAudit loads the master key and takes up the sealed audit chain, for
// a program that appends to the log. The key file is created only while
// no row is sealed yet: a database sealed with a key that cannot be found
// must not get a new one.
func sealAudit(ctx context.Context, db *store.DB, getenv func(string) string, dataDir string, log *slog.Logger) ([]byte, error) {
	sealed, err := db.AuditSealed(ctx)
	if err != nil {
		return nil, err
	}
	masterKey, err := loadMasterKey(getenv, dataDir, !sealed)
	if errors.Is(err, errNoMasterKey) {
		return nil, fmt.Errorf("the audit log is sealed with a master key, but none was found: set PAYDESK_MASTER_KEY or put the key file %s back", filepath.Join(dataDir, masterKeyFile))
	}
	if err != nil {
		return nil, err
	}
	if err := keyAudit(db, masterKey, dataDir, log); err != nil {
		return nil, err
	}
	if err := db.ResumeAuditChain(ctx); err != nil {
		if errors.Is(err, store.ErrAuditSeal) {
			return nil, fmt.Errorf("%w; check PAYDESK_MASTER_KEY or %s, and run paydesk audit verify", err, filepath.Join(dataDir, masterKeyFile))
		}
		return nil, err
	}
	return masterKey, nil
}

// logAuditHead writes the anchored head of the audit log (its row and the
// start of its seal) to the log, or why the anchor no longer moves.
func logAuditHead(log *slog.Logger, db *store.DB) {
	h, stuck := db.AuditAnchor()
	if stuck != "" {
		log.Error("audit log: the anchor no longer moves; check the log with paydesk audit verify", "why", stuck, "row", h.Row)
		return
	}
	mac := h.MAC
	if len(mac) > 16 {
		mac = mac[:16]
	}
	log.Info("audit log head", "row", h.Row, "mac", mac)
}

// auditHeadLog returns the loop that writes the head to the log every
// interval when it moved (and every time while the anchor is stuck) until
// its context ends. The head it starts from is read now: a move made right
// after this call is logged.
func auditHeadLog(db *store.DB, log *slog.Logger, every time.Duration) func(ctx context.Context) {
	last, _ := db.AuditAnchor()
	return func(ctx context.Context) {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			h, stuck := db.AuditAnchor()
			if h != last || stuck != "" {
				logAuditHead(log, db)
				last = h
			}
		}
	}
}
