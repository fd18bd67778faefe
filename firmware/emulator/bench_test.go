package emulator

import (
	"encoding/binary"
	"fmt"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"github.com/spikeloop/spikeloop/firmware/protocol"
)

// tickOnWire is one tick as a host does it on the bus with kept
// buffers: the RUN written, the 8-byte header read, the whole frame read.
type tickOnWire struct {
	b        *bus
	req, hdr []byte
	zeros    []byte
	rsp      []byte
	seq      uint16
}

func newTick(tb testing.TB, hz physic.Frequency, cfg Config) *tickOnWire {
	b := newBus(tb, cfg, hz)
	b.load(testImage())
	return &tickOnWire{b: b, req: make([]byte, 0, protocol.MaxFrame), hdr: make([]byte, 8),
		zeros: make([]byte, protocol.MaxFrame), rsp: make([]byte, protocol.MaxFrame)}
}

func (k *tickOnWire) run(tb testing.TB, r *protocol.Run) {
	k.seq++
	k.req, _ = protocol.Append(k.req[:0], k.seq, r)
	if err := k.b.conn.Tx(k.req, nil); err != nil {
		tb.Fatal(err)
	}
	if !k.b.emu.Ready() {
		tb.Fatal("no data-ready")
	}
	if err := k.b.conn.Tx(k.zeros[:8], k.hdr); err != nil {
		tb.Fatal(err)
	}
	n := protocol.Overhead + int(binary.LittleEndian.Uint16(k.hdr[6:]))
	if err := k.b.conn.Tx(k.zeros[:n], k.rsp[:n]); err != nil {
		tb.Fatal(err)
	}
	if f, _, err := protocol.Decode(k.rsp[:n]); err != nil || f.Type() != protocol.TypeRunOK {
		tb.Fatalf("response %v %v", f.Type(), err)
	}
}

// TestTickAllocs: a tick across the emulated wire (host side with kept
// buffers, port, emulator, firmware) allocates nothing.
func TestTickAllocs(t *testing.T) {
	k := newTick(t, 10*physic.MegaHertz, Config{})
	r := runFeed(0)
	for i := 0; i < 10; i++ {
		k.run(t, r)
	}
	if a := testing.AllocsPerRun(100, func() { k.run(t, r) }); a != 0 {
		t.Errorf("%v allocations per tick", a)
	}
}

// BenchmarkTickOnWire: the wall time of a tick clocked bit by bit
// through hal/sim's port, and its emulated time (link at the SPI clock
// plus 2 µs per step and 10 µs per frame of compute) as emu-us/tick.
func BenchmarkTickOnWire(b *testing.B) {
	for _, hz := range []physic.Frequency{physic.MegaHertz, 10 * physic.MegaHertz, 20 * physic.MegaHertz} {
		b.Run(fmt.Sprint(hz), func(b *testing.B) {
			k := newTick(b, hz, Config{StepCost: 2 * time.Microsecond, FrameCost: 10 * time.Microsecond})
			r := runFeed(0)
			t0 := k.b.emu.Elapsed()
			b.ReportAllocs()
			n := 0
			for b.Loop() {
				k.run(b, r)
				n++
			}
			b.ReportMetric(float64(k.b.emu.Elapsed()-t0)/float64(time.Microsecond)/float64(n), "emu-us/tick")
		})
	}
}

// BenchmarkChunkOnWire: a full IMAGE_CHUNK (4092 bytes of image) written
// and its ACK read at 20 MHz (an IMAGE_BEGIN every 1000 chunks).
func BenchmarkChunkOnWire(b *testing.B) {
	k := newTick(b, 20*physic.MegaHertz, Config{FrameCost: 10 * time.Microsecond})
	data := make([]byte, protocol.MaxPayload-4)
	begin := &protocol.ImageBegin{Size: 1000 * uint32(len(data))}
	chunk := &protocol.ImageChunk{Data: data}
	ack := func(p protocol.Payload) {
		k.seq++
		k.req, _ = protocol.Append(k.req[:0], k.seq, p)
		_ = k.b.conn.Tx(k.req, nil)
		_ = k.b.conn.Tx(k.zeros[:8], k.hdr)
		n := protocol.Overhead + int(binary.LittleEndian.Uint16(k.hdr[6:]))
		_ = k.b.conn.Tx(k.zeros[:n], k.rsp[:n])
		if f, _, err := protocol.Decode(k.rsp[:n]); err != nil || f.Type() != protocol.TypeAck {
			b.Fatalf("response %v %v", f.Type(), err)
		}
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	var emu time.Duration
	n := 0
	for b.Loop() {
		if n%1000 == 0 {
			ack(begin)
			chunk.Offset = 0
		}
		t0 := k.b.emu.Elapsed()
		ack(chunk)
		emu += k.b.emu.Elapsed() - t0
		chunk.Offset += uint32(len(data))
		n++
	}
	b.ReportMetric(float64(emu)/float64(time.Microsecond)/float64(n), "emu-us/chunk")
}
