// Command release builds the release archives of install-metrics: one
// static binary for each of linux and darwin on amd64 and arm64, packed as
// install-metrics-VERSION-OS-ARCH.tar.gz with README.md, and SHA256SUMS.
//
// The archives are reproducible: the same source, version, Go toolchain and
// -mtime give the same bytes. The binaries are built with CGO_ENABLED=0,
// -trimpath, -buildvcs=false (the version comes from -X, so a dirty or
// clean tree, or a worktree, make the same binary) and an empty build id;
// the tar entries are sorted, owned by 0:0 with fixed modes and the fixed
// mtime, in PAX-free USTAR form; gzip has no name and no time stamp.
//
// Plain go build and archive/tar rather than GoReleaser: four targets and
// one file list do not need a release tool that would itself be a large
// build on the CI machine, and these few lines show every setting that
// reproducibility depends on.
//
//	go run ./hack/release -version v1.2.3 -mtime 1767225600 -out out/release
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

const (
	pkg        = "./cmd/install-metrics"
	versionVar = "github.com/install-metrics/install-metrics/internal/buildinfo.version"
)

var defaultTargets = "linux/amd64,linux/arm64,darwin/amd64,darwin/arm64"

func main() {
	version := flag.String("version", "", "version to stamp (required), e.g. v1.2.3")
	out := flag.String("out", "out/release", "output directory (emptied first)")
	mtime := flag.Int64("mtime", 0, "modification time of every archive entry, in Unix seconds (SOURCE_DATE_EPOCH)")
	targets := flag.String("targets", defaultTargets, "comma-separated GOOS/GOARCH pairs")
	flag.Parse()
	if *version == "" {
		fail(fmt.Errorf("-version is required: e.g. -version $(git describe --tags --always)"))
	}
	if err := run(*version, *out, time.Unix(*mtime, 0).UTC(), strings.Split(*targets, ",")); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "release: %v\n", err)
	os.Exit(1)
}

func run(version, out string, mtime time.Time, targets []string) error {
	if err := os.RemoveAll(out); err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		return fmt.Errorf("run it from the repository root: %w", err)
	}
	var sums []string
	for _, t := range targets {
		goos, goarch, ok := strings.Cut(strings.TrimSpace(t), "/")
		if !ok {
			return fmt.Errorf("target %q is not GOOS/GOARCH", t)
		}
		name := fmt.Sprintf("install-metrics-%s-%s-%s", version, goos, goarch)
		bin, err := build(version, goos, goarch, filepath.Join(out, "build", name))
		if err != nil {
			return err
		}
		archive := name + ".tar.gz"
		b, err := pack(name, mtime, []entry{
			{name: "install-metrics", mode: 0o755, data: bin},
			{name: "README.md", mode: 0o644, data: readme},
		})
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, archive), b, 0o644); err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		sums = append(sums, fmt.Sprintf("%s  %s\n", hex.EncodeToString(sum[:]), archive))
		fmt.Printf("%s  %d bytes (binary %d bytes)  sha256 %s\n", archive, len(b), len(bin), hex.EncodeToString(sum[:]))
	}
	if err := os.RemoveAll(filepath.Join(out, "build")); err != nil {
		return err
	}
	slices.SortFunc(sums, func(a, b string) int { return strings.Compare(a[66:], b[66:]) })
	return os.WriteFile(filepath.Join(out, "SHA256SUMS"), []byte(strings.Join(sums, "")), 0o644)
}

// build compiles the static binary for goos/goarch and returns its bytes.
func build(version, goos, goarch, dir string) ([]byte, error) {
	bin := filepath.Join(dir, "install-metrics")
	cmd := exec.Command("go", "build", "-trimpath", "-buildvcs=false",
		"-ldflags", "-s -w -buildid= -X "+versionVar+"="+version, "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+goos, "GOARCH="+goarch, "GOFLAGS=-mod=readonly")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go build for %s/%s: %w", goos, goarch, err)
	}
	return os.ReadFile(bin)
}

type entry struct {
	name string
	mode int64
	data []byte
}

// pack writes a deterministic .tar.gz of entries under the directory dir.
func pack(dir string, mtime time.Time, entries []entry) ([]byte, error) {
	slices.SortFunc(entries, func(a, b entry) int { return strings.Compare(a.name, b.name) })
	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	// gzip.Writer writes no name, no comment and a zero time unless told.
	tw := tar.NewWriter(gz)
	hdr := func(name string, mode int64, typ byte, size int64) *tar.Header {
		return &tar.Header{Name: name, Mode: mode, Typeflag: typ, Size: size, ModTime: mtime,
			Uid: 0, Gid: 0, Uname: "root", Gname: "root", Format: tar.FormatUSTAR}
	}
	if err := tw.WriteHeader(hdr(dir+"/", 0o755, tar.TypeDir, 0)); err != nil {
		return nil, err
	}
	for _, e := range entries {
		if err := tw.WriteHeader(hdr(dir+"/"+e.name, e.mode, tar.TypeReg, int64(len(e.data)))); err != nil {
			return nil, err
		}
		if _, err := io.Copy(tw, bytes.NewReader(e.data)); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
