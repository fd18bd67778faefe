package emulator

import (
	"encoding/binary"
	"errors"
	"github.com/spikeloop/spikeloop/firmware/image/imagetest"
	"math"
	"testing"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/firmware/engine"
	"github.com/spikeloop/spikeloop/firmware/image"
	"github.com/spikeloop/spikeloop/firmware/protocol"
	"github.com/spikeloop/spikeloop/hal/sim"
)

// The numbers of hand-made images: firmware/image/imagetest.
var (
	q    = imagetest.Q
	coef = imagetest.Coef
	fill = imagetest.Fill
)

const (
	popInput = 0
	popLIF   = 1
)

// testImage: an Input of 2 units (spikes) into 4 LIF neurons that fire
// on their own (I_e above threshold) and faster with input; their
// spikes and y are monitored.
func testImage() *image.Image {
	const dt, tau, r, n = 0.1, 10.0, 0.04, 4
	p33 := math.Exp(-dt / tau)
	syn := image.Synapse{Pre: popInput, Post: popLIF, Shift: 10, Off: []uint32{0, n, 2 * n}}
	for i := 0; i < 2*n; i++ {
		syn.Target = append(syn.Target, uint32(i%n))
		syn.Weight = append(syn.Weight, 200)
		syn.Delay = append(syn.Delay, uint16(1+i%3))
	}
	ie := []int32{q(380), q(400), q(420), q(440)}
	return &image.Image{
		Version: image.Version, DtPicos: 100_000_000, Seed: 3,
		Pops: []image.Pop{
			popInput: {Kind: image.KindInput, Flags: image.FlagBinary, Size: 2},
			popLIF: {Kind: image.KindLIF, Ports: 1, Size: n, RefSteps: 20,
				Coefs:  []image.Coef{image.LIFP33: coef(p33), image.LIFP30: coef(r * (1 - p33))},
				Consts: []int32{image.LIFTh: q(15), image.LIFReset: q(0)},
				Unit:   [][]int32{image.LIFIe: ie, image.LIFY0: fill(n, 0)}},
		},
		Synapses: []image.Synapse{syn},
		Monitors: []image.Monitor{{Pop: popLIF, Spikes: true, States: []uint8{0}, Every: 1}},
	}
}

// bus is an emulated APU on a hal/sim SPI port with its two lines, and
// the host's side of the handshake (firmware/README.md, "Link").
type bus struct {
	t     testing.TB
	emu   *Emulator
	port  *sim.Port
	conn  spi.Conn
	ready *sim.Pin // data-ready, an input of the host
	reset *sim.Pin // reset, an output of the host
	seq   uint16

	req, rsp []byte
	misoW    []byte // what MISO gave during the last write
}

