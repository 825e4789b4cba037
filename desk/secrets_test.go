package desk

import (
	"bytes"
	"testing"
)

func TestSealer(t *testing.T) {
	s, err := NewSealer(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	sealed := s.Seal("merchant-key-123", "gateway:1")
	if bytes.Contains(sealed, []byte("merchant-key-123")) {
		t.Fatal("sealed value contains the key in clear")
	}
	got, err := s.Open(sealed, "gateway:1")
	if err != nil || got != "merchant-key-123" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := s.Open(sealed, "gateway:2"); err == nil {
		t.Fatal("a key sealed for account 1 opened for account 2")
	}
	other, _ := NewSealer(bytes.Repeat([]byte{8}, 32))
	if _, err := other.Open(sealed, "gateway:1"); err == nil {
		t.Fatal("a key opened under another master key")
	}
	if _, err := NewSealer([]byte("short")); err == nil {
		t.Fatal("a short master key was accepted")
	}
}
