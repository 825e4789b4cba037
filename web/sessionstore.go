package web

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/alexedwards/scs/sqlite3store"
)

// hashedTokenStore keeps scs sessions in the sessions table under the
// SHA-256 (hex) of their token instead of the token itself, so that the
// table, a stolen copy of the database or a backup holds nothing a browser
// could present to be signed in. It does not list sessions (scs's
// IterableStore): their tokens cannot be recovered from the table.
type hashedTokenStore struct {
	db *sqlite3store.SQLite3Store
}

// sessionKey is what the sessions table holds for token.
func sessionKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func (s hashedTokenStore) Find(token string) ([]byte, bool, error) {
	return s.db.Find(sessionKey(token))
}

func (s hashedTokenStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.db.Commit(sessionKey(token), b, expiry)
}

func (s hashedTokenStore) Delete(token string) error {
	return s.db.Delete(sessionKey(token))
}
