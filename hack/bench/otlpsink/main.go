// Command otlpsink is a healthy local OTLP/HTTP collector for
// hack/bench/compare.sh, as small as one can be. It answers POST /v1/traces
// (and /v1/metrics, /v1/logs) with 200 and an empty export response, reads
// and discards the body, and counts the requests it accepted; other paths get
// 404, other methods 405. It listens on 127.0.0.1 only.
//
//	otlpsink -url-file F -count-file C [-limit 15m]
//
// It writes its endpoint as a sink URL (otlp+http://127.0.0.1:PORT) to F,
// rewrites C with the count after each accepted request (once the answer is
// on its way, so the sender never waits for that file), and exits on SIGINT
// or SIGTERM, or after -limit whatever happens.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// maxBody bounds a request body; larger ones get 413.
const maxBody = 64 << 20

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "otlpsink:", err)
		os.Exit(1)
	}
}

func run() error {
	urlFile := flag.String("url-file", "", "write the sink URL (otlp+http://127.0.0.1:PORT) here")
	countFile := flag.String("count-file", "", "rewrite this file with the number of accepted requests after each one")
	limit := flag.Duration("limit", 15*time.Minute, "exit after this long whatever happens")
	flag.Parse()
	if *urlFile == "" || *countFile == "" {
		return errors.New("-url-file and -count-file are required")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	rc := &receiver{countFile: *countFile}
	if err := rc.writeCount(0); err != nil {
		return err
	}
	srv := &http.Server{Handler: rc, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *limit)
	defer cancel()
	go func() {
		<-ctx.Done()
		_ = srv.Close()
	}()
	if err := writeAtomic(*urlFile, "otlp+http://"+ln.Addr().String()+"\n"); err != nil {
		return err
	}
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// receiver is the OTLP/HTTP handler: it accepts every export and counts it.
type receiver struct {
	countFile string // rewritten after each accepted request; "" for none

	mu    sync.Mutex
	count int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/v1/traces", "/v1/metrics", "/v1/logs":
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "only POST", http.StatusMethodNotAllowed)
		return
	}
	if _, err := io.Copy(io.Discard, http.MaxBytesReader(w, r.Body, maxBody)); err != nil {
		http.Error(w, "body too large or unreadable", http.StatusRequestEntityTooLarge)
		return
	}
	// An empty Export*ServiceResponse: zero bytes in protobuf, {} in JSON.
	body := ""
	ctype := "application/x-protobuf"
	if r.Header.Get("Content-Type") == "application/json" {
		body, ctype = "{}", "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, body)
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.count++
	if err := rc.writeCount(rc.count); err != nil {
		fmt.Fprintln(os.Stderr, "otlpsink:", err)
	}
}

// Count is the number of requests accepted so far.
func (rc *receiver) Count() int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.count
}

func (rc *receiver) writeCount(n int) error {
	if rc.countFile == "" {
		return nil
	}
	return writeAtomic(rc.countFile, strconv.Itoa(n)+"\n")
}

// writeAtomic replaces path with content, so a reader sees the old or the
// new content, never a partial one.
func writeAtomic(path, content string) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".otlpsink-*")
	if err != nil {
		return err
	}
	_, err = tmp.WriteString(content)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		_ = os.Remove(tmp.Name())
	}
	return err
}
