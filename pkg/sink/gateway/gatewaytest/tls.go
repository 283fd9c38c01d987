package gatewaytest

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// TLSOptions shape the certificate of a TLS test gateway.
type TLSOptions struct {
	// Hosts are the IP addresses and DNS names the certificate is valid
	// for; default 127.0.0.1. Leave 127.0.0.1 out to test a name mismatch.
	Hosts []string
	// Expired makes the certificate expired for a day already.
	Expired bool
}

// NewTLSServer starts an HTTPS test gateway on 127.0.0.1 whose certificate
// is signed by a private CA made for it (see CAPEM and WriteCAFile).
func NewTLSServer(o Options, t TLSOptions) (*Server, error) {
	caPEM, cert, err := makeCerts(t)
	if err != nil {
		return nil, err
	}
	s, err := newServer(o)
	if err != nil {
		return nil, err
	}
	s.caPEM = caPEM
	s.ts.TLS = &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.ts.StartTLS()
	s.URL = s.ts.URL
	return s, nil
}

// CAPEM is the PEM of the private CA of a TLS server (nil for plain HTTP).
func (s *Server) CAPEM() []byte { return s.caPEM }

// WriteCAFile writes the CA PEM to dir/ca.pem and returns its path.
func (s *Server) WriteCAFile(dir string) (string, error) {
	p := filepath.Join(dir, "ca.pem")
	return p, os.WriteFile(p, s.caPEM, 0o644)
}

// Certificates makes a private CA (returned as PEM) and a server certificate
// it signed as o says, for other test servers (an OTLP collector) that need
// the same certificate faults.
func Certificates(o TLSOptions) (caPEM []byte, cert tls.Certificate, err error) { return makeCerts(o) }

func makeCerts(o TLSOptions) ([]byte, tls.Certificate, error) {
	hosts := o.Hosts
	if len(hosts) == 0 {
		hosts = []string{"127.0.0.1"}
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("generating the CA key: %w", err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "gatewaytest CA"},
		NotBefore:             now.Add(-48 * time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("creating the CA: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, tls.Certificate{}, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("generating the server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: hosts[0]},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(12 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	if o.Expired {
		tmpl.NotBefore, tmpl.NotAfter = now.Add(-47*time.Hour), now.Add(-24*time.Hour)
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return nil, tls.Certificate{}, fmt.Errorf("creating the server certificate: %w", err)
	}
	caPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})
	return caPEM, tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, nil
}
