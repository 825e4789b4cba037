package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"paydesk/payments/sandbox"
)

// Defaults of the sandbox merchant: the example values of the gateway's API document.
const (
	defaultSandboxMchID = "20001222"
	defaultSandboxAppID = "0ae8be35ff634e2abe94f5f32f6d5c4f"
	sandboxKeyFile      = "sandbox.key"
)

// sandboxSettings is how a sandbox gateway is set up, from flags or environment.
type sandboxSettings struct {
	Addr, MchID, AppID, Key, PublicURL, Faults string
	TimeScale                                  float64
}

// sandboxKey returns key when set, otherwise the key kept in the data
// folder, generated on first use.
func sandboxKey(key, dataDir string) (string, error) {
	if key != "" {
		return key, nil
	}
	path := filepath.Join(dataDir, sandboxKeyFile)
	b, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	k := make([]byte, 16)
	rand.Read(k)
	key = hex.EncodeToString(k)
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", err
	}
	return key, os.WriteFile(path, []byte(key+"\n"), 0o600)
}

func parseTimeScale(s string) (float64, error) {
	if s == "" {
		return 1, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 100 {
		return 0, fmt.Errorf("time scale %q: want a number above 0, such as 0.01", s)
	}
	return f, nil
}

// startSandbox listens on st.Addr and serves a sandbox gateway there until
// the returned stop function is called. It returns the sandbox and its
// base URL too.
func startSandbox(st sandboxSettings, log *slog.Logger) (*sandbox.Sandbox, string, func(), error) {
	faults, err := sandbox.ParseFaults(st.Faults)
	if err != nil {
		return nil, "", nil, err
	}
	ln, err := net.Listen("tcp", st.Addr)
	if err != nil {
		return nil, "", nil, fmt.Errorf("sandbox gateway: %w", err)
	}
	base := "http://" + ln.Addr().String()
	public := st.PublicURL
	if public == "" {
		public = base
	}
	sb := sandbox.New(sandbox.Config{
		MchID: st.MchID, AppID: st.AppID, Key: st.Key, PublicURL: public,
		TimeScale: st.TimeScale, Logger: log.With("component", "sandbox"), Faults: faults,
	})
	hs := &http.Server{Handler: sb, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	stop := func() {
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(shut)
		sb.Close()
	}
	return sb, base, stop, nil
}

// runSandbox runs the sandbox gateway alone, for demos and for the
// merchant's other systems' integration tests.
func runSandbox(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fset := flag.NewFlagSet("paydesk sandbox", flag.ContinueOnError)
	fset.SetOutput(stdout)
	var st sandboxSettings
	var scale, dataDir string
	fset.StringVar(&st.Addr, "addr", "127.0.0.1:3020", "address the sandbox gateway listens on")
	fset.StringVar(&st.MchID, "mch-id", envOr(getenv, "PAYDESK_SANDBOX_MCH_ID", defaultSandboxMchID), "merchant id (env PAYDESK_SANDBOX_MCH_ID)")
	fset.StringVar(&st.AppID, "app-id", envOr(getenv, "PAYDESK_SANDBOX_APP_ID", defaultSandboxAppID), "app id (env PAYDESK_SANDBOX_APP_ID)")
	fset.StringVar(&st.Key, "key", getenv("PAYDESK_SANDBOX_KEY"), "merchant key (env PAYDESK_SANDBOX_KEY; default: generated once and kept in DATA/sandbox.key)")
	fset.StringVar(&dataDir, "data", envOr(getenv, "PAYDESK_DATA", "./data"), "folder for the generated key")
	fset.StringVar(&scale, "time-scale", envOr(getenv, "PAYDESK_SANDBOX_TIME_SCALE", "1"), "clock scale for notification retries and payout settling, e.g. 0.01 (env PAYDESK_SANDBOX_TIME_SCALE)")
	fset.StringVar(&st.PublicURL, "public-url", "", "base URL at which browsers reach the sandbox (default http://ADDR)")
	fset.StringVar(&st.Faults, "faults", "", "fault switches, e.g. lost-answer,timeout,500,0010,garbage,bad-sign,duplicate,out-of-order,refuse=2,latency=200ms,percent=30,post-form=8002+8003,late-create,dup-msg=商户单号已使用,dup-0010")
	if err := fset.Parse(args); err != nil {
		return err
	}
	var err error
	if st.TimeScale, err = parseTimeScale(scale); err != nil {
		return err
	}
	if st.Key, err = sandboxKey(st.Key, dataDir); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, nil))
	_, base, stop, err := startSandbox(st, log)
	if err != nil {
		return err
	}
	defer stop()
	log.Info("sandbox gateway is listening", "url", base, "page", base+"/sandbox", "mchId", st.MchID, "appId", st.AppID,
		"key", st.Key, "timeScale", st.TimeScale, "faults", st.Faults)
	<-ctx.Done()
	return nil
}
