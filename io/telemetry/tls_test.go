package telemetry

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
	"strings"
	"testing"
	"time"

	"github.com/spikeloop/spikeloop/io/telemetry/mqtttest"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

// testPKI writes a CA and a server certificate for 127.0.0.1 signed by
// it, and returns the file paths.
func testPKI(t *testing.T, dir, name string) (ca, cert, key string) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name + " CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	srvKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	srvTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "broker"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, DNSNames: []string{"broker.test"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	srvDER, err := x509.CreateCertificate(rand.Reader, srvTmpl, caCert, &srvKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(srvKey)
	if err != nil {
		t.Fatal(err)
	}
	write := func(file, typ string, der []byte) string {
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	return write(name+"-ca.pem", "CERTIFICATE", caDER), write(name+"-server.pem", "CERTIFICATE", srvDER), write(name+"-server.key", "EC PRIVATE KEY", keyDER)
}

func TestTLSConfigErrors(t *testing.T) {
	dir := t.TempDir()
	ca, cert, key := testPKI(t, dir, "a")
	junk := filepath.Join(dir, "junk.pem")
	os.WriteFile(junk, []byte("not pem"), 0o600)
	tests := []struct {
		f    TLSFiles
		want string
	}{
		{TLSFiles{CAFile: filepath.Join(dir, "missing.pem")}, "tls: ca_file: open"},
		{TLSFiles{CAFile: junk}, "no PEM certificate in it"},
		{TLSFiles{CAFile: ca, CertFile: cert}, "give both (client certificate) or neither"},
		{TLSFiles{CAFile: ca, CertFile: cert, KeyFile: junk}, "tls: cert_file"},
	}
	for _, tt := range tests {
		if _, err := TLSConfig(tt.f); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("TLSConfig(%+v): %v, want %q", tt.f, err, tt.want)
		}
	}
	c, err := TLSConfig(TLSFiles{CAFile: ca, CertFile: cert, KeyFile: key, ServerName: "broker.test"})
	if err != nil || c.RootCAs == nil || len(c.Certificates) != 1 || c.ServerName != "broker.test" || c.InsecureSkipVerify {
		t.Errorf("TLSConfig: %+v, %v", c, err)
	}
}

func TestReadSecretFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "pw")
	os.WriteFile(p, []byte("s3cret\r\nignored\n"), 0o600)
	if got, err := ReadSecretFile(p); err != nil || got != "s3cret" {
		t.Errorf("ReadSecretFile: %q, %v", got, err)
	}
	os.WriteFile(p, []byte("\n"), 0o600)
	if _, err := ReadSecretFile(p); err == nil || !strings.Contains(err.Error(), "empty first line") {
		t.Errorf("empty file: %v", err)
	}
	if _, err := ReadSecretFile(filepath.Join(dir, "none")); err == nil || !strings.HasPrefix(err.Error(), "password_file: ") {
		t.Errorf("missing file: %v", err)
	}
}

// TestMosquittoTLS: the publisher reaches mosquitto over TLS with the CA
// from a file and server name verification on; a client trusting another
// CA, or expecting another name, is refused.
func TestMosquittoTLS(t *testing.T) {
	m := mqtttest.New(t, mqtttest.FreeAddr(t))
	dir := filepath.Dir(m.Conf)
	ca, cert, key := testPKI(t, dir, "good")
	otherCA, _, _ := testPKI(t, dir, "other")
	conf, err := os.ReadFile(m.Conf)
	if err != nil {
		t.Fatal(err)
	}
	conf = fmt.Appendf(conf, "cafile %s\ncertfile %s\nkeyfile %s\n", ca, cert, key)
	if err := os.WriteFile(m.Conf, conf, 0o600); err != nil {
		t.Fatal(err)
	}
	m.Start(t)
	url := "ssl://" + m.Addr

	good, err := TLSConfig(TLSFiles{CAFile: ca})
	if err != nil {
		t.Fatal(err)
	}
	tlsConnect := func(id string, c *tls.Config) (mqtt.Client, error) {
		opts := mqtt.NewClientOptions().AddBroker(url).SetClientID(id).SetTLSConfig(c).
			SetAutoReconnect(false).SetConnectTimeout(3 * time.Second)
		cl := mqtt.NewClient(opts)
		tok := cl.Connect()
		tok.WaitTimeout(5 * time.Second)
		return cl, tok.Error()
	}
	wrongCA, _ := TLSConfig(TLSFiles{CAFile: otherCA})
	if _, err := tlsConnect("wrong-ca", wrongCA); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client trusting another CA: %v, want a certificate error", err)
	}
	wrongName, _ := TLSConfig(TLSFiles{CAFile: ca, ServerName: "elsewhere.test"})
	if _, err := tlsConnect("wrong-name", wrongName); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("a client expecting another name: %v, want a certificate error", err)
	}

	sub, err := tlsConnect("watcher", good)
	if err != nil {
		t.Fatalf("subscriber over TLS: %v", err)
	}
	defer sub.Disconnect(50)
	got := make(chan []byte, 100)
	if tok := sub.Subscribe(testPrefix+"telemetry", 1, func(_ mqtt.Client, msg mqtt.Message) { got <- msg.Payload() }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	q := newQueue(t, 16)
	testPublisher(t, PublisherConfig{Broker: url, TLS: good}, q)
	pushSamples(q, 3, 10*time.Millisecond)
	for want := range uint64(3) {
		select {
		case b := <-got:
			var tm Telemetry
			if _, err := tm.UnmarshalMsg(b); err != nil || tm.Seq != want {
				t.Fatalf("telemetry %d over TLS: %+v (%v)", want, tm, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no telemetry %d over TLS", want)
		}
	}
}
