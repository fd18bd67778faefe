package main

import (
	"bytes"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spikeloop/spikeloop/firmware/protocol"
)

// lockedBuffer is a bytes.Buffer safe to write from the command's
// goroutine while the test reads it.
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

// TestAPUServe: `apu serve` answers HELLO on its socket with the
// firmware version it was given and the injected reset at frame 2, and
// prints its counts when --duration ends it.
func TestAPUServe(t *testing.T) {
	path := filepath.Join(t.TempDir(), "apu.sock")
	var out, errs lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run([]string{"apu", "serve", "--listen", "unix:" + path, "--firmware", "9.8.7",
			"--boot-count", "41", "--reset-at-frame", "2", "--duration", "5s"}, &out, &errs)
	}()
	var c net.Conn
	for i := 0; ; i++ {
		var err error
		if c, err = net.Dial("unix", path); err == nil {
			break
		}
		if i == 200 {
			t.Fatalf("no socket after 10 s: %v; stdout %q, stderr %q", err, out.String(), errs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	defer c.Close()
	send := func(seq uint16) {
		req, _ := protocol.Append(nil, seq, &protocol.Hello{})
		if _, err := c.Write(req); err != nil {
			t.Fatal(err)
		}
	}
	// The server is a goroutine that a loaded machine may deschedule for
	// a while: the read deadline only guards against a hang.
	var r protocol.Reader
	buf := make([]byte, 256)
	next := func() (protocol.HelloOK, uint16) {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		for {
			if f, err := r.Next(); err == nil {
				var h protocol.HelloOK
				if err := h.Unmarshal(f); err != nil {
					t.Fatal(err)
				}
				return h, f.Seq()
			}
			n, err := c.Read(buf)
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			r.Write(buf[:n])
		}
	}
	send(1)
	h, seq := next()
	if seq != 1 || h.Firmware != 9<<16|8<<8|7 || h.BootCount != 41 {
		t.Fatalf("HELLO_OK %+v (seq %d)", h, seq)
	}
	// Frame 2 resets the chip and gets no answer: the next response is
	// frame 3's (no waiting for one that may be late).
	send(2)
	send(3)
	if h, seq = next(); seq != 3 || h.BootCount != 42 {
		t.Fatalf("after the reset: %+v (seq %d); want frame 3's answer, boot count 42 (frame 2 answered: the chip did not reset)", h, seq)
	}
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errs.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("apu serve did not stop after --duration")
	}
	s := out.String()
	for _, w := range []string{"listening on unix:" + path, "firmware 9.8.7", "3 requests, 2 responses", "1 resets"} {
		if !strings.Contains(s, w) {
			t.Errorf("output lacks %q:\n%s", w, s)
		}
	}
}

func TestAPUServeUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"apu"}, `subcommand: must be "apu serve", got nothing`},
		{[]string{"apu", "serve"}, "--listen: needed"},
		{[]string{"apu", "serve", "--listen", "tcp:0.0.0.0:7410"}, "the host must be a loopback address"},
		{[]string{"apu", "serve", "--listen", "udp:x"}, `the network must be unix or tcp, got "udp:x"`},
		{[]string{"apu", "serve", "--listen", "unix:/tmp/x", "--flip-requests", "2"}, "--flip-requests: must be a probability in 0..1, got 2"},
		{[]string{"apu", "serve", "--listen", "unix:/tmp/x", "--firmware", "1.2"}, `--firmware: must be X.Y.Z, e.g. 1.0.0, got "1.2"`},
	} {
		code, _, errs := runCmd(t, c.args...)
		if code != 2 || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want 2 and %q", c.args, code, errs, c.want)
		}
	}
	code, out, _ := runCmd(t, "apu", "serve", "--help")
	if code != 0 || !strings.Contains(out, "usage: spikeloop apu serve --listen") || !strings.Contains(out, "--flip-responses P") {
		t.Errorf("help: exit %d\n%s", code, out)
	}
}
