package junit

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/install-metrics/install-metrics/internal/fsutil"
)

// MaxExisting bounds how much of an earlier report is read; a larger file
// is treated as not ours (moved aside).
const MaxExisting = 8 << 20

// maxSystemOut bounds a suite's system-out across retries.
const maxSystemOut = 64 << 10

// LockWait bounds the wait for other runs writing a report in the same
// directory.
const LockWait = 5 * time.Second

// CorruptSuffix is added to the name of an earlier file that was not JUnit.
const CorruptSuffix = ".corrupt"

// Result says what WriteFile did besides writing.
type Result struct {
	// MovedAside is the path an unreadable earlier file was moved to, "" if none.
	MovedAside string
	// Retried is true when an earlier report's failures were kept.
	Retried bool
}

// Parse reads a JUnit document: <testsuites>, or a lone <testsuite> as
// OpenShift CI writes it.
func Parse(b []byte) (Suites, error) {
	var d Suites
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		tok, err := dec.Token()
		if err != nil {
			return d, fmt.Errorf("no <testsuites> or <testsuite> element: %w", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch se.Name.Local {
		case "testsuites":
			err = dec.DecodeElement(&d, &se)
		case "testsuite":
			var s Suite
			err = dec.DecodeElement(&s, &se)
			d.Suites = []Suite{s}
		default:
			return d, fmt.Errorf("the root element is <%s>, not <testsuites> or <testsuite>", se.Name.Local)
		}
		if err != nil {
			return d, err
		}
		return d, nil
	}
}

// Merge puts next into an earlier document (see the package documentation,
// "Retries"): next's cases first, then the earlier failures of the same
// suite (but not a cluster overall), other suites unchanged.
func Merge(prev Suites, next Suite) (Suites, bool) {
	out := make([]Suite, 0, len(prev.Suites)+1)
	merged := false
	for _, s := range prev.Suites {
		if s.Name != next.Name || merged {
			out = append(out, s)
			continue
		}
		merged = true
		m := next
		m.Cases = append([]Case(nil), next.Cases...)
		for _, c := range s.Cases {
			if c.Failure == nil && c.Error == nil {
				continue
			}
			if s.Name == ClusterSuite && c.Name == CaseOverall {
				continue
			}
			m.Cases = append(m.Cases, c)
		}
		if s.Out() != "" {
			out := next.Out() + "\nearlier attempt:\n" + s.Out()
			if len(out) > maxSystemOut {
				out = strings.ToValidUTF8(out[:maxSystemOut], "") + "\n(earlier attempts cut)\n"
			}
			m.SystemOut = &Output{Text: out}
		}
		m.Time = seconds(0)
		var f, g float64
		if _, err := fmt.Sscanf(next.Time, "%g", &f); err == nil {
			if _, err := fmt.Sscanf(s.Time, "%g", &g); err == nil && g > 0 {
				f += g
			}
			m.Time = fmt.Sprintf("%.3f", f)
		}
		out = append(out, m)
	}
	if !merged {
		out = append(out, next)
	}
	return Document(out...), merged
}

// WriteFile writes the report of next to path, merged with the report
// already there (a retry). It never leaves a partial file: on error the
// earlier file is as it was.
func WriteFile(path string, next Suite) (Result, error) {
	var res Result
	// Runs that end together (parallel jobs of one pipeline writing one
	// report) take turns: each reads, merges and renames under a lock on
	// the report's directory, so no run's cases are lost.
	dir := filepath.Dir(path)
	ctx, cancel := context.WithTimeout(context.Background(), LockWait)
	defer cancel()
	unlock, err := fsutil.LockDir(ctx, dir)
	switch {
	case errors.Is(err, fsutil.ErrLocked):
		return res, fmt.Errorf("%s stayed locked by other install-metrics runs for %v; this run's report is not written", dir, LockWait)
	case err != nil:
		return res, fmt.Errorf("cannot lock %s: %w", dir, fsutil.Errno(err))
	}
	defer unlock()
	prev, err := readExisting(path)
	var ce *corruptError
	switch {
	case errors.As(err, &ce):
		aside := path + CorruptSuffix
		if rerr := os.Rename(path, aside); rerr != nil {
			return res, fmt.Errorf("%s is not a JUnit report (%s) and cannot be moved aside: %w", path, ce.err.Error(), fsutil.Errno(rerr))
		}
		res.MovedAside = aside
	case err != nil:
		return res, err
	}
	doc, merged := Merge(prev, next)
	res.Retried = merged
	b, err := doc.Marshal()
	if err != nil {
		return res, err
	}
	return res, atomicWrite(path, b)
}

type corruptError struct{ err error }

func (e *corruptError) Error() string { return e.err.Error() }

// readExisting returns the earlier report at path: empty when there is
// none, a *corruptError when the file is not one.
func readExisting(path string) (Suites, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Suites{}, nil
	}
	if err != nil {
		return Suites{}, fmt.Errorf("cannot read %s: %w", path, fsutil.Errno(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Suites{}, fmt.Errorf("cannot read %s: %w", path, fsutil.Errno(err))
	}
	if fi.IsDir() {
		return Suites{}, fmt.Errorf("%s is a directory: give the path of a file, e.g. %s", path, filepath.Join(path, "junit_install.xml"))
	}
	if !fi.Mode().IsRegular() {
		return Suites{}, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxExisting+1))
	if err != nil {
		return Suites{}, fmt.Errorf("cannot read %s: %w", path, fsutil.Errno(err))
	}
	if len(b) > MaxExisting {
		return Suites{}, &corruptError{fmt.Errorf("larger than %d MiB", MaxExisting>>20)}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return Suites{}, nil // an empty file, e.g. made by `touch`
	}
	d, err := Parse(b)
	if err != nil {
		return Suites{}, &corruptError{err}
	}
	return d, nil
}

// atomicWrite writes b to a temporary file in path's directory, syncs it
// renames it over path and syncs the directory. On error the temporary
// file is removed.
func atomicWrite(path string, b []byte) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot create a file in %s: %w", dir, fsutil.Errno(err))
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(b); err != nil {
		return fmt.Errorf("writing %s: %w", path, fsutil.Errno(err))
	}
	if err = tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, fsutil.Errno(err))
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, fsutil.Errno(err))
	}
	if err = tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, fsutil.Errno(err))
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("cannot replace %s: %w", path, fsutil.Errno(err))
	}
	// The rename itself survives a crash once the directory is synced.
	_ = fsutil.SyncDir(dir)
	return nil
}
