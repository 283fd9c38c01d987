// Command fakeinstaller is an openshift-install that misbehaves on demand,
// for the fault tests of package e2e (e2e/faults_*_test.go), which build it.
//
// It takes the installer's command line (only --dir matters) and follows the
// plan in $IMFAULT_PLAN, a JSON array of steps run in order:
//
//	{"op":"header","version":"4.16.3"}   the log's "OpenShift Installer" line
//	{"op":"line","level":"info","msg":M} one log line in the file format
//	{"op":"raw","b64":B}                 raw bytes appended to the log
//	{"op":"fill","bytes":N}              N bytes of short debug lines
//	{"op":"hole","bytes":N}              the log grows by N bytes of NULs (sparse), then a newline
//	{"op":"longline","bytes":N}          one debug line of N bytes, written 1 MiB at a time
//	{"op":"sleep","ms":N}
//	{"op":"rmlog"} / {"op":"newlog"}     delete the log (writing on to the open file) / open a new one
//	{"op":"truncate"}                    truncate the log to 0 and write on
//	{"op":"rmdir"} / {"op":"chmoddir"}   remove --dir / make it mode 000
//	{"op":"appender","lines":N,"version":V}  another process appends N lines (its own header V) at the same time
//	{"op":"catch"}                       from now on SIGINT and SIGTERM are caught and noted, not obeyed
//	{"op":"kill","signal":9}             die by a signal
//	{"op":"exit","code":N}               exit with N (the default at the end: 0)
//	{"op":"replay","speed":"1000"}       be the replay installer (internal/replay) for these arguments
//
// The log (<dir>/.openshift_install.log) is opened on its first write, so a
// plan without log steps never creates one. In $IMFAULT_STAMP (a directory)
// it writes "started" when it starts, "signals" (one name a line) for every
// signal caught, and "exit" ("<code> <unix nanoseconds>") just before it
// exits or kills itself: the tests measure the wrapper's added wall time from
// that moment. It never prints or writes a secret.
package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/install-metrics/install-metrics/internal/replay"
)

type step struct {
	Op      string `json:"op"`
	Version string `json:"version,omitempty"`
	Level   string `json:"level,omitempty"`
	Msg     string `json:"msg,omitempty"`
	B64     string `json:"b64,omitempty"`
	Bytes   int64  `json:"bytes,omitempty"`
	MS      int    `json:"ms,omitempty"`
	Lines   int    `json:"lines,omitempty"`
	Signal  int    `json:"signal,omitempty"`
	Code    int    `json:"code,omitempty"`
	Speed   string `json:"speed,omitempty"`
}

type fake struct {
	dir   string
	stamp string
	log   *os.File
	mu    sync.Mutex // signals file
	kids  []*exec.Cmd
}

func main() {
	if os.Getenv("IMFAULT_ROLE") == "appender" {
		os.Exit(appender())
	}
	f := &fake{dir: dirArg(os.Args[1:]), stamp: os.Getenv("IMFAULT_STAMP")}
	f.note("started", strconv.Itoa(os.Getpid()))
	var plan []step
	if err := json.Unmarshal([]byte(os.Getenv("IMFAULT_PLAN")), &plan); err != nil {
		fmt.Fprintf(os.Stderr, "fakeinstaller: bad IMFAULT_PLAN: %v\n", err)
		f.exit(100)
	}
	for _, s := range plan {
		if err := f.do(s); err != nil {
			fmt.Fprintf(os.Stderr, "fakeinstaller: %s: %v\n", s.Op, err)
			f.exit(101)
		}
	}
	f.exit(0)
}

// dirArg is --dir as the installer reads it.
func dirArg(args []string) string {
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--dir="); ok {
			return v
		}
		if a == "--dir" && i+1 < len(args) {
			return args[i+1]
		}
	}
	return "."
}

func (f *fake) logPath() string { return filepath.Join(f.dir, ".openshift_install.log") }

