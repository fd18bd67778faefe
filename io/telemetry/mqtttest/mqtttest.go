// Package mqtttest runs Debian's mosquitto and mosquitto_sub for tests:
// interop with a broker and clients nobody here wrote. Tests that need
// them skip, saying why, where they are missing (.ci/run installs them).
package mqtttest

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// LookTool finds a mosquitto program, also in /usr/sbin (not always on
// a user's PATH), or skips the test.
func LookTool(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin"} {
		p := filepath.Join(dir, name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p
		}
	}
	t.Skipf("%s is not installed (apt-get install mosquitto mosquitto-clients); skipping the interop test", name)
	return ""
}

// FreeAddr returns a loopback host:port that was free a moment ago.
func FreeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Mosquitto is one mosquitto process on a loopback port.
type Mosquitto struct {
	Addr string // host:port
	Conf string // the config file; a test may append to it before Start
	bin  string
	cmd  *exec.Cmd
	log  lockedBuffer
}

// lockedBuffer is mosquitto's output, written by os/exec's copying
// goroutine while a test may read it (Log).
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Log returns what mosquitto logged so far (connections, disconnections
// and why, with the default log types), for a failure message.
func (m *Mosquitto) Log() string { return m.log.String() }

// New writes a config for addr (anonymous allowed, persistence in a
// temp dir so that a restart keeps sessions and queued messages); Stop
// runs at the test's end.
func New(t testing.TB, addr string) *Mosquitto {
	t.Helper()
	m := &Mosquitto{bin: LookTool(t, "mosquitto"), Addr: addr}
	dir := t.TempDir()
	_, port, _ := net.SplitHostPort(addr)
	conf := fmt.Sprintf("listener %s 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location %s/\nlog_dest stderr\n", port, dir)
	if os.Geteuid() == 0 {
		conf += "user root\n" // keep access to the temp dir (mosquitto drops root otherwise)
	}
	m.Conf = filepath.Join(dir, "mosquitto.conf")
	if err := os.WriteFile(m.Conf, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Stop)
	return m
}

// Start runs mosquitto and waits until it accepts connections.
func (m *Mosquitto) Start(t testing.TB) {
	t.Helper()
	m.cmd = exec.Command(m.bin, "-c", m.Conf)
	m.cmd.Stdout, m.cmd.Stderr = &m.log, &m.log
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("mosquitto: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", m.Addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			m.Stop()
			t.Fatalf("mosquitto does not listen on %s: %v\n%s", m.Addr, err, m.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop ends mosquitto with SIGTERM (it saves its database) and waits.
func (m *Mosquitto) Stop() {
	if m.cmd == nil || m.cmd.Process == nil {
		return
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { m.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		m.cmd.Process.Kill()
		<-done
	}
	m.cmd = nil
}

// SubHex runs mosquitto_sub for count messages on topic (QoS 1,
// payloads printed as hex, at most 10 s) while feed, if not nil, keeps
// publishing; it returns the payloads.
func SubHex(t testing.TB, addr, topic string, count int, feed func(stop <-chan struct{})) [][]byte {
	t.Helper()
	bin := LookTool(t, "mosquitto_sub")
	host, port, _ := net.SplitHostPort(addr)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "-h", host, "-p", port, "-t", topic, "-q", "1",
		"-C", fmt.Sprint(count), "-F", "%x", "-W", "10")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	if feed != nil {
		go feed(stop)
	}
	err := cmd.Wait()
	close(stop)
	if err != nil {
		t.Fatalf("mosquitto_sub -t %q: %v\n%s", topic, err, errb.String())
	}
	var msgs [][]byte
	for _, line := range strings.Fields(out.String()) {
		b, err := hex.DecodeString(line)
		if err != nil {
			t.Fatalf("mosquitto_sub printed %q: %v", line, err)
		}
		msgs = append(msgs, b)
	}
	if len(msgs) != count {
		t.Fatalf("mosquitto_sub gave %d messages, want %d:\n%s", len(msgs), count, out.String())
	}
	return msgs
}

// CheckInOrder checks that seqs (duplicates allowed: QoS 1 may resend)
// hold 0..n-1, each first seen in order.
func CheckInOrder(t testing.TB, seqs []uint64, n int) {
	t.Helper()
	seen := map[uint64]bool{}
	var firsts []uint64
	for _, s := range seqs {
		if !seen[s] {
			seen[s] = true
			firsts = append(firsts, s)
		}
	}
	if len(firsts) != n {
		t.Fatalf("%d distinct seqs arrived, want %d: %v", len(firsts), n, seqs)
	}
	for i, s := range firsts {
		if s != uint64(i) {
			t.Fatalf("seq %d arrived in position %d: %v", s, i, seqs)
		}
	}
	t.Logf("%d messages, %d distinct, in order", len(seqs), n)
}
