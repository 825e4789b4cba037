package callbackload

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// CeilingDir is the ceiling server's source folder: PAYDESK_CEILING_DIR
// when set, else ../shared/tools/ceiling next to the repository at root.
// It reports false when the folder holds no ceiling (a clean checkout
// without the shared tools).
func CeilingDir(root string, getenv func(string) string) (string, bool) {
	dir := getenv("PAYDESK_CEILING_DIR")
	if dir == "" {
		dir = filepath.Join(root, "..", "shared", "tools", "ceiling")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", false
	}
	if _, err := os.Stat(filepath.Join(dir, "main.go")); err != nil {
		return dir, false
	}
	return dir, true
}

// BuildCeiling builds the ceiling server in dir into the file bin.
func BuildCeiling(ctx context.Context, dir, bin string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, ".")
	cmd.Dir = dir
	// The ceiling is a module of its own, outside any workspace.
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build the ceiling in %s: %w\n%s", dir, err, out)
	}
	return nil
}

// Ceiling is the ceiling server running as a child process, storing every
// callback in its own SQLite file with group commit (-group).
type Ceiling struct {
	Addr string
	cmd  *exec.Cmd
	done chan error
	log  strings.Builder
}

// StartCeiling runs the built ceiling bin on a free local port, with its
// database in the folder dbDir and the merchant key key, and waits until
// it takes connections.
func StartCeiling(ctx context.Context, bin, dbDir, key string) (*Ceiling, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	c := &Ceiling{Addr: addr, done: make(chan error, 1)}
	c.cmd = exec.Command(bin, "-addr", addr, "-db", filepath.Join(dbDir, "ceiling.db"), "-group", "-key", key)
	c.cmd.Stdout, c.cmd.Stderr = &c.log, &c.log
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the ceiling: %w", err)
	}
	go func() { c.done <- c.cmd.Wait() }()
	for deadline := time.Now().Add(10 * time.Second); ; {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			conn.Close()
			return c, nil
		}
		select {
		case err := <-c.done:
			return nil, fmt.Errorf("the ceiling stopped: %v: %s", err, c.log.String())
		case <-ctx.Done():
			c.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			c.Stop()
			return nil, errors.New("the ceiling did not take connections within 10 s")
		}
	}
}

// Stop ends the ceiling and waits for it.
func (c *Ceiling) Stop() {
	if c.cmd.Process != nil {
		c.cmd.Process.Kill()
	}
	<-c.done
}
