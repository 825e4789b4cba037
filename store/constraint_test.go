package store

import (
	"context"
	"errors"
	"testing"
)

// A taken name is a conflict, recognised by SQLite's result code; another
// failure whose message merely mentions UNIQUE is not.
func TestUniqueViolationsByCode(t *testing.T) {
	db := openTest(t)
	ctx := context.Background()
	if _, err := db.CreateUser(ctx, "olga", RoleViewer, "h", false); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreateUser(ctx, "OLGA", RoleViewer, "h", false); !errors.Is(err, ErrConflict) {
		t.Fatalf("a taken username: %v, want ErrConflict", err)
	}
	trigger := []string{`CREATE TRIGGER refuse_pia BEFORE INSERT ON users WHEN NEW.username = 'pia'
		BEGIN SELECT RAISE(ABORT, 'UNIQUE-looking refusal of a trigger'); END`}
	if db.Postgres() {
		trigger = []string{`CREATE FUNCTION refuse_pia() RETURNS trigger LANGUAGE plpgsql AS $$
			BEGIN RAISE EXCEPTION 'UNIQUE-looking refusal of a trigger'; END $$`,
			`CREATE TRIGGER refuse_pia BEFORE INSERT ON users FOR EACH ROW WHEN (NEW.username = 'pia') EXECUTE FUNCTION refuse_pia()`}
	}
	for _, q := range trigger {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	_, err := db.CreateUser(ctx, "pia", RoleViewer, "h", false)
	if err == nil || errors.Is(err, ErrConflict) || isUnique(err) {
		t.Fatalf("a trigger's refusal that mentions UNIQUE: %v, want an error other than ErrConflict", err)
	}
	if isUnique(errors.New("UNIQUE constraint failed: users.username")) {
		t.Fatal("an error that is not the driver's was taken for a UNIQUE violation")
	}
}
