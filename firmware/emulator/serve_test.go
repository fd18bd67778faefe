package emulator

import (
	"net"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/spikeloop/spikeloop/firmware/engine"
	"github.com/spikeloop/spikeloop/firmware/image"
	"github.com/spikeloop/spikeloop/firmware/protocol"
)

// streamHost speaks frames over a socket.
type streamHost struct {
	t   *testing.T
	c   net.Conn
	r   protocol.Reader
	buf []byte
	seq uint16
}

func (h *streamHost) next() protocol.Frame {
	h.t.Helper()
	_ = h.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		f, err := h.r.Next()
		if err == nil {
			return f
		}
		if err != protocol.ErrNeedMore {
			h.t.Fatalf("response: %v", err)
		}
		n, err := h.c.Read(h.buf)
		if err != nil {
			h.t.Fatalf("read: %v", err)
		}
		h.r.Write(h.buf[:n])
	}
}

func (h *streamHost) raw(b []byte) protocol.Frame {
	h.t.Helper()
	if _, err := h.c.Write(b); err != nil {
		h.t.Fatal(err)
	}
	return h.next()
}

func (h *streamHost) send(p protocol.Payload) protocol.Frame {
	h.t.Helper()
	h.seq++
	b, err := protocol.Append(nil, h.seq, p)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.raw(b)
}

// TestServe: the same frames over a unix socket: garbage before a frame
// is skipped, a corrupted frame gets a NAK with sequence 0, an image
// loads and runs as in-process, a second connection finds the chip as
// the first left it, and closing the listener ends Serve.
func TestServe(t *testing.T) {
	emu, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "apu.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- emu.Serve(l) }()

	dial := func() *streamHost {
		c, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		return &streamHost{t: t, c: c, buf: make([]byte, 4096)}
	}
	h := dial()
	hello, _ := protocol.Append([]byte{0, 0xff, 0xa5, 0x00}, 1, &protocol.Hello{})
	if f := h.raw(hello); f.Type() != protocol.TypeHelloOK || f.Seq() != 1 {
		t.Fatalf("HELLO after garbage: %s seq %d", f.Type(), f.Seq())
	}
	bad, _ := protocol.Append(nil, 2, &protocol.Status{})
	bad[len(bad)-1] ^= 1
	if f := h.raw(bad); f.Type() != protocol.TypeNak || f.Seq() != 0 {
		t.Fatalf("corrupted frame: %s seq %d", f.Type(), f.Seq())
	}
	h.seq = 2
	enc := image.Encode(testImage())
	sum := image.Hash(enc)
	mustAck(t, h.send(&protocol.ImageBegin{Size: uint32(len(enc)), SHA256: sum}))
	mustAck(t, h.send(&protocol.ImageChunk{Data: enc}))
	mustAck(t, h.send(&protocol.ImageCommit{SHA256: sum}))
	var got []engine.Spike
	for k := 0; k < 50; k++ {
		got = append(got, spikesOf(mustRunOK(t, h.send(runFeed(k))).Spikes)...)
	}
	h.c.Close()
	h2 := dial()
	h2.seq = 1000
	for k := 50; k < 100; k++ {
		got = append(got, spikesOf(mustRunOK(t, h2.send(runFeed(k))).Spikes)...)
	}
	if want := engineSpikes(t, 100); !slices.Equal(got, want) {
		t.Fatalf("spikes over the socket differ: %d, want %d", len(got), len(want))
	}
	h2.c.Close()
	l.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after the listener closed")
	}
}

// TestServeFaults: on a stream a dropped data-ready is a lost response
// and a self-reset answers nothing.
func TestServeFaults(t *testing.T) {
	emu, _ := New(Config{Faults: Faults{DropReady: 1}})
	req, _ := protocol.Append(nil, 1, &protocol.Hello{})
	if out, ok := emu.Exchange(req, nil); ok || len(out) != 0 {
		t.Fatalf("dropped data-ready: response %x", out)
	}
	emu, _ = New(Config{Faults: Faults{ResetAtFrame: 1}})
	if out, ok := emu.Exchange(req, nil); ok || len(out) != 0 {
		t.Fatalf("self-reset: response %x", out)
	}
	if out, ok := emu.Exchange(req, nil); !ok {
		t.Fatal("no response after the reset")
	} else {
		f, _, err := protocol.Decode(out)
		var h protocol.HelloOK
		if err != nil || h.Unmarshal(f) != nil || h.BootCount != 1 {
			t.Fatalf("HELLO after the reset: %v %+v", err, h)
		}
	}
}
