package journal

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"
)

// A Begin whose fsyncs are not due yet (BeginSyncDelay) still writes the
// record (it survives the process), and so do Complete and Sending after
// it; Settle of the last sinks removes record and lock file without a
// write.
func TestUnsyncedWritesAndSettle(t *testing.T) {
	j, _ := open(t, Config{BeginSyncDelay: time.Hour})
	e := begin(t, j)
	st := e.State()
	var urls []string
	for _, k := range st.Sinks {
		urls = append(urls, k.URL)
	}
	must(t, e.Complete(endInv()))
	must(t, e.Sending(urls...))
	must(t, e.Close()) // as a kill leaves it
	taken, err := j.TakeOver(context.Background())
	must(t, err)
	if len(taken) != 1 || taken[0].State().Provisional || taken[0].State().Status(urls[0]) != Sending {
		t.Fatalf("taken %d records, want the completed one with its sinks sending", len(taken))
	}
	e = taken[0]
	must(t, e.Settle(urls[:1]...))
	if e.State().Status(urls[0]) != Done {
		t.Errorf("the first sink is not done")
	}
	must(t, e.Settle(urls...))
	if _, err := os.Lstat(j.recordPath(e.ID())); !os.IsNotExist(err) {
		t.Errorf("the record is still there: %v", err)
	}
	if _, err := os.Lstat(j.lockPath(e.ID())); !os.IsNotExist(err) {
		t.Errorf("the lock file is still there: %v", err)
	}
	if err := e.Settle(urls...); !errors.Is(err, ErrClosed) {
		t.Errorf("Settle after the end: %v, want ErrClosed", err)
	}
}
