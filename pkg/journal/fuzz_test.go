package journal

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzRecord: whatever bytes a record holds, TakeOver neither panics nor
// blocks; it takes the record only when it is valid (and then its sinks
// and results are within the closed sets), and otherwise moves it aside.
func FuzzRecord(f *testing.F) {
	j0 := Open(filepath.Join(f.TempDir(), "journal"), Config{})
	e, err := j0.Begin(startInv(), testSinks)
	if err != nil {
		f.Fatal(err)
	}
	if err := e.Complete(endInv()); err != nil {
		f.Fatal(err)
	}
	good, err := os.ReadFile(j0.recordPath(e.ID()))
	if err != nil {
		f.Fatal(err)
	}
	_ = e.Close()
	f.Add(good, true)
	f.Add(good[:len(good)/2], false)
	f.Add([]byte(`{"version":1}`), false)
	f.Add([]byte(`{"version":2}`), false)
	f.Add([]byte("null"), true)
	f.Fuzz(func(t *testing.T, data []byte, sameID bool) {
		j, w := open(t, Config{ValidSink: func(s string) bool { return s == sinkFile || s == sinkGateway }})
		must(t, os.MkdirAll(j.dir, 0o700))
		id := "00000000000000000001-0123456789abcdef"
		if sameID {
			id = e.ID()
		}
		must(t, os.WriteFile(j.recordPath(id), data, 0o600))
		es := takeAll(t, j)
		if len(es) > 1 {
			t.Fatalf("%d entries from one record", len(es))
		}
		if len(es) == 1 {
			st := es[0].State()
			if !st.Invocation.Result.Valid() || st.ID != id || len(st.Sinks) == 0 {
				t.Fatalf("took an invalid record: %+v", st)
			}
			for _, k := range st.Sinks {
				if (k.URL != sinkFile && k.URL != sinkGateway) || !k.Status.Valid() {
					t.Fatalf("took a record with sink %+v", k)
				}
			}
			return
		}
		if _, err := os.Lstat(j.recordPath(id)); err == nil && len(w.get()) == 0 {
			t.Fatal("an untaken record stayed without a warning")
		}
	})
}
