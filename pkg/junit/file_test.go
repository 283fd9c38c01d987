package junit_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	gojunit "github.com/joshdk/go-junit"

	"github.com/install-metrics/install-metrics/pkg/junit"
	"github.com/install-metrics/install-metrics/pkg/record"
)

// TestRetryAfterInfrastructureFailure: the second run with the same path
// keeps the first run's failure, so CI sees a flake (golden
// retry-after-infrastructure.xml).
func TestRetryAfterInfrastructureFailure(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junit_install.xml")
	first := cluster(record.ProvisioningFailed, 4, ipi(2, false), "failed to create cluster: failed to provision infrastructure")
	if res, err := junit.WriteFile(path, report(first)); err != nil || res.Retried || res.MovedAside != "" {
		t.Fatalf("first write: %+v, %v", res, err)
	}
	second := cluster(record.Success, 0, ipi(5, true), "Install complete!")
	res, err := junit.WriteFile(path, report(second))
	if err != nil || !res.Retried {
		t.Fatalf("second write: %+v, %v", res, err)
	}
	b := readFile(t, path)
	checkGolden(t, "retry-after-infrastructure.xml", b)

	suites, err := gojunit.Ingest(b)
	if err != nil || len(suites) != 1 {
		t.Fatalf("go-junit: %d suites, %v", len(suites), err)
	}
	status := map[string][]gojunit.Status{}
	for _, c := range suites[0].Tests {
		status[c.Name] = append(status[c.Name], c.Status)
	}
	if got := status[junit.CaseInfra]; len(got) != 2 || got[0] != gojunit.StatusPassed || got[1] != gojunit.StatusFailed {
		t.Errorf("infrastructure cases %v, want passed then failed (a flake)", got)
	}
	if got := status[junit.CaseOverall]; len(got) != 1 || got[0] != gojunit.StatusPassed {
		t.Errorf("overall cases %v, want one, passed (the job's install succeeded)", got)
	}
	if n := len(suites[0].Tests); n != 8 {
		t.Errorf("%d cases, want 7 and the earlier failure", n)
	}

	// A third run keeps both earlier failures' record: one infrastructure
	// failure, not two copies of it.
	if _, err := junit.WriteFile(path, report(second)); err != nil {
		t.Fatal(err)
	}
	suites, _ = gojunit.Ingest(readFile(t, path))
	if n := len(suites[0].Tests); n != 8 {
		t.Errorf("after a third run: %d cases, want 8", n)
	}
}

// TestMergeKeepsOtherSuites: a file that other tools or OpenShift CI's own
// step wrote (a lone <testsuite>) is read and kept.
func TestMergeKeepsOtherSuites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junit.xml")
	ci := `<testsuite name="cluster install" tests="4" failures="2">
  <testcase name="install should succeed: other"/>
  <testcase name="install should succeed: configuration"/>
  <testcase name="install should succeed: infrastructure">
    <failure message="">openshift cluster install failed with infrastructure setup</failure>
  </testcase>
  <testcase name="install should succeed: overall">
    <failure message="">openshift cluster install failed overall</failure>
  </testcase>
</testsuite>`
	writeFile(t, path, ci)
	if _, err := junit.WriteFile(path, report(cluster(record.Success, 0, ipi(5, true), ""))); err != nil {
		t.Fatal(err)
	}
	suites, err := gojunit.Ingest(readFile(t, path))
	if err != nil || len(suites) != 1 || len(suites[0].Tests) != 8 {
		t.Fatalf("go-junit: %+v, %v", suites, err)
	}

	writeFile(t, path, `<testsuites><testsuite name="e2e"><testcase name="a" time="1"/></testsuite></testsuites>`)
	if _, err := junit.WriteFile(path, report(cluster(record.Success, 0, ipi(5, true), ""))); err != nil {
		t.Fatal(err)
	}
	suites, _ = gojunit.Ingest(readFile(t, path))
	if len(suites) != 2 || suites[0].Name != "e2e" || suites[1].Name != junit.ClusterSuite {
		t.Errorf("suites %+v, want e2e kept and cluster install added", suites)
	}
}

