//go:build unix

package stages

import (
	"context"
	"errors"
	"path/filepath"
	"syscall"
	"testing"
)

// TestFollowFIFO: a FIFO where the log should be must not block Follow.
func TestFollowFIFO(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Follow(ctx, fifo, 0, NewTracker(fixedNow), testPoll); !errors.Is(err, ErrNotRegular) {
		t.Errorf("Follow of a FIFO: %v, want ErrNotRegular", err)
	}
}
