package main

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
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

// errNoMasterKey is returned by loadMasterKey when there is no key and none
// is to be created.
var errNoMasterKey = errors.New("no master key")

// loadMasterKey returns the 32-byte key that seals gateway merchant keys
// and, through a key derived from it, the audit log: PAYDESK_MASTER_KEY
// (64 hex digits) when set, otherwise the key file in the data folder,
// which is created when create is set.
func loadMasterKey(getenv func(string) string, dataDir string, create bool) ([]byte, error) {
	if v := strings.TrimSpace(getenv("PAYDESK_MASTER_KEY")); v != "" {
		k, err := hex.DecodeString(v)
		if err != nil || len(k) != 32 {
			return nil, errors.New("PAYDESK_MASTER_KEY must be 64 hexadecimal digits (32 bytes)")
		}
		return k, nil
	}
	path := filepath.Join(dataDir, masterKeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) && !create {
		return nil, errNoMasterKey
	}
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

// auditKey derives the key that seals the audit log. The master key also
// seals the gateway merchant keys; each use gets a key of its own.
func auditKey(master []byte) ([]byte, error) {
	return hkdf.Key(sha256.New, master, nil, "paydesk audit chain v1", 32)
}
