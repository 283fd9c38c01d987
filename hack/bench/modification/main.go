// Command modification-bench runs pkg/modification's snapshot for
// hack/bench/modification.sh, and writes the directories it times.
//
//	modification-bench -gen-large DIR    synthetic directory: 2,000 manifests, three 1 MiB ignition configs
//	modification-bench -rebuild RUN DIR  a real run's asset directory (testdata/installer-real/RUN) as the run left it
//	modification-bench [-repeat N] DIR   Take and Modified on DIR, N times in one process
//
// The last form prints one line per Take: the time it took inside the
// process, how many labels Modified returned and how many warnings there were.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/install-metrics/install-metrics/hack/bench/modification/benchdata"
	"github.com/install-metrics/install-metrics/pkg/modification"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "modification-bench:", err)
		os.Exit(1)
	}
}

func run() error {
	genLarge := flag.Bool("gen-large", false, "write the synthetic directory DIR")
	rebuild := flag.String("rebuild", "", "rebuild the real run `DIR` (testdata/installer-real/<run>) into the directory argument")
	repeat := flag.Int("repeat", 1, "takes in one process")
	flag.Parse()
	if flag.NArg() != 1 {
		return fmt.Errorf("want one directory argument, got %d", flag.NArg())
	}
	dir := flag.Arg(0)
	switch {
	case *genLarge:
		return benchdata.Large(dir, 2000, 1<<20)
	case *rebuild != "":
		state, err := os.ReadFile(filepath.Join(*rebuild, "openshift_install_state.json"))
		if err != nil {
			return err
		}
		text, err := os.ReadFile(filepath.Join(*rebuild, "listing-after.txt"))
		if err != nil {
			return err
		}
		listing, err := benchdata.ParseListing(text)
		if err != nil {
			return err
		}
		return benchdata.Rebuild(dir, state, listing, nil)
	}
	for range *repeat {
		start := time.Now()
		snap := modification.Take(dir, modification.Options{})
		labels := snap.Modified()
		took := time.Since(start)
		fmt.Printf("take_ms=%.3f labels=%d warnings=%d\n", float64(took.Microseconds())/1000, len(labels), len(snap.Warnings()))
	}
	return nil
}
