package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/sqlite3store"
)

// SessionStore keeps the console's sessions (scs) in the sessions table
// under the SHA-256 (hex) of their token instead of the token itself, so
// that the table, a stolen copy of the database or a backup holds nothing
// a browser could present to be signed in. It does not list sessions
// (scs's IterableStore): their tokens cannot be recovered from the table.
// It runs nothing in the background: DeleteExpiredSessions is called by
// the core's housekeeping.
type SessionStore struct {
	s scsStore // scs's store for the database's dialect, under the hashes
}

// scsStore is what SessionStore needs of scs's sqlite3store and
// postgresstore.
type scsStore interface {
	Find(token string) ([]byte, bool, error)
	Commit(token string, b []byte, expiry time.Time) error
	Delete(token string) error
}

// SessionStore returns the store of the HTTP side's sessions.
func (db *DB) SessionStore() *SessionStore {
	if db.pg {
		return &SessionStore{postgresstore.NewWithCleanupInterval(db.DB, 0)}
	}
	return &SessionStore{sqlite3store.NewWithCleanupInterval(db.DB, 0)}
}

// sessionKey is what the sessions table holds for token.
func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// Find returns the data of the session with token, if it has not expired.
func (s *SessionStore) Find(token string) ([]byte, bool, error) {
	return s.s.Find(sessionKey(token))
}

// Commit stores the data of the session with token until expiry.
func (s *SessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.s.Commit(sessionKey(token), b, expiry)
}

// Delete removes the session with token.
func (s *SessionStore) Delete(token string) error {
	return s.s.Delete(sessionKey(token))
}

// DeleteExpiredSessions removes the sessions past their expiry and
// returns how many.
func (db *DB) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	del := `DELETE FROM sessions WHERE expiry < julianday('now')`
	if db.pg {
		del = `DELETE FROM sessions WHERE expiry < current_timestamp` // postgresstore's timestamptz
	}
	res, err := db.ExecContext(ctx, del)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