func newBus(t testing.TB, cfg Config, hz physic.Frequency) *bus {
	t.Helper()
	b := &bus{t: t, ready: sim.NewPin("GPIO24", 24), reset: sim.NewPin("GPIO25", 25)}
	cfg.DataReady, cfg.Reset = b.ready, b.reset
	emu, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	b.emu = emu
	if err := b.ready.In(gpio.PullUp, gpio.FallingEdge); err != nil {
		t.Fatal(err)
	}
	if err := b.reset.Out(gpio.High); err != nil {
		t.Fatal(err)
	}
	b.port = sim.NewPort("SPI0.0", emu)
	b.conn, err = b.port.Connect(hz, spi.Mode0, 8)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// write clocks the request frame out in one transaction.
func (b *bus) write(frame []byte) {
	b.t.Helper()
	b.misoW = append(b.misoW[:0], make([]byte, len(frame))...)
	if err := b.conn.Tx(frame, b.misoW); err != nil {
		b.t.Fatal(err)
	}
}

// read clocks n bytes of the response (0x00 on MOSI).
func (b *bus) read(n int) []byte {
	b.t.Helper()
	w := make([]byte, n)
	r := make([]byte, n)
	if err := b.conn.Tx(w, r); err != nil {
		b.t.Fatal(err)
	}
	return r
}

var errNoReady = errors.New("data-ready did not fall")

// readFrame reads the header, then the whole frame.
func (b *bus) readFrame() []byte {
	h := b.read(protocol.HeaderSize)
	n := int(binary.LittleEndian.Uint16(h[6:]))
	if n > protocol.MaxPayload {
		n = protocol.MaxPayload
	}
	return b.read(protocol.Overhead + n)
}

// exchange writes frame, waits for data-ready and reads the response.
func (b *bus) exchange(frame []byte) ([]byte, error) {
	b.write(frame)
	if b.ready.Read() != gpio.Low {
		return nil, errNoReady
	}
	return b.readFrame(), nil
}

// send frames p with seq and exchanges it; the response must decode.
func (b *bus) sendSeq(seq uint16, p protocol.Payload) protocol.Frame {
	b.t.Helper()
	var err error
	b.req, err = protocol.Append(b.req[:0], seq, p)
	if err != nil {
		b.t.Fatal(err)
	}
	raw, err := b.exchange(b.req)
	if err != nil {
		b.t.Fatalf("%s seq %d: %v", p.Type(), seq, err)
	}
	b.rsp = raw
	f, _, err := protocol.Decode(raw)
	if err != nil {
		b.t.Fatalf("%s seq %d: response %x: %v", p.Type(), seq, raw, err)
	}
	return f
}

func (b *bus) send(p protocol.Payload) protocol.Frame {
	b.seq++
	return b.sendSeq(b.seq, p)
}

func mustAck(t testing.TB, f protocol.Frame) uint64 {
	t.Helper()
	if f.Type() == protocol.TypeNak {
		var n protocol.Nak
		_ = n.Unmarshal(f)
		t.Fatalf("NAK: %v", n.Err())
	}
	var a protocol.Ack
	if err := a.Unmarshal(f); err != nil {
		t.Fatal(err)
	}
	return a.Value
}

func mustRunOK(t testing.TB, f protocol.Frame) protocol.RunOK {
	t.Helper()
	if f.Type() == protocol.TypeNak {
		var n protocol.Nak
		_ = n.Unmarshal(f)
		t.Fatalf("NAK: %v", n.Err())
	}
	var r protocol.RunOK
	if err := r.Unmarshal(f); err != nil {
		t.Fatal(err)
	}
	return r
}

func mustNak(t testing.TB, f protocol.Frame, code protocol.Code) protocol.Nak {
	t.Helper()
	var n protocol.Nak
	if f.Type() != protocol.TypeNak {
		t.Fatalf("got %s, want a NAK %d (%s)", f.Type(), code, code)
	}
	if err := n.Unmarshal(f); err != nil {
		t.Fatal(err)
	}
	if n.Code != code {
		t.Fatalf("NAK %d (%s: %s), want %d (%s)", n.Code, n.Code, n.Text, code, code)
	}
	return n
}

func (b *bus) load(img *image.Image) {
	b.t.Helper()
	enc := image.Encode(img)
	sum := image.Hash(enc)
	mustAck(b.t, b.send(&protocol.ImageBegin{Size: uint32(len(enc)), SHA256: sum}))
	for off := 0; off < len(enc); off += 1000 {
		end := min(off+1000, len(enc))
		mustAck(b.t, b.send(&protocol.ImageChunk{Offset: uint32(off), Data: enc[off:end]}))
	}
	mustAck(b.t, b.send(&protocol.ImageCommit{SHA256: sum}))
}

func (b *bus) hello() protocol.HelloOK {
	b.t.Helper()
	var h protocol.HelloOK
	if err := h.Unmarshal(b.send(&protocol.Hello{})); err != nil {
		b.t.Fatal(err)
	}
	return h
}

func (b *bus) status() protocol.StatusOK {
	b.t.Helper()
	var s protocol.StatusOK
	if err := s.Unmarshal(b.send(&protocol.Status{})); err != nil {
		b.t.Fatal(err)
	}
	return s
}

// runFeed is the tick's RUN: 10 steps, the Input's row held.
func runFeed(k int) *protocol.Run {
	v := []int32{0, 0}
	if k%3 == 0 {
		v[0] = engine.One
	}
	if k%5 == 0 {
		v[1] = engine.One
	}
	return &protocol.Run{Steps: 10, Feeds: []protocol.Feed{{Pop: popInput, Hold: true, Size: 2, Values: v}}}
}

// engineSpikes runs ticks ticks of runFeed in-process.
func engineSpikes(t testing.TB, ticks int) []engine.Spike {
	t.Helper()
	img, err := image.Decode(image.Encode(testImage()))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(img)
	if err != nil {
		t.Fatal(err)
	}
	var out []engine.Spike
	for k := 0; k < ticks; k++ {
		r := runFeed(k)
		for s := 0; s < int(r.Steps); s++ {
			if err := e.SetInput(popInput, r.Feeds[0].Values); err != nil {
				t.Fatal(err)
			}
			e.Step()
			out = e.DrainSpikes(out)
		}
	}
	return out
}

func spikesOf(l protocol.SpikeList) []engine.Spike {
	var out []engine.Spike
	for _, s := range l.Spikes {
		out = append(out, engine.Spike{Pop: uint32(s.Pop), Unit: s.Unit, Stamp: l.Stamp(s)})
	}
	return out
}