// TestCorruptExisting: an earlier file that is not JUnit is moved aside,
// not lost, and a new report is written.
func TestCorruptExisting(t *testing.T) {
	for name, content := range map[string]string{
		"garbage":   "\x00\x01 not xml at all <<<",
		"truncated": `<testsuites><testsuite name="cluster install"><testcase name="x"`,
		"html":      `<html><body>502 Bad Gateway</body></html>`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "junit.xml")
			writeFile(t, path, content)
			res, err := junit.WriteFile(path, report(cluster(record.Success, 0, ipi(5, true), "")))
			if err != nil {
				t.Fatal(err)
			}
			if res.MovedAside != path+junit.CorruptSuffix {
				t.Errorf("moved aside to %q, want %q", res.MovedAside, path+junit.CorruptSuffix)
			}
			if got := string(readFile(t, path+junit.CorruptSuffix)); got != content {
				t.Errorf("the earlier file was not kept as it was: %q", got)
			}
			if suites, err := gojunit.Ingest(readFile(t, path)); err != nil || len(suites) != 1 || len(suites[0].Tests) != 7 {
				t.Errorf("new report: %+v, %v", suites, err)
			}
		})
	}
}

// TestEmptyExisting: an empty file (touch) is no earlier report.
func TestEmptyExisting(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junit.xml")
	writeFile(t, path, "")
	res, err := junit.WriteFile(path, report(cluster(record.Success, 0, ipi(5, true), "")))
	if err != nil || res.MovedAside != "" || res.Retried {
		t.Fatalf("%+v, %v", res, err)
	}
}

// TestWriteFaults: a directory, an unwritable directory, a missing
// directory and a full disk are each one error, the earlier file kept as it
// was and no temporary file left behind.
func TestWriteFaults(t *testing.T) {
	suite := report(cluster(record.Success, 0, ipi(5, true), ""))
	t.Run("a directory", func(t *testing.T) {
		dir := t.TempDir()
		_, err := junit.WriteFile(dir, suite)
		if err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("error %v, want one saying it is a directory", err)
		}
		checkOnly(t, dir)
	})
	t.Run("missing directory", func(t *testing.T) {
		dir := t.TempDir()
		_, err := junit.WriteFile(filepath.Join(dir, "nope", "junit.xml"), suite)
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("error %v, want not exist", err)
		}
		checkOnly(t, dir)
	})
	t.Run("unwritable directory", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root writes into a read-only directory; the full-disk case covers a failed write")
		}
		dir := t.TempDir()
		if err := os.Chmod(dir, 0o555); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(dir, 0o755) })
		if _, err := junit.WriteFile(filepath.Join(dir, "junit.xml"), suite); err == nil {
			t.Fatal("no error")
		}
		checkOnly(t, dir)
	})
	t.Run("full disk", func(t *testing.T) {
		dir := fullTmpfs(t)
		path := filepath.Join(dir, "junit.xml")
		// The earlier report fitted before the disk filled up.
		_, err := junit.WriteFile(path, suite)
		if err == nil {
			t.Fatal("no error on a full disk")
		}
		if !errors.Is(err, syscall.ENOSPC) {
			t.Errorf("error %v, want ENOSPC", err)
		}
		checkOnly(t, dir, "filler")
	})
}

// checkOnly fails unless dir holds exactly the names given.
func checkOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Errorf("%s holds %v, want %v (no partial or temporary file)", dir, got, names)
	}
}

// fullTmpfs mounts a 64 KiB tmpfs (as root, Linux), fills it and returns its
// path; without the right to mount the test is skipped with the reason.
func fullTmpfs(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("tmpfs mounts are Linux's")
	}
	dir := t.TempDir()
	if err := mountTmpfs(dir); err != nil {
		t.Skipf("cannot mount a tmpfs to fill (%v): the full disk is then untested here", err)
	}
	t.Cleanup(func() {
		if err := unmount(dir); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	f, err := os.Create(filepath.Join(dir, "filler"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for range 1024 {
		if _, err := f.Write(chunk); err != nil {
			if errors.Is(err, syscall.ENOSPC) {
				return dir
			}
			t.Fatal(err)
		}
	}
	t.Fatal("a 64 KiB tmpfs took 4 MiB")
	return ""
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Runs that end together and write one report (parallel jobs of a
// pipeline) each add their suite: none is lost to another's rename.
func TestWriteFileConcurrent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "junit_install.xml")
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			s := junit.Suite{Name: fmt.Sprintf("openshift-install create manifests %d", i), Cases: []junit.Case{{Name: "create manifests", Time: "1.000"}}}
			if _, err := junit.WriteFile(path, s); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := junit.Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Suites) != n {
		t.Errorf("%d suites in the report, want all %d", len(d.Suites), n)
	}
}