func (f *fake) open() error {
	if f.log != nil {
		return nil
	}
	if err := os.MkdirAll(f.dir, 0o755); err != nil {
		return err
	}
	l, err := os.OpenFile(f.logPath(), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	f.log = l
	return err
}

func (f *fake) write(b []byte) error {
	if err := f.open(); err != nil {
		return err
	}
	_, err := f.log.Write(b)
	return err
}

func fileLine(level, msg string) []byte {
	return fmt.Appendf(nil, "time=%q level=%s msg=%s\n", time.Now().UTC().Format(time.RFC3339), level, strconv.Quote(msg))
}

func (f *fake) do(s step) error {
	switch s.Op {
	case "header":
		return f.write(fileLine("debug", "OpenShift Installer "+s.Version))
	case "line":
		return f.write(fileLine(s.Level, s.Msg))
	case "raw":
		b, err := base64.StdEncoding.DecodeString(s.B64)
		if err != nil {
			return err
		}
		return f.write(b)
	case "fill":
		return f.fill(s.Bytes)
	case "hole":
		if err := f.open(); err != nil {
			return err
		}
		st, err := f.log.Stat()
		if err != nil {
			return err
		}
		if err := f.log.Truncate(st.Size() + s.Bytes); err != nil {
			return err
		}
		return f.write([]byte("\n"))
	case "longline":
		return f.longLine(s.Bytes)
	case "sleep":
		time.Sleep(time.Duration(s.MS) * time.Millisecond)
	case "rmlog":
		return os.Remove(f.logPath())
	case "newlog":
		if f.log != nil {
			f.log.Close()
			f.log = nil
		}
		return f.open()
	case "truncate":
		if err := f.open(); err != nil {
			return err
		}
		return f.log.Truncate(0)
	case "rmdir":
		return os.RemoveAll(f.dir)
	case "chmoddir":
		return os.Chmod(f.dir, 0)
	case "appender":
		return f.appender(s)
	case "catch":
		c := make(chan os.Signal, 8)
		signal.Notify(c, syscall.SIGINT, syscall.SIGTERM)
		go func() {
			for sig := range c {
				f.note("signals", sig.(syscall.Signal).String())
			}
		}()
	case "kill":
		f.wait()
		f.note("exit", fmt.Sprintf("%d %d", 128+s.Signal, time.Now().UnixNano()))
		_ = syscall.Kill(os.Getpid(), syscall.Signal(s.Signal))
		time.Sleep(10 * time.Second)
		return fmt.Errorf("still alive after signal %d", s.Signal)
	case "exit":
		f.exit(s.Code)
	case "replay":
		f.replay(s)
	default:
		return fmt.Errorf("unknown op")
	}
	return nil
}

// fill writes n bytes of debug lines, as terraform and Cluster API write
// them, 1 MiB per write.
func (f *fake) fill(n int64) error {
	var line bytes.Buffer
	line.Write(fileLine("debug", `module.vpc.aws_subnet.private_subnet[0]: Still creating... [10s elapsed] {"attributes":{"cidr_block":"10.0.0.0/19"}}`))
	chunk := bytes.Repeat(line.Bytes(), (1<<20)/line.Len())
	for n > 0 {
		b := chunk
		if int64(len(b)) > n {
			b = b[:n]
			b[len(b)-1] = '\n'
		}
		if err := f.write(b); err != nil {
			return err
		}
		n -= int64(len(b))
	}
	return nil
}

// longLine writes one debug line of n bytes without holding it in memory.
func (f *fake) longLine(n int64) error {
	head := fmt.Appendf(nil, "time=%q level=debug msg=\"", time.Now().UTC().Format(time.RFC3339))
	if err := f.write(head); err != nil {
		return err
	}
	chunk := bytes.Repeat([]byte("x"), 1<<20)
	for rest := n - int64(len(head)) - 2; rest > 0; {
		b := chunk
		if int64(len(b)) > rest {
			b = b[:rest]
		}
		if err := f.write(b); err != nil {
			return err
		}
		rest -= int64(len(b))
	}
	return f.write([]byte("\"\n"))
}

// appender starts another process that appends to the same log.
func (f *fake) appender(s step) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), "IMFAULT_ROLE=appender", "IMFAULT_LOG="+f.logPath(),
		"IMFAULT_LINES="+strconv.Itoa(s.Lines), "IMFAULT_VERSION="+s.Version)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	f.kids = append(f.kids, cmd)
	return nil
}

// appender is the other process: a second run writing into the same log.
func appender() int {
	l, err := os.OpenFile(os.Getenv("IMFAULT_LOG"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeinstaller appender:", err)
		return 1
	}
	defer l.Close()
	n, _ := strconv.Atoi(os.Getenv("IMFAULT_LINES"))
	_, _ = l.Write(fileLine("debug", "OpenShift Installer "+os.Getenv("IMFAULT_VERSION")))
	for i := range n {
		msg := "Creating infrastructure resources..."
		switch i % 3 {
		case 1:
			msg = fmt.Sprintf("Waiting up to 20m0s (until %d) for the Kubernetes API at https://api.other.example.com:6443...", i)
		case 2:
			msg = "failed to fetch Cluster: failed to generate asset \"Cluster\": other run"
		}
		level := "info"
		if i%3 == 2 {
			level = "error"
		}
		if _, err := l.Write(fileLine(level, msg)); err != nil {
			return 1
		}
		if i%64 == 0 {
			time.Sleep(time.Millisecond)
		}
	}
	return 0
}

func (f *fake) wait() {
	for _, k := range f.kids {
		_ = k.Wait()
	}
	f.kids = nil
}

// replay plays a recorded run like openshift-install-replay, then stamps.
func (f *fake) replay(s step) {
	sigc := make(chan os.Signal, 8)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT)
	getenv := os.LookupEnv
	if s.Speed != "" {
		getenv = func(k string) (string, bool) {
			if k == replay.EnvSpeed {
				return s.Speed, true
			}
			return os.LookupEnv(k)
		}
	}
	r := &replay.Runner{Argv0: "openshift-install", Args: os.Args[1:], Getenv: getenv,
		Stdout: os.Stdout, Stderr: os.Stderr, Now: time.Now, Signals: sigc}
	out := r.Run()
	if out.Signal != nil {
		sig := out.Signal.(syscall.Signal)
		f.note("exit", fmt.Sprintf("%d %d", 128+int(sig), time.Now().UnixNano()))
		signal.Reset(sig)
		_ = syscall.Kill(os.Getpid(), sig)
		time.Sleep(10 * time.Second)
	}
	f.exit(out.Code)
}

// note writes (or, for signals, appends to) a file in the stamp directory.
func (f *fake) note(name, text string) {
	if f.stamp == "" {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	if name == "signals" {
		flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
	}
	w, err := os.OpenFile(filepath.Join(f.stamp, name), flags, 0o666)
	if err != nil {
		return
	}
	_, _ = w.WriteString(text + "\n")
	_ = w.Close()
}

func (f *fake) exit(code int) {
	f.wait()
	if f.log != nil {
		_ = f.log.Close()
	}
	f.note("exit", fmt.Sprintf("%d %d", code, time.Now().UnixNano()))
	os.Exit(code)
}
