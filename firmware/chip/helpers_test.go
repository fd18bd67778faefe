package chip

import (
	"bytes"
	"github.com/spikeloop/spikeloop/firmware/image/imagetest"
	"math"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/engine"
	"github.com/spikeloop/spikeloop/firmware/image"
	"github.com/spikeloop/spikeloop/firmware/protocol"
)

// The numbers of hand-made images: firmware/image/imagetest.
var (
	q    = imagetest.Q
	coef = imagetest.Coef
	fill = imagetest.Fill
)

// allToAll connects every unit of pre to every unit of post.
func allToAll(pre, post uint32, nPre, nPost int, m int16, s uint8, d uint16) image.Synapse {
	syn := image.Synapse{Pre: pre, Post: post, Shift: s, Off: make([]uint32, nPre+1)}
	for i := 0; i < nPre; i++ {
		for j := 0; j < nPost; j++ {
			syn.Target = append(syn.Target, uint32(j))
			syn.Weight = append(syn.Weight, m)
			syn.Delay = append(syn.Delay, d+uint16(j))
		}
		syn.Off[i+1] = uint32(len(syn.Target))
	}
	return syn
}

// Population indices of testImage.
const (
	popPoisson = 0
	popInput   = 1
	popDC      = 2
	popCustom  = 3
	popLIF     = 4
)

// testImage is a small network with a generator of each sort a host
// drives (Input, DC, Custom) and a Poisson source, into 3 LIF neurons
// that spike on their own (I_e above threshold) and with input; the
// LIF spikes and y are monitored, and the Poisson spikes.
func testImage(lifN int) *image.Image {
	const dt, tau, r = 0.1, 10.0, 0.04
	p33 := math.Exp(-dt / tau)
	never := image.Window{First: 0, End: math.MaxInt64}
	lam := 0.2
	return &image.Image{
		Version: image.Version, DtPicos: 100_000_000, Seed: 7,
		Pops: []image.Pop{
			popPoisson: {Kind: image.KindPoisson, Flags: image.FlagBinary, Size: 4, Win: never,
				Unit: [][]int32{fill(4, q(lam)), fill(4, int32(math.Round(math.Exp(-lam)*(1<<30))))}},
			popInput:  {Kind: image.KindInput, Flags: image.FlagBinary, Size: 2},
			popDC:     {Kind: image.KindDC, Flags: image.FlagCurrent, Size: 1, Win: never, Unit: [][]int32{{q(50)}}},
			popCustom: {Kind: image.KindCustom, Size: 1, Win: never, RowWidth: 1, Rows: []int32{0}},
			popLIF: {Kind: image.KindLIF, Ports: 1, Size: uint32(lifN), RefSteps: 20,
				Coefs:  []image.Coef{image.LIFP33: coef(p33), image.LIFP30: coef(r * (1 - p33))},
				Consts: []int32{image.LIFTh: q(15), image.LIFReset: q(0)},
				Unit:   [][]int32{image.LIFIe: fill(lifN, q(400)), image.LIFY0: fill(lifN, 0)}},
		},
		Synapses: []image.Synapse{
			allToAll(popPoisson, popLIF, 4, lifN, 64, 10, 1),
			allToAll(popInput, popLIF, 2, lifN, 128, 10, 2),
			allToAll(popDC, popLIF, 1, lifN, 1, 0, 1),
			allToAll(popCustom, popLIF, 1, lifN, 128, 10, 1),
		},
		Monitors: []image.Monitor{
			{Pop: popLIF, Spikes: true, States: []uint8{0}, Every: 1},
			{Pop: popPoisson, Spikes: true, Every: 1},
		},
	}
}

// host speaks to a chip frame by frame, as apu/remote does.
type host struct {
	t   testing.TB
	c   *Chip
	seq uint16
	req []byte
	rsp []byte
}

func newHost(t testing.TB, cfg Config) *host {
	return &host{t: t, c: New(cfg), req: make([]byte, 0, protocol.MaxFrame), rsp: make([]byte, 0, protocol.MaxFrame)}
}

// send sends p with the next sequence number and returns the response
// frame.
func (h *host) send(p protocol.Payload) protocol.Frame {
	h.t.Helper()
	h.seq++
	return h.sendSeq(h.seq, p)
}

