package telemetry

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
)

// TLSFiles names the files of a TLS connection to an external broker.
type TLSFiles struct {
	CAFile   string // PEM CA certificates that sign the broker's; empty: the system's
	CertFile string // PEM client certificate, with KeyFile; both or neither
	KeyFile  string
	// ServerName is checked against the broker's certificate; empty: the
	// host of the broker URL. Verification is never turned off.
	ServerName string
}

// TLSConfig loads f into a tls.Config for PublisherConfig.TLS.
func TLSConfig(f TLSFiles) (*tls.Config, error) {
	c := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.ServerName}
	if f.CAFile != "" {
		pem, err := os.ReadFile(f.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls: ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: ca_file %q: no PEM certificate in it", f.CAFile)
		}
		c.RootCAs = pool
	}
	if (f.CertFile == "") != (f.KeyFile == "") {
		return nil, errors.New("tls: cert_file and key_file: give both (client certificate) or neither")
	}
	if f.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(f.CertFile, f.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls: cert_file %q, key_file %q: %w", f.CertFile, f.KeyFile, err)
		}
		c.Certificates = []tls.Certificate{cert}
	}
	return c, nil
}

// ReadSecretFile reads a password from a file (the config names the
// file, so the secret stays out of the config): the first line, without
// its line end.
func ReadSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("password_file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimRight(line, "\r")
	if line == "" {
		return "", fmt.Errorf("password_file %q: empty first line", path)
	}
	return line, nil
}
