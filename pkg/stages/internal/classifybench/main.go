package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/install-metrics/install-metrics/pkg/stages"
	"github.com/install-metrics/install-metrics/pkg/stages/internal/benchlog"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "classifybench: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: classifybench gen -size BYTES -o FILE | classify FILE")
	}
	switch args[0] {
	case "gen":
		fs := flag.NewFlagSet("gen", flag.ContinueOnError)
		size := fs.Int64("size", 1<<30, "bytes to write")
		out := fs.String("o", "", "output file")
		seed := fs.Uint64("seed", 1, "random seed")
		longEvery := fs.Int("long-every", benchlog.LongEvery, "one long debug line every this many lines on average (0: none)")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		f, err := os.Create(*out)
		if err != nil {
			return err
		}
		if err := benchlog.Write(f, *size, *longEvery, *seed); err != nil {
			f.Close()
			return fmt.Errorf("writing %s: %w", *out, err)
		}
		return f.Close()
	case "classify":
		enc := json.NewEncoder(os.Stdout)
		for _, name := range args[1:] {
			f, err := os.Open(name)
			if err != nil {
				return err
			}
			start := time.Now()
			s, err := stages.Classify(f, time.Now, stages.Exit{})
			f.Close()
			if err != nil {
				return fmt.Errorf("reading %s: %w", name, err)
			}
			if err := enc.Encode(map[string]any{"file": name, "result": s.Result, "lines": s.Lines,
				"stages": len(s.Stages), "seconds": time.Since(start).Seconds()}); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("unknown mode %q", args[0])
}
