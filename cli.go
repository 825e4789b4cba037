package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"paydesk/desk"
	"paydesk/store"
)

// cliActor is the audit log's actor for changes made on the command line.
const cliActor = "command line"

// dataFlag adds -data (env PAYDESK_DATA) to a subcommand's flags.
func dataFlag(fset *flag.FlagSet, getenv func(string) string) *string {
	return fset.String("data", envOr(getenv, "PAYDESK_DATA", "./data"), "folder of the SQLite database (env PAYDESK_DATA)")
}

// databaseFlag adds -database (env PAYDESK_DATABASE_URL) to a subcommand's
// flags: a postgres:// URL, or empty for the SQLite file in the data folder.
func databaseFlag(fset *flag.FlagSet, getenv func(string) string) *string {
	return fset.String("database", getenv("PAYDESK_DATABASE_URL"), "PostgreSQL database as postgres://user:password@host:5432/name; empty: SQLite in the data folder (env PAYDESK_DATABASE_URL)")
}

// openExisting opens the database in dataDir (or at database, a PostgreSQL
// URL), which must already exist: commands that read or copy it should not
// quietly make an empty one.
func openExisting(ctx context.Context, dataDir, database string) (*store.DB, error) {
	if database != "" {
		return openDatabase(ctx, database, time.Now)
	}
	path := filepath.Join(dataDir, "paydesk.db")
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("no database at %s (use -data or PAYDESK_DATA to name the data folder)", path)
		}
		return nil, err
	}
	return store.Open(ctx, path, time.Now)
}

// readPassword reads one line from stdin: the password, without the line end.
func readPassword(stdin io.Reader) (string, error) {
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !(errors.Is(err, io.EOF) && line != "") {
		return "", errors.New("give the password as one line on standard input, e.g. printf '%s\\n' \"$PW\" | paydesk user add ...")
	}
	pw := strings.TrimRight(line, "\r\n")
	if err := desk.ValidatePassword(pw); err != nil {
		return "", err
	}
	return pw, nil
}

func runUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	usage := "usage: paydesk user add -username NAME -role ROLE | paydesk user passwd -username NAME   (password on standard input)"
	if len(args) == 0 {
		return errors.New(usage)
	}
	cmd := args[0]
	if cmd == "reset-two-factor" {
		return runResetTwoFactor(ctx, args[1:], getenv, stdout)
	}
	fset := flag.NewFlagSet("paydesk user "+cmd, flag.ContinueOnError)
	fset.SetOutput(stdout)
	dataDir := dataFlag(fset, getenv)
	database := databaseFlag(fset, getenv)
	username := fset.String("username", "", "the user's name")
	var role *string
	switch cmd {
	case "add":
		role = fset.String("role", "", "role: "+strings.Join(store.Roles(), ", "))
	case "passwd":
	default:
		return fmt.Errorf("unknown user command %q; %s", cmd, usage)
	}
	if err := fset.Parse(args[1:]); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("unexpected %q; %s", fset.Arg(0), usage)
	}
	if err := desk.ValidateUsername(*username); err != nil {
		return fmt.Errorf("-username: %w", err)
	}
	if role != nil && !store.ValidRole(*role) {
		return fmt.Errorf("-role must be one of %s", strings.Join(store.Roles(), ", "))
	}
	password, err := readPassword(stdin)
	if err != nil {
		return err
	}
	hash, err := desk.HashPassword(password)
	if err != nil {
		return err
	}
	if cmd == "add" {
		return addUser(ctx, getenv, stdout, *dataDir, *database, *username, *role, hash)
	}
	return setPassword(ctx, getenv, stdout, *dataDir, *database, *username, hash)
}

// addUser creates a user with role and the password hash, audited.
func addUser(ctx context.Context, getenv func(string) string, stdout io.Writer, dataDir, database, username, role, hash string) error {
	db, err := openStore(ctx, dataDir, database, time.Now)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := sealAudit(ctx, db, getenv, dataDir, cliLog(stdout)); err != nil {
		return err
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.CreateUserTx(ctx, tx, username, role, hash, false); err != nil {
			return err
		}
		return db.AuditTx(ctx, tx, store.AuditEntry{Actor: cliActor, Action: "user.create", Subject: "user:" + username, Detail: "role " + role})
	})
	if errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("the username %s is taken", username)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created user %s with role %s\n", username, role)
	return nil
}

// setPassword sets an existing user's password hash and ends their
// sessions, audited.
func setPassword(ctx context.Context, getenv func(string) string, stdout io.Writer, dataDir, database, username, hash string) error {
	db, err := openExisting(ctx, dataDir, database)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := sealAudit(ctx, db, getenv, dataDir, cliLog(stdout)); err != nil {
		return err
	}
	u, err := db.UserByName(ctx, username)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("there is no user %s", username)
	}
	if err != nil {
		return err
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		if _, err := db.SetPasswordTx(ctx, tx, u.ID, hash, false); err != nil {
			return err
		}
		return db.AuditTx(ctx, tx, store.AuditEntry{Actor: cliActor, Action: "user.password_reset", Subject: "user:" + u.Username, Detail: "password set; sessions ended"})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "password of %s changed; their sessions have ended\n", u.Username)
	if u.Disabled {
		fmt.Fprintf(stdout, "note: %s is disabled; an admin can enable the account on the users page\n", u.Username)
	}
	return nil
}

