// Command ingestcheck measures callback ingestion the way the gateway
// loads it, against the built paydesk binary, beside the ceiling server
// (tools/ceiling) in the same run: it stores a gateway account and open
// pay orders in a fresh data folder, starts the binary on it, sends signed
// pay callbacks from many keep-alive connections for a while, stops it and
// checks that every answered callback is stored and applied once; then
// sends the ceiling the same requests from the same senders. It prints
// both rates and p99s and their ratio, for each load:
//
//   - first: each callback the first paid callback of a distinct known
//     open order (every one a real state change);
//   - external: each callback for an order Paydesk does not know, which
//     it records as external.
//
// From the repository root:
//
//	go build -o /tmp/paydesk . && go run ./internal/ingestcheck -bin /tmp/paydesk
//
// The ceiling's source is PAYDESK_CEILING_DIR, else ../shared/tools/ceiling
// beside the repository; without it only Paydesk is measured.
package main

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"paydesk/desk"
	"paydesk/internal/callbackload"
	"paydesk/store"
)

const (
	mchID = "20001222"
	appID = "app1"
	key   = "ingestcheck-merchant-key"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "ingestcheck:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("ingestcheck", flag.ContinueOnError)
	bin := fs.String("bin", "", "the built paydesk binary (required)")
	loads := fs.String("load", "first,external", "the loads to send, separated by commas: first, external")
	senders := fs.Int("senders", 64, "connections, each sending its next callback once answered")
	duration := fs.Duration("duration", 10*time.Second, "how long each load is sent")
	orders := fs.Int("orders", 200_000, "open pay orders stored before the first load")
	rounds := fs.Int("rounds", 1, "how often each load is sent to both, alternating")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *bin == "" {
		return errors.New("-bin is required: go build -o /tmp/paydesk . first")
	}
	var ceilingBin string
	if dir, ok := callbackload.CeilingDir(".", os.Getenv); ok {
		ceilingBin = filepath.Join(os.TempDir(), fmt.Sprintf("ingestcheck-ceiling-%d", os.Getpid()))
		if err := callbackload.BuildCeiling(ctx, dir, ceilingBin); err != nil {
			return err
		}
		defer os.Remove(ceilingBin)
	} else {
		fmt.Fprintf(out, "no ceiling server in %s (set PAYDESK_CEILING_DIR): the ratio is not measured\n", dir)
	}
	for _, load := range strings.Split(*loads, ",") {
		if load != "first" && load != "external" {
			return fmt.Errorf("-load: %q is neither first nor external", load)
		}
		for round := range *rounds {
			if err := measure(ctx, out, *bin, ceilingBin, load, *senders, *duration, *orders, round); err != nil {
				return err
			}
		}
	}
	return nil
}

// measure sends one load to a fresh console, then to the ceiling.
func measure(ctx context.Context, out io.Writer, bin, ceilingBin, load string, senders int, duration time.Duration, orders, round int) error {
	dir, err := os.MkdirTemp("", "ingestcheck-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	masterKey := make([]byte, 32)
	for i := range masterKey {
		masterKey[i] = byte(i + 1)
	}
	if err := seed(ctx, filepath.Join(dir, "paydesk.db"), masterKey, orders); err != nil {
		return err
	}
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	reqs := requests(addr, load, orders)

	cmd := exec.Command(bin, "-data", dir, "-addr", addr)
	cmd.Env = append(os.Environ(), "PAYDESK_MASTER_KEY="+hex.EncodeToString(masterKey), "PAYDESK_SANDBOX=off",
		"PAYDESK_ADMIN_PASSWORD=ingestcheck-admin-password")
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		return err
	}
	if err := waitHealthy(ctx, "http://"+addr+"/healthz"); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("paydesk: %w\n%s", err, logs.String())
	}
	res := callbackload.Run(ctx, callbackload.Load{Addr: addr, Requests: reqs, Senders: senders, Duration: duration})
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("paydesk stopped: %w\n%s", err, logs.String())
	}
	if res.Failed > 0 {
		return fmt.Errorf("paydesk: %d of %d callbacks not success (first: %s)", res.Failed, res.Sent, res.First)
	}
	if err := check(ctx, filepath.Join(dir, "paydesk.db"), load, res.Sent, orders); err != nil {
		return err
	}
	fmt.Fprintf(out, "%s round %d, %d senders, paydesk: %s\n", load, round+1, senders, res)
	if ceilingBin == "" {
		return nil
	}
	c, err := callbackload.StartCeiling(ctx, ceilingBin, dir, key)
	if err != nil {
		return err
	}
	creqs := requests(c.Addr, load, orders)
	ceil := callbackload.Run(ctx, callbackload.Load{Addr: c.Addr, Requests: creqs, Senders: senders, Duration: duration})
	c.Stop()
	if ceil.Failed > 0 {
		return fmt.Errorf("the ceiling: %d of %d callbacks not success (first: %s)", ceil.Failed, ceil.Sent, ceil.First)
	}
	fmt.Fprintf(out, "%s round %d, %d senders, ceiling: %s\n", load, round+1, senders, ceil)
	fmt.Fprintf(out, "%s round %d, %d senders: ratio %.2f (paydesk %.0f/s, p99 %.1f ms; ceiling %.0f/s, p99 %.1f ms)\n", load, round+1, senders,
		res.PerSecond()/ceil.PerSecond(), res.PerSecond(), callbackload.Ms(res.Percentile(0.99)), ceil.PerSecond(), callbackload.Ms(ceil.Percentile(0.99)))
	return nil
}

