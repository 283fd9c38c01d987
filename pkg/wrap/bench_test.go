//go:build linux || darwin

package wrap_test

import (
	"context"
	"os"
	"testing"

	"github.com/install-metrics/install-metrics/pkg/wrap"
)

// BenchmarkRun is one wrap.Run of a child that exits at once: signal set-up,
// terminal check, start, wait. Compare with BenchmarkStartWait.
func BenchmarkRun(b *testing.B) {
	path, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	c := wrap.Command{Path: path, Args: []string{"0"}, Env: helperEnviron("exit")}
	for b.Loop() {
		if _, err := wrap.Run(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStartWait is the same child started and waited for with the os
// package alone: the floor for BenchmarkRun.
func BenchmarkStartWait(b *testing.B) {
	path, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	attr := &os.ProcAttr{Env: helperEnviron("exit"), Files: []*os.File{os.Stdin, os.Stdout, os.Stderr}}
	for b.Loop() {
		p, err := os.StartProcess(path, []string{path, "0"}, attr)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}
