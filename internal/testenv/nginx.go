package testenv

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// NginxBinary returns the path of nginx on $PATH or in /usr/sbin (Debian's
// package; `make test` installs it). When it is missing the test is skipped,
// or fails under CI=true; with -short it is always skipped.
func NginxBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("testenv: -short: not starting the real nginx")
	}
	p, err := exec.LookPath("nginx")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nginx"); serr == nil {
			p, err = "/usr/sbin/nginx", nil
		}
	}
	if err == nil {
		return p
	}
	if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
		t.Fatalf("testenv: nginx is missing: run make test (it installs Debian's nginx package)")
	}
	t.Skip("testenv: nginx is missing (apt-get install nginx, or make test)")
	return ""
}

// StartNginx runs nginx in the foreground with prefix dir and the main
// configuration conf (which must keep its pid file and error log in dir),
// waits until https://127.0.0.1:port answers (any status, TLS checked
// against caPEM), and stops it in t.Cleanup. The error log is shown when
// the test fails.
func StartNginx(t testing.TB, dir, conf string, port int, caPEM []byte) {
	t.Helper()
	bin := NginxBinary(t)
	logPath := filepath.Join(dir, "stdout.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatalf("testenv: %v", err)
	}
	if out, err := exec.Command(bin, "-e", filepath.Join(dir, "error.log"), "-t", "-p", dir, "-c", conf, "-g", "daemon off;").CombinedOutput(); err != nil {
		_ = logf.Close()
		t.Fatalf("testenv: nginx -t: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "-e", filepath.Join(dir, "error.log"), "-p", dir, "-c", conf, "-g", "daemon off;")
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = dir
	setPdeathsig(cmd)
	if err := cmd.Start(); err != nil {
		_ = logf.Close()
		t.Fatalf("testenv: starting nginx: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		// SIGQUIT: graceful stop; SIGKILL when it takes over 10 s.
		_ = cmd.Process.Signal(quitSignal)
		var waitErr error
		select {
		case waitErr = <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			waitErr = <-exited
		}
		_ = logf.Close()
		if t.Failed() {
			t.Logf("testenv: nginx ended (%v); its error log:\n%s\n%s", waitErr, tail(filepath.Join(dir, "error.log"), 30), tail(logPath, 10))
		}
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1", MinVersion: tls.VersionTLS12}}}
	defer client.CloseIdleConnections()
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			t.Fatalf("testenv: nginx exited before it was ready (%v):\n%s", err, tail(filepath.Join(dir, "error.log"), 30))
		default:
		}
		resp, err := client.Get(fmt.Sprintf("https://%s/-/ready", addr))
		if err == nil {
			_ = resp.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("testenv: nginx not ready after %v:\n%s", readyTimeout, tail(filepath.Join(dir, "error.log"), 30))
}
