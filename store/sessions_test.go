package store

import (
	"context"
	"testing"
	"time"
)

// Sessions are kept under the SHA-256 of their token on both stores: the
// table never holds a token a browser could present; expired ones are not
// found and are deleted.
func TestSessionStoreKeepsOnlyHashes(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	s := db.SessionStore()
	const token = "browser-token-4f1c"
	if err := s.Commit(token, []byte("signed in as olga"), time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit("old-token", []byte("gone"), time.Now().Add(-time.Minute)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE token = ? OR token = ?`, token, "old-token").Scan(&n); err != nil || n != 0 {
		t.Fatalf("%d rows under a plain token (%v)", n, err)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sessions WHERE token = ?`, sessionKey(token)).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows under the token's hash (%v)", n, err)
	}
	b, found, err := s.Find(token)
	if err != nil || !found || string(b) != "signed in as olga" {
		t.Fatalf("find: %q %v %v", b, found, err)
	}
	if _, found, err := s.Find(sessionKey(token)); err != nil || found {
		t.Fatalf("the stored hash itself opened a session: %v %v", found, err)
	}
	if _, found, _ := s.Find("old-token"); found {
		t.Fatal("an expired session was found")
	}
	if n, err := db.DeleteExpiredSessions(ctx); err != nil || n != 1 {
		t.Fatalf("deleted %d expired sessions: %v", n, err)
	}
	if err := s.Delete(token); err != nil {
		t.Fatal(err)
	}
	if _, found, _ := s.Find(token); found {
		t.Fatal("a deleted session was found")
	}
}