func (h *host) sendSeq(seq uint16, p protocol.Payload) protocol.Frame {
	h.t.Helper()
	var err error
	h.req, err = protocol.Append(h.req[:0], seq, p)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.raw(h.req)
}

// raw hands the chip the bytes b and decodes its response.
func (h *host) raw(b []byte) protocol.Frame {
	h.t.Helper()
	h.rsp = h.c.Handle(b, h.rsp[:0])
	f, n, err := protocol.Decode(h.rsp)
	if err != nil || n != len(h.rsp) {
		h.t.Fatalf("response %x: %v (frame of %d bytes)", h.rsp, err, n)
	}
	return f
}

// nak decodes f as a NAK with code want and returns it.
func (h *host) nak(f protocol.Frame, want protocol.Code) protocol.Nak {
	h.t.Helper()
	var n protocol.Nak
	if f.Type() != protocol.TypeNak {
		h.t.Fatalf("got %s, want a NAK with code %d (%s)", f.Type(), want, want)
	}
	if err := n.Unmarshal(f); err != nil {
		h.t.Fatal(err)
	}
	if n.Code != want {
		h.t.Fatalf("NAK code %d (%s: %s), want %d (%s)", n.Code, n.Code, n.Text, want, want)
	}
	return n
}

func (h *host) ack(f protocol.Frame) uint64 {
	h.t.Helper()
	if f.Type() == protocol.TypeNak {
		var n protocol.Nak
		_ = n.Unmarshal(f)
		h.t.Fatalf("NAK: %v", n.Err())
	}
	var a protocol.Ack
	if err := a.Unmarshal(f); err != nil {
		h.t.Fatal(err)
	}
	return a.Value
}

// load uploads img in chunks of chunk bytes and commits it.
func (h *host) load(img *image.Image, chunk int) uint64 {
	h.t.Helper()
	b := image.Encode(img)
	sum := image.Hash(b)
	h.ack(h.send(&protocol.ImageBegin{Size: uint32(len(b)), SHA256: sum}))
	for off := 0; off < len(b); off += chunk {
		end := min(off+chunk, len(b))
		if got := h.ack(h.send(&protocol.ImageChunk{Offset: uint32(off), Data: b[off:end]})); got != uint64(end) {
			h.t.Fatalf("chunk ACK %d, want %d", got, end)
		}
	}
	return h.ack(h.send(&protocol.ImageCommit{SHA256: sum}))
}

func (h *host) runOK(f protocol.Frame) protocol.RunOK {
	h.t.Helper()
	if f.Type() == protocol.TypeNak {
		var n protocol.Nak
		_ = n.Unmarshal(f)
		h.t.Fatalf("NAK: %v", n.Err())
	}
	var r protocol.RunOK
	if err := r.Unmarshal(f); err != nil {
		h.t.Fatal(err)
	}
	return r
}

func (h *host) status() protocol.StatusOK {
	h.t.Helper()
	var s protocol.StatusOK
	if err := s.Unmarshal(h.send(&protocol.Status{})); err != nil {
		h.t.Fatal(err)
	}
	return s
}

func (h *host) readOK(r *protocol.Read) protocol.ReadOK {
	h.t.Helper()
	f := h.send(r)
	if f.Type() == protocol.TypeNak {
		var n protocol.Nak
		_ = n.Unmarshal(f)
		h.t.Fatalf("READ %+v: %v", *r, n.Err())
	}
	var o protocol.ReadOK
	if err := o.Unmarshal(f); err != nil {
		h.t.Fatal(err)
	}
	return o
}

// spikesOf lists a spike list as engine spikes.
func spikesOf(l protocol.SpikeList) []engine.Spike {
	var out []engine.Spike
	for _, s := range l.Spikes {
		out = append(out, engine.Spike{Pop: uint32(s.Pop), Unit: s.Unit, Stamp: l.Stamp(s)})
	}
	return out
}

// twin is an in-process engine run the way the chip must run it.
func twin(t testing.TB, img *image.Image) *engine.Engine {
	t.Helper()
	// A decoded copy, as the chip has.
	d, err := image.Decode(image.Encode(img))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.New(d)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

func sameBytes(t testing.TB, what string, a, b []byte) {
	t.Helper()
	if !bytes.Equal(a, b) {
		t.Fatalf("%s differ:\n%x\n%x", what, a, b)
	}
}
