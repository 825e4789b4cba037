package main

import (
	"context"
	"errors"
	"io"
)

func runUser(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	return errors.New("user: not available yet")
}

func runAudit(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("audit: not available yet")
}

func runBackup(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	return errors.New("backup: not available yet")
}
