package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"paydesk/store"
)

func TestResetTwoFactorCommand(t *testing.T) {
	dir := t.TempDir()
	if _, err := runCmd(t, dir, "first-password-1\n", "user", "add", "-username", "olga", "-role", "admin"); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "paydesk.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, _ := db.UserByName(ctx, "olga")
	if err := db.SetPendingTOTP(ctx, u.ID, []byte("sealed")); err != nil {
		t.Fatal(err)
	}
	if err := db.InTx(ctx, func(tx *sql.Tx) error {
		return db.EnableTwoFactorTx(ctx, tx, u.ID, []byte("sealed"), 1, []string{"h1"})
	}); err != nil {
		t.Fatal(err)
	}
	out, err := runCmd(t, dir, "", "user", "reset-two-factor", "-username", "olga")
	if err != nil || !strings.Contains(out, "two-factor sign-in of olga reset") {
		t.Fatalf("reset: %v %s", err, out)
	}
	after, _ := db.UserByName(ctx, "olga")
	if after.TwoFactor || after.SessionGen == u.SessionGen {
		t.Fatalf("after reset: %+v", after)
	}
	var n int
	db.QueryRow(`SELECT count(*) FROM audit_log WHERE action = 'user.two_factor_reset' AND actor = ?`, cliActor).Scan(&n)
	if n != 1 {
		t.Fatalf("%d audit rows", n)
	}
	if out, err := runCmd(t, dir, "", "user", "reset-two-factor", "-username", "olga"); err != nil || !strings.Contains(out, "nothing changed") {
		t.Fatalf("second reset: %v %s", err, out)
	}
	if _, err := runCmd(t, dir, "", "user", "reset-two-factor", "-username", "nobody"); err == nil || !strings.Contains(err.Error(), "no user nobody") {
		t.Fatalf("unknown user: %v", err)
	}
}
