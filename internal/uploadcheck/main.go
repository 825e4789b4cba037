// Command uploadcheck prepares what uploadcheck.sh measures: a payout file
// as Excel writes it, and a week of earlier payouts in a console's
// database, so that a 100,000-row upload to the built program meets the
// same data as BenchmarkBatchUpload100k.
//
//	go run ./internal/uploadcheck -file big.csv -enc gbk    # write the file
//	go run ./internal/uploadcheck -data DIR                 # add the history to DIR/paydesk.db
//
// The history goes to the database's first gateway account (the sandbox's
// on a fresh data folder); the console may be running meanwhile.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"paydesk/internal/payoutfile"
	"paydesk/store"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "uploadcheck:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("uploadcheck", flag.ContinueOnError)
	file := fs.String("file", "", "write a 100,000-row payout file here")
	enc := fs.String("enc", payoutfile.GBK, "the file's encoding: gbk or utf-8")
	data := fs.String("data", "", "add a week of 100,000 earlier payouts to the database in this data folder")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *file == "" && *data == "" {
		return errors.New("give -file, -data or both")
	}
	if *file != "" {
		if *enc != payoutfile.GBK && *enc != payoutfile.UTF8 {
			return fmt.Errorf("-enc %q: give gbk or utf-8", *enc)
		}
		b, st, err := payoutfile.File(*enc)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*file, b, 0o600); err != nil {
			return err
		}
		fmt.Printf("%s: %d rows (%d with errors), %.1f MiB, %s\n", *file, st.Rows, st.ErrorRows, float64(len(b))/(1<<20), *enc)
	}
	if *data != "" {
		db, err := store.Open(ctx, filepath.Join(*data, "paydesk.db"), nil)
		if err != nil {
			return err
		}
		defer db.Close()
		var acct int64
		if err := db.QueryRowContext(ctx, `SELECT id FROM gateway_accounts ORDER BY id LIMIT 1`).Scan(&acct); err != nil {
			return fmt.Errorf("no gateway account in %s (start the console on it once): %w", *data, err)
		}
		if err := payoutfile.SeedHistory(ctx, db, acct, time.Now()); err != nil {
			return err
		}
		fmt.Printf("%s: %d payouts of the last 7 days added\n", *data, payoutfile.HistoryPayouts)
	}
	return nil
}
