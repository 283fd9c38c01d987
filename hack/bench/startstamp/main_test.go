package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

func TestStampWritesNanoseconds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "start")
	if err := os.WriteFile(path, []byte("stale value, longer than a stamp"), 0o600); err != nil {
		t.Fatal(err)
	}
	at := time.Unix(1700000000, 123456789)
	if code := stamp(path, at); code != 0 {
		t.Fatalf("stamp returned %d, want 0", code)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := strconv.ParseInt(string(b), 10, 64)
	if err != nil {
		t.Fatalf("the file holds %q, not a decimal number: %v", b, err)
	}
	if want := at.UnixNano(); got != want {
		t.Errorf("stamp wrote %d, want %d", got, want)
	}
}

func TestStampFailsWithoutFile(t *testing.T) {
	if code := stamp("", time.Now()); code != 2 {
		t.Errorf("stamp with no file returned %d, want 2", code)
	}
	if code := stamp(filepath.Join(t.TempDir(), "missing", "start"), time.Now()); code != 2 {
		t.Errorf("stamp into a missing directory returned %d, want 2", code)
	}
}

func TestStartedBeforeMain(t *testing.T) {
	if started.IsZero() || started.After(time.Now()) {
		t.Errorf("started = %v: not taken during package initialisation", started)
	}
}
