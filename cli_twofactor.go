package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"

	"paydesk/desk"
	"paydesk/store"
)

// runResetTwoFactor turns a user's two-factor sign-in off from the command
// line: the way back in when no admin can sign in (the only admin lost
// their phone and recovery codes, or the master key was lost).
func runResetTwoFactor(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	usage := "usage: paydesk user reset-two-factor -username NAME"
	fset := flag.NewFlagSet("paydesk user reset-two-factor", flag.ContinueOnError)
	fset.SetOutput(stdout)
	dataDir := dataFlag(fset, getenv)
	database := databaseFlag(fset, getenv)
	username := fset.String("username", "", "the user's name")
	if err := fset.Parse(args); err != nil {
		return err
	}
	if fset.NArg() > 0 {
		return fmt.Errorf("unexpected %q; %s", fset.Arg(0), usage)
	}
	if err := desk.ValidateUsername(*username); err != nil {
		return fmt.Errorf("-username: %w", err)
	}
	db, err := openExisting(ctx, *dataDir, *database)
	if err != nil {
		return err
	}
	defer db.Close()
	if _, err := sealAudit(ctx, db, getenv, *dataDir, cliLog(stdout)); err != nil {
		return err
	}
	u, err := db.UserByName(ctx, *username)
	if errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("there is no user %s", *username)
	}
	if err != nil {
		return err
	}
	if !u.TwoFactor {
		fmt.Fprintf(stdout, "%s does not use two-factor sign-in; nothing changed\n", u.Username)
		return nil
	}
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		if err := db.DisableTwoFactorTx(ctx, tx, u.ID); err != nil {
			return err
		}
		if _, err := db.EndSessionsTx(ctx, tx, u.ID); err != nil {
			return err
		}
		return db.AuditTx(ctx, tx, store.AuditEntry{Actor: cliActor, Action: "user.two_factor_reset", Subject: "user:" + u.Username, Detail: "secret and recovery codes deleted; sessions ended"})
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "two-factor sign-in of %s reset; their sessions have ended; they sign in with their password alone until they set it up again\n", u.Username)
	return nil
}