// seed stores the gateway account and the open pay orders, through the
// core and the store as the console would find them, and closes the
// database.
func seed(ctx context.Context, path string, masterKey []byte, orders int) error {
	db, err := store.Open(ctx, path, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	d, err := desk.New(desk.Config{MasterKey: masterKey, PublicURL: "http://127.0.0.1:1"}, db, nil, nil)
	if err != nil {
		return err
	}
	acct, err := d.CreateGatewayAccount(ctx, desk.Actor{UserID: 0, Username: "ingestcheck", Role: store.RoleAdmin, ClientAddr: "127.0.0.1"},
		desk.GatewayInput{Name: "Load", BaseURL: "http://127.0.0.1:1", NotifyBaseURL: "http://127.0.0.1:1", MchID: mchID, AppID: appID, Key: key})
	if err != nil {
		return err
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	err = db.InTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO pay_orders (account_id, mch_order_no, pay_order_id, product_id, amount, currency,
			subject, body, status, state, pay_url, origin, created_by, created_at, updated_at, link_token, link_active)
			VALUES (?, ?, ?, ?, ?, 'cny', ?, '', ?, 'open', ?, 'console', 'seed', ?, ?, ?, 1)`)
		if err != nil {
			return err
		}
		defer stmt.Close()
		for i := range orders {
			no, gid := orderNos(i)
			at := base.Add(time.Duration(i) * time.Second).Format("2006-01-02T15:04:05.000000000Z")
			if _, err := stmt.ExecContext(ctx, acct.ID, no, gid, 8000+i%20, amount(i), fmt.Sprintf("Order %d", i), i%2,
				"https://gw.example/pay/"+gid, at, at, fmt.Sprintf("tok%019d", i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
	return err
}

func orderNos(i int) (mchOrderNo, payOrderID string) {
	return fmt.Sprintf("PD%012d", i), fmt.Sprintf("P%019d", i)
}

func amount(i int) int64 { return 1 + int64(i*7919)%100000 }

// requests are the load's callbacks as whole HTTP requests to addr.
func requests(addr, load string, orders int) [][]byte {
	reqs := make([][]byte, orders)
	for i := range reqs {
		no, gid := orderNos(i)
		amt := amount(i)
		if load == "external" {
			no, gid, amt = fmt.Sprintf("EX%012d", i), fmt.Sprintf("Q%019d", i), 100+int64(i%1000)
		}
		reqs[i] = callbackload.PostRequest(addr, "/notify/pay", callbackload.PayFields(mchID, appID, key, gid, no, amt, 2))
	}
	return reqs
}

// check says whether every answered callback was stored and applied once.
func check(ctx context.Context, path, load string, sent, orders int) error {
	db, err := store.Open(ctx, path, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	var stored, pending, applied, paid, external int
	if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE result = 'pending'), count(*) FILTER (WHERE result = 'applied')
		FROM notifications`).Scan(&stored, &pending, &applied); err != nil {
		return err
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE status = 2), count(*) FILTER (WHERE origin = 'external') FROM pay_orders`).
		Scan(&paid, &external); err != nil {
		return err
	}
	// A load longer than the orders sends some twice: duplicates.
	if stored != sent || pending != 0 || applied != min(sent, orders) || load == "first" && paid != applied {
		return fmt.Errorf("%d callbacks answered success, but %d stored (%d pending, %d applied), %d orders paid", sent, stored, pending, applied, paid)
	}
	if load == "external" && external != applied {
		return fmt.Errorf("%d external orders recorded for %d callbacks applied", external, applied)
	}
	return nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// waitHealthy waits until url answers 200, for up to 30 s.
func waitHealthy(ctx context.Context, url string) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not healthy within 30 s: %v", err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
