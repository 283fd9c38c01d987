package gatewaytest

import (
	"fmt"
	"io"
	"net"
	"sync"
)

// Blackhole is a TCP listener on 127.0.0.1 that accepts connections, reads
// whatever arrives and never answers: a gateway hung behind a load balancer.
type Blackhole struct {
	// Addr is host:port; URL is http://Addr.
	Addr, URL string

	ln     net.Listener
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
	n      int
	closed bool
}

// NewBlackhole starts a Blackhole.
func NewBlackhole() (*Blackhole, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listening: %w", err)
	}
	b := &Blackhole{Addr: ln.Addr().String(), URL: "http://" + ln.Addr().String(), ln: ln}
	b.wg.Add(1)
	go b.accept()
	return b, nil
}

func (b *Blackhole) accept() {
	defer b.wg.Done()
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		b.mu.Lock()
		if b.closed {
			b.mu.Unlock()
			_ = c.Close()
			return
		}
		b.conns = append(b.conns, c)
		b.n++
		b.mu.Unlock()
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			_, _ = io.Copy(io.Discard, c)
		}()
	}
}

// Accepted is how many connections were accepted.
func (b *Blackhole) Accepted() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.n
}

// Close stops listening, closes every connection and waits for its
// goroutines.
func (b *Blackhole) Close() {
	_ = b.ln.Close()
	b.mu.Lock()
	b.closed = true
	for _, c := range b.conns {
		_ = c.Close()
	}
	b.mu.Unlock()
	b.wg.Wait()
}

// RefusedAddr returns a 127.0.0.1 address where nothing listens (a port that
// was just free): connecting is refused.
func RefusedAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("listening: %w", err)
	}
	addr := ln.Addr().String()
	return addr, ln.Close()
}
