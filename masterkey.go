package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// masterKeyFile is where the master key lives when PAYDESK_MASTER_KEY is not set.
const masterKeyFile = "master.key"

// loadMasterKey returns the 32-byte key that seals gateway merchant keys:
// PAYDESK_MASTER_KEY (64 hex digits) when set, otherwise the key file in the
// data folder, created on first start.
func loadMasterKey(getenv func(string) string, dataDir string) ([]byte, error) {
	if v := strings.TrimSpace(getenv("PAYDESK_MASTER_KEY")); v != "" {
		k, err := hex.DecodeString(v)
		if err != nil || len(k) != 32 {
			return nil, errors.New("PAYDESK_MASTER_KEY must be 64 hexadecimal digits (32 bytes)")
		}
		return k, nil
	}
	path := filepath.Join(dataDir, masterKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		k := make([]byte, 32)
		if _, err := rand.Read(k); err != nil {
			return nil, err
		}
		if err := os.WriteFile(path, []byte(hex.EncodeToString(k)+"\n"), 0o600); err != nil {
			return nil, fmt.Errorf("write master key: %w", err)
		}
		return k, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read master key: %w", err)
	}
	k, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(k) != 32 {
		return nil, fmt.Errorf("%s must hold 64 hexadecimal digits", path)
	}
	return k, nil
}
