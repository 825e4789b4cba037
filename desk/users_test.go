package desk

import (
	"context"
	"errors"
	"testing"
	"time"

	"paydesk/store"
)

// addUser stores a user with role and the password "test-password-123".
func (e *coreEnv) addUser(name, role string) store.User {
	e.t.Helper()
	hash, err := HashPassword("test-password-123")
	if err != nil {
		e.t.Fatal(err)
	}
	u, err := e.db.CreateUser(context.Background(), name, role, hash, false)
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func actorOf(u store.User) Actor { return ActorOf(u, "192.0.2.50") }

// The last enabled admin can be neither disabled nor demoted, by anyone;
// the users page and the actions ask the same rule.
func TestLastAdminCannotBeDisabledOrDemoted(t *testing.T) {
	e := newCoreEnv(t)
	ctx := context.Background()
	root := e.addUser("root", store.RoleAdmin)
	second := e.addUser("second", store.RoleAdmin)
	op := e.addUser("op", store.RoleOperator)
	me := actorOf(root)

	if acts := UserActionsFor(me, root, 2); !acts.ChangeRole || acts.Disable || acts.ResetPassword || acts.Note.Key != "" {
		t.Errorf("own row with two admins: %+v", acts)
	}
	if _, err := e.d.SetUserDisabled(ctx, me, second.ID, true); err != nil {
		t.Fatal(err)
	}
	// root is now the last enabled admin.
	if acts := UserActionsFor(me, root, 1); acts.ChangeRole || acts.Disable || acts.Note.Key == "" {
		t.Errorf("the last admin's row: %+v", acts)
	}
	if _, err := e.d.SetUserRole(ctx, me, root.ID, store.RoleViewer); !isKind(err, Invalid) {
		t.Errorf("demoting the last admin: %v", err)
	}
	if u, _ := e.db.UserByID(ctx, root.ID); u.Role != store.RoleAdmin {
		t.Fatalf("the last admin was demoted to %s", u.Role)
	}
	if _, err := e.d.SetUserDisabled(ctx, me, root.ID, true); !isKind(err, Invalid) {
		t.Errorf("disabling oneself, the last admin: %v", err)
	}
	// Nobody else may do it either: an operator is not an admin at all.
	if _, err := e.d.SetUserRole(ctx, actorOf(op), root.ID, store.RoleViewer); !isKind(err, Forbidden) {
		t.Errorf("an operator demoting the admin: %v", err)
	}
	// With a second enabled admin, the first may be demoted.
	if _, err := e.d.SetUserDisabled(ctx, me, second.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.SetUserRole(ctx, me, root.ID, store.RoleApprover); err != nil {
		t.Errorf("demoting one of two admins: %v", err)
	}
	var audited int
	e.db.QueryRow(`SELECT count(*) FROM audit_log WHERE action IN ('user.role', 'user.disable', 'user.enable')`).Scan(&audited)
	if audited != 3 {
		t.Errorf("%d audit rows, want 3 (disable, enable, role)", audited)
	}
}

// When no hashing slot comes free in time, sign-in, password change and
// user creation are refused busy, hash nothing, and the sign-in attempt
// does not count against the throttle.
func TestBusyHashingRefusesWithoutHashing(t *testing.T) {
	e := newCoreEnv(t, func(c *Config) { c.HashConcurrency, c.HashWait = 1, 20*time.Millisecond })
	ctx := context.Background()
	root := e.addUser("root", store.RoleAdmin)
	name := e.addUser("vera", store.RoleViewer).Username
	_, _, before := e.d.HashStats()
	e.d.hasher.slots <- struct{}{} // every slot taken
	for i := range throttleFree + 3 {
		if _, err := e.d.SignIn(ctx, name, "wrong-password-1", "192.0.2.9"); !isKind(err, Busy) {
			t.Fatalf("sign-in %d while busy: %v", i, err)
		}
	}
	if _, err := e.d.ChangePassword(ctx, actorOf(root), "test-password-123", "another-password-9", "another-password-9"); !isKind(err, Busy) {
		t.Fatalf("password change while busy: %v", err)
	}
	if _, err := e.d.CreateUser(ctx, actorOf(root), "dora", store.RoleViewer); !isKind(err, Busy) {
		t.Fatalf("user creation while busy: %v", err)
	}
	if _, _, n := e.d.HashStats(); n != before {
		t.Fatalf("%d hashes evaluated while busy", n-before)
	}
	if _, err := e.db.UserByName(ctx, "dora"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a user was created while hashing was busy: %v", err)
	}
	<-e.d.hasher.slots
	// The refused attempts were not counted: the right password goes through.
	if in, err := e.d.SignIn(ctx, name, "test-password-123", "192.0.2.9"); err != nil || in.User.Username != name {
		t.Fatalf("sign-in once free: %+v %v", in, err)
	}
}
