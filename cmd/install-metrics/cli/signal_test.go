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
	w.note(syscall.SIGINT)  // during the run: forwarded
	w.note(syscall.SIGTERM) // after the exit, before after()
	late := w.after(1)
	select {
	case s := <-late:
		if s != syscall.SIGTERM {
			t.Errorf("got %v, want SIGTERM", s)
		}
	default:
		t.Fatal("the signal after the installer's exit was lost")
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

// The CI failure of TestFaultsCtrlCTwice: the second Ctrl-C reached the
// installer (it exited 1 because of it) but our watcher goroutine ran only
// after the installer's end was taken, so by its timestamp it looked like a
// signal of the send phase and the run was not sent. Counted, it is the
// installer's, however late the watcher sees it.
func TestSignalWatchForwardedSeenLate(t *testing.T) {
	w := watchSignals(make(chan os.Signal))
	defer w.stop()
	w.note(syscall.SIGINT)
	late := w.after(2)     // wrap forwarded two
	w.note(syscall.SIGINT) // the second, seen only now
	select {
	case s := <-late:
		t.Fatalf("got %v: a signal the installer got stops the send phase", s)
	default:
	}
	w.note(syscall.SIGTERM) // a third: after the installer's end
	select {
	case s := <-late:
		if s != syscall.SIGTERM {
			t.Errorf("got %v, want SIGTERM", s)
		}
	default:
		t.Error("the signal after the installer's end was lost")
	}
}
