// Command fakegateway runs pkg/sink/gateway/gatewaytest outside a test, for
// hack/bench/push.sh: a healthy aggregation gateway or a blackhole that
// accepts connections and never answers, on 127.0.0.1. It writes its base
// URL to -url-file and runs until killed.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/install-metrics/install-metrics/pkg/sink/gateway/gatewaytest"
)

func main() {
	mode := flag.String("mode", "healthy", "healthy or blackhole")
	urlFile := flag.String("url-file", "", "write the base URL here")
	flag.Parse()
	var url string
	var stop func()
	switch *mode {
	case "healthy":
		s := gatewaytest.NewServer(gatewaytest.Options{})
		url, stop = s.URL, s.Close
	case "blackhole":
		b, err := gatewaytest.NewBlackhole()
		if err != nil {
			fmt.Fprintln(os.Stderr, "fakegateway:", err)
			os.Exit(1)
		}
		url, stop = b.URL, b.Close
	default:
		fmt.Fprintf(os.Stderr, "fakegateway: unknown -mode %q: use healthy or blackhole\n", *mode)
		os.Exit(2)
	}
	if *urlFile != "" {
		if err := os.WriteFile(*urlFile, []byte(url+"\n"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "fakegateway:", err)
			os.Exit(1)
		}
	} else {
		fmt.Println(url)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	stop()
}
