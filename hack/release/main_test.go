package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"testing"
	"time"
)

// TestPackDeterministic: the same entries in any order make the same
// bytes; the entries are sorted and owned by 0:0 with
// the given mtime.
func TestPackDeterministic(t *testing.T) {
	mtime := time.Unix(1767225600, 0)
	a, err := pack("d", mtime, []entry{{"b", 0o644, []byte("B")}, {"a", 0o755, []byte("A")}})
	if err != nil {
		t.Fatal(err)
	}
	b, err := pack("d", mtime, []entry{{"a", 0o755, []byte("A")}, {"b", 0o644, []byte("B")}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two packs of the same entries differ")
	}
	gz, err := gzip.NewReader(bytes.NewReader(a))
	if err != nil {
		t.Fatal(err)
	}
	if !gz.ModTime.IsZero() || gz.Name != "" {
		t.Errorf("gzip header has time %v, name %q", gz.ModTime, gz.Name)
	}
	tr := tar.NewReader(gz)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if h.Uid != 0 || h.Gid != 0 || !h.ModTime.Equal(mtime) {
			t.Errorf("%s: uid %d gid %d mtime %v", h.Name, h.Uid, h.Gid, h.ModTime)
		}
	}
	if got := names; len(got) != 3 || got[0] != "d/" || got[1] != "d/a" || got[2] != "d/b" {
		t.Errorf("entries %v, want d/ d/a d/b", got)
	}
}
