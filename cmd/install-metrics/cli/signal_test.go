package cli

import (
	"os"
	"syscall"
	"testing"
	"time"
)

// A signal that comes after the installer's exit, even before the send
// phase asks (it was drained and lost before the journal), stops the send
// phase; one forwarded to the installer during the run does not.
func TestSignalWatchAfterExit(t *testing.T) {
	c := make(chan os.Signal, 4)
	w := watchSignals(c)
	defer w.stop()
	base := time.Now().Add(-time.Second)
	w.note(syscall.SIGINT, base)                          // during the run
	w.note(syscall.SIGTERM, base.Add(2*time.Millisecond)) // after the exit, before after()
	late := w.after(base.Add(time.Millisecond))
	select {
	case s := <-late:
		if s != syscall.SIGTERM {
			t.Errorf("got %v, want SIGTERM", s)
		}
	default:
		t.Fatal("the signal after the installer's exit was lost")
	}
	w.note(syscall.SIGINT, base) // stamped before the exit: the installer's
	select {
	case s := <-late:
		t.Errorf("got %v, a signal of the run", s)
	default:
	}
	c <- syscall.SIGHUP // through the channel, now
	select {
	case s := <-late:
		if s != syscall.SIGHUP {
			t.Errorf("got %v, want SIGHUP", s)
		}
	case <-time.After(10 * time.Second):
		t.Error("a signal in the send phase was not delivered")
	}
}
