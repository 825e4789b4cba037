package store

import (
	"context"
	"errors"
	"testing"
)

func TestCreateUserRules(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	u, err := db.CreateUser(ctx, "  Alice ", RoleApprover, "hash", true)
	if err != nil {
		t.Fatal(err)
	}
	if u.Username != "Alice" || u.Role != RoleApprover || !u.MustChangePassword || u.Disabled || u.CreatedAt.IsZero() {
		t.Fatalf("created %+v", u)
	}
	tests := []struct {
		name, username, role string
		want                 error
	}{
		{"same name", "Alice", RoleViewer, ErrConflict},
		{"same name other case", "alice", RoleViewer, ErrConflict},
		{"unknown role", "bob", "superuser", ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.CreateUser(ctx, tt.username, tt.role, "h", false); !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
		})
	}
	byName, err := db.UserByName(ctx, "ALICE")
	if err != nil || byName.ID != u.ID {
		t.Fatalf("lookup without case: %+v %v", byName, err)
	}
	if _, err := db.UserByID(ctx, 4242); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing user: %v", err)
	}
}

func TestLastAdminIsKept(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	a1, _ := db.CreateUser(ctx, "admin1", RoleAdmin, "h", false)
	if err := db.SetRole(ctx, a1.ID, RoleOperator); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demote the only admin: %v", err)
	}
	if err := db.SetDisabled(ctx, a1.ID, true); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("disable the only admin: %v", err)
	}
	a2, _ := db.CreateUser(ctx, "admin2", RoleAdmin, "h", false)
	if err := db.SetDisabled(ctx, a2.ID, true); err != nil {
		t.Fatalf("disable one of two admins: %v", err)
	}
	// A disabled admin does not count: a1 is again the last one.
	if err := db.SetRole(ctx, a1.ID, RoleViewer); !errors.Is(err, ErrLastAdmin) {
		t.Fatalf("demote the last enabled admin: %v", err)
	}
	if err := db.SetDisabled(ctx, a2.ID, false); err != nil {
		t.Fatal(err)
	}
	if err := db.SetRole(ctx, a1.ID, RoleViewer); err != nil {
		t.Fatalf("demote with another admin enabled: %v", err)
	}
	got, _ := db.UserByID(ctx, a1.ID)
	if got.Role != RoleViewer {
		t.Fatalf("role is %s", got.Role)
	}
	if err := db.SetRole(ctx, 999, RoleViewer); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing user: %v", err)
	}
}

func TestSessionGenerationMoves(t *testing.T) {
	ctx := context.Background()
	db := openTest(t)
	u, _ := db.CreateUser(ctx, "bob", RoleOperator, "h", false)
	if u.SessionGen != 0 {
		t.Fatalf("new user generation %d", u.SessionGen)
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"password", func() error { return db.SetPassword(ctx, u.ID, "h2", true) }},
		{"disable", func() error { return db.SetDisabled(ctx, u.ID, true) }},
		{"enable", func() error { return db.SetDisabled(ctx, u.ID, false) }},
	}
	last := u.SessionGen
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		got, _ := db.UserByID(ctx, u.ID)
		if got.SessionGen <= last {
			t.Fatalf("after %s generation %d, before %d", st.name, got.SessionGen, last)
		}
		last = got.SessionGen
	}
	got, _ := db.UserByID(ctx, u.ID)
	if got.PasswordHash != "h2" || !got.MustChangePassword {
		t.Fatalf("password not set: %+v", got)
	}
	// Changing the role leaves sessions alone: the role is read on every request.
	if err := db.SetRole(ctx, u.ID, RoleViewer); err != nil {
		t.Fatal(err)
	}
	if after, _ := db.UserByID(ctx, u.ID); after.SessionGen != last {
		t.Fatalf("role change moved the generation to %d", after.SessionGen)
	}
}
