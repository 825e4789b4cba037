package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"
	"testing"
)

func TestTwoFactorLifecycle(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	u, err := db.CreateUser(ctx, "ana", RoleApprover, "hash", false)
	if err != nil {
		t.Fatal(err)
	}
	enable := func(sealed []byte, step int64, hashes ...string) error {
		return db.InTx(ctx, func(tx *sql.Tx) error { return db.EnableTwoFactorTx(ctx, tx, u.ID, sealed, step, hashes) })
	}
	// No enrolment open: nothing to confirm.
	if err := enable([]byte("secret"), 10, "h1"); !errors.Is(err, ErrConflict) {
		t.Fatalf("enable without enrolment: %v", err)
	}
	if err := db.SetPendingTOTP(ctx, u.ID, []byte("pending")); err != nil {
		t.Fatal(err)
	}
	if tf, err := db.TwoFactor(ctx, u.ID); err != nil || tf.On() || string(tf.Pending) != "pending" {
		t.Fatalf("after start: %+v %v", tf, err)
	}
	if err := enable([]byte("secret"), 10, "h1", "h2", "h3"); err != nil {
		t.Fatal(err)
	}
	if err := enable([]byte("other"), 11, "h9"); !errors.Is(err, ErrConflict) {
		t.Fatalf("second enable: %v", err)
	}
	if err := db.SetPendingTOTP(ctx, u.ID, []byte("again")); !errors.Is(err, ErrConflict) {
		t.Fatalf("new enrolment while on: %v", err)
	}
	tf, err := db.TwoFactor(ctx, u.ID)
	if err != nil || !tf.On() || tf.Pending != nil || tf.LastStep != 10 || tf.RecoveryLeft != 3 || tf.EnabledAt.IsZero() {
		t.Fatalf("after enable: %+v %v", tf, err)
	}
	if got, _ := db.UserByID(ctx, u.ID); !got.TwoFactor {
		t.Fatal("User.TwoFactor not set")
	}

	// Time steps: each once, never an older one, only against the secret in use.
	for _, tt := range []struct {
		sealed string
		step   int64
		want   bool
	}{
		{"secret", 10, false}, // the confirming code's step
		{"secret", 9, false},
		{"other", 11, false},
		{"secret", 11, true},
		{"secret", 11, false},
		{"secret", 13, true},
		{"secret", 12, false},
	} {
		if ok, err := db.UseTOTPStep(ctx, u.ID, []byte(tt.sealed), tt.step); err != nil || ok != tt.want {
			t.Errorf("step %d with %s: %v %v, want %v", tt.step, tt.sealed, ok, err, tt.want)
		}
	}

	// Many requests with one code at once: exactly one wins.
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := db.UseTOTPStep(ctx, u.ID, []byte("secret"), 20)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d requests took the same step", wins)
	}

	// Recovery codes: each once.
	if ok, left, err := db.UseRecoveryCode(ctx, u.ID, "h2"); err != nil || !ok || left != 2 {
		t.Fatalf("first use: %v %d %v", ok, left, err)
	}
	if ok, left, err := db.UseRecoveryCode(ctx, u.ID, "h2"); err != nil || ok || left != 2 {
		t.Fatalf("second use: %v %d %v", ok, left, err)
	}
	if ok, _, _ := db.UseRecoveryCode(ctx, u.ID, "nope"); ok {
		t.Fatal("unknown code accepted")
	}

	// Off: secret and codes gone.
	if err := db.InTx(ctx, func(tx *sql.Tx) error { return db.DisableTwoFactorTx(ctx, tx, u.ID) }); err != nil {
		t.Fatal(err)
	}
	tf, err = db.TwoFactor(ctx, u.ID)
	if err != nil || tf.On() || tf.RecoveryLeft != 0 || tf.LastStep != 0 {
		t.Fatalf("after disable: %+v %v", tf, err)
	}
	var rows int
	db.QueryRow(`SELECT count(*) FROM recovery_codes WHERE user_id = ?`, u.ID).Scan(&rows)
	if rows != 0 {
		t.Fatalf("%d recovery codes left after disable", rows)
	}
	if ok, _, _ := db.UseRecoveryCode(ctx, u.ID, "h1"); ok {
		t.Fatal("recovery code works after disable")
	}
	if _, err := db.TwoFactor(ctx, 4242); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing user: %v", err)
	}
}