func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New("usage: paydesk audit verify [-data DIR] [-database URL]")
	}
	fset := flag.NewFlagSet("paydesk audit verify", flag.ContinueOnError)
	fset.SetOutput(stdout)
	dataDir := dataFlag(fset, getenv)
	database := databaseFlag(fset, getenv)
	if err := fset.Parse(args[1:]); err != nil {
		return err
	}
	db, err := openExisting(ctx, *dataDir, *database)
	if err != nil {
		return err
	}
	defer db.Close()
	headFile := filepath.Join(*dataDir, auditHeadFile)
	masterKey, err := loadMasterKey(getenv, *dataDir, false)
	haveKey := err == nil
	switch {
	case errors.Is(err, errNoMasterKey):
	case err != nil:
		return err
	default:
		if err := keyAudit(db, masterKey, *dataDir, cliLog(stdout)); err != nil {
			return err
		}
	}
	rep, err := db.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if rep.BrokenAt != 0 {
		fmt.Fprintf(stdout, "audit log BROKEN: row %d: %s (%d rows checked)\n", rep.BrokenAt, rep.BrokenWhy, rep.Rows)
	}
	if rep.AnchorProblem != "" {
		fmt.Fprintf(stdout, "audit log BROKEN: anchor: %s\n", rep.AnchorProblem)
		fmt.Fprintf(stdout, "If this follows a legitimate change (a restored backup, a database put in a new data folder, or a log the console has not yet run with), move %s aside if it exists and start the console once: it anchors the log afresh and records that in the log.\n", headFile)
	}
	switch {
	case rep.BrokenAt != 0:
		return fmt.Errorf("audit log broken at row %d", rep.BrokenAt)
	case rep.AnchorProblem != "":
		return errors.New("the audit log does not match its anchor")
	}
	_, statErr := os.Stat(headFile)
	if !haveKey && (rep.SealedFrom != 0 || statErr == nil) {
		fmt.Fprintf(stdout, "audit log NOT VERIFIED: its rows are sealed with the master key, which was not found (set PAYDESK_MASTER_KEY or put master.key in %s). Without it only the links between rows and the rows from before the log was sealed were checked (%d rows).\n", *dataDir, rep.Rows)
		return errors.New("audit verify needs the master key to check the sealed audit log")
	}
	fmt.Fprintf(stdout, "audit log intact: %d rows, every one chained to the one before\n", rep.Rows)
	switch {
	case rep.SealedFrom == 0:
		fmt.Fprintln(stdout, "No row is sealed with the master key yet: the rows are chained with plain SHA-256 only, which anyone with the database file can recompute. The console seals the log from its next start.")
	case rep.SealedFrom > 1:
		fmt.Fprintf(stdout, "Rows 1 to %d are chained with plain SHA-256 from before the log was sealed; row %d's seal covers them, and every row from %d on is sealed with the master key.\n", rep.SealedFrom-1, rep.SealedFrom, rep.SealedFrom)
	default:
		fmt.Fprintln(stdout, "Every row is sealed with the master key.")
	}
	if rep.AnchorRow != 0 {
		fmt.Fprintf(stdout, "The anchor (%s) names row %d, which is in the log as anchored", headFile, rep.AnchorRow)
		if rep.AfterAnchor > 0 {
			fmt.Fprintf(stdout, "; %d rows were written after it (the anchor follows each commit and can lag after a crash)", rep.AfterAnchor)
		}
		fmt.Fprintln(stdout, ".")
	}
	if len(rep.Reanchored) > 0 {
		fmt.Fprintf(stdout, "Note: the log was anchored afresh at row(s) %s because no anchor was found then (first start with a sealed log, a restored backup, or a removed anchor file); rows removed from the end of the log before that could not be told.\n", joinIDs(rep.Reanchored))
	}
	return nil
}

// joinIDs lists row ids for a sentence.
func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ", ")
}

// cliLog is the log of a command: its standard output.
func cliLog(stdout io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(stdout, nil))
}

func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fset := flag.NewFlagSet("paydesk backup", flag.ContinueOnError)
	fset.SetOutput(stdout)
	dataDir := dataFlag(fset, getenv)
	database := databaseFlag(fset, getenv)
	fset.Usage = func() {
		fmt.Fprintln(stdout, "usage: paydesk backup [-data DIR] FILE   (a consistent copy of the live SQLite database; FILE must not exist)")
		fset.PrintDefaults()
	}
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() != 1 {
		fset.Usage()
		return errors.New("backup needs one FILE to write")
	}
	file := fset.Arg(0)
	if store.IsPostgresURL(*database) {
		return errors.New("paydesk backup copies the SQLite file; on PostgreSQL use pg_dump (for example pg_dump -Fc -f paydesk.dump \"$PAYDESK_DATABASE_URL\") or the database's point-in-time recovery, and keep the data folder's master.key apart")
	}
	if _, err := os.Stat(file); err == nil {
		return fmt.Errorf("%s exists already; choose a new file name", file)
	}
	db, err := openExisting(ctx, *dataDir, *database)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.Backup(ctx, file); err != nil {
		return err
	}
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s (%d bytes); back up %s separately\n", file, st.Size(), filepath.Join(*dataDir, masterKeyFile))
	return nil
}
