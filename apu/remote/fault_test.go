package remote_test

import (
	"errors"
	"fmt"
	"math"
	"net"
	"strings"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/compile"
	"github.com/spikeloop/spikeloop/apu/remote"
	"github.com/spikeloop/spikeloop/firmware/chip"
	"github.com/spikeloop/spikeloop/firmware/emulator"
	"github.com/spikeloop/spikeloop/firmware/image"
	"github.com/spikeloop/spikeloop/firmware/protocol"
	"github.com/spikeloop/spikeloop/hal/sim"
	"github.com/spikeloop/spikeloop/models"
)

func demoNet(t testing.TB) *models.Network {
	t.Helper()
	net, err := models.LoadFile("../../examples/demo/braitenberg.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	return net
}

// demoFeeds are tick k's light sensor currents (10 steps).
func demoFeeds(k int, left, right []float64) []apu.Feed {
	for s := range 10 {
		left[s] = 2000 * 3.3 * 0.5 * (1 + math.Sin(float64(k*10+s)/3000))
		right[s] = 2000 * 3.3 * 0.5 * (1 + math.Cos(float64(k*10+s)/2100))
	}
	return []apu.Feed{{Pop: "eye_left", Values: left}, {Pop: "eye_right", Values: right}}
}

// runDemo runs ticks of the demo on the chip and the fixed backend side
// by side, failing at the first difference, and returns the spikes seen.
func runDemo(t *testing.T, rb *remote.Backend, ticks int) int {
	t.Helper()
	tw := newTwin(t, "demo", demoNet(t), rb)
	left, right := make([]float64, 10), make([]float64, 10)
	spikes := 0
	for k := range ticks {
		tw.run(10, demoFeeds(k, left, right))
		spikes += len(tw.got.Spikes)
	}
	tw.states()
	return spikes
}

// Bit flips in requests and in responses, on both links: every one is
// detected (the counts equal the injected ones), the request is sent
// again with its sequence number, and the spikes are the fixed
// backend's.
func TestFlips(t *testing.T) {
	for _, c := range []struct {
		name     string
		req, rsp float64
	}{{"request", 0.05, 0}, {"response", 0, 0.05}, {"both", 0.03, 0.03}} {
		for _, link := range []string{"spi", "stream"} {
			t.Run(c.name+"/"+link, func(t *testing.T) {
				ec := emulator.Config{Faults: emulator.Faults{Seed: 7, RequestFlip: c.req, ResponseFlip: c.rsp}}
				rc := remote.Config{Retries: 5, Timeout: 50 * time.Millisecond}
				var rb *remote.Backend
				var emu *emulator.Emulator
				if link == "spi" {
					rb, emu = onSPI(t, ec, rc)
				} else {
					// A flipped length makes the host wait for bytes that
					// never come: the timeout fires (and counts a CRC
					// error) whatever the machine's speed. The server is
					// a goroutine a loaded machine may deschedule for
					// tens of ms: 500 ms keeps a healthy response from
					// timing out, and the counts below hold even if one
					// does.
					rc.Timeout = 500 * time.Millisecond
					rb, emu = onStream(t, ec, rc)
				}
				spikes := runDemo(t, rb, 400)
				st, es := rb.Stats(), emu.Stats()
				injected := es.RequestFlips + es.ResponseFlips
				if injected < 10 || spikes == 0 {
					t.Fatalf("%d flips injected, %d spikes: the test saw too little", injected, spikes)
				}
				// A request and its answer (a NAK) both flipped count
				// once: one frame came back corrupted, one resend.
				// Every resend answers a CRC error or a timeout. The
				// emulated SPI bus is synchronous (data-ready falls
				// within the write), so there a timeout is a flip
				// misread; on a stream one may be the machine's (a
				// descheduled server), which only adds a resend.
				exact := c.req == 0 || c.rsp == 0
				if exact && st.CRCErrors != injected || st.CRCErrors > injected || st.Retries != st.CRCErrors+st.Timeouts {
					t.Errorf("%d flips injected (%d requests, %d responses); the host counted %d CRC errors, %d timeouts, %d retries",
						injected, es.RequestFlips, es.ResponseFlips, st.CRCErrors, st.Timeouts, st.Retries)
				}
				if link == "spi" && st.Timeouts != 0 || st.ChipResets != 0 {
					t.Errorf("%d timeouts, %d chip resets: want none", st.Timeouts, st.ChipResets)
				}
				t.Logf("%d spikes; %d flips injected, %d CRC errors, %d retries, %d timeouts, %d stale", spikes, injected, st.CRCErrors, st.Retries, st.Timeouts, st.Stale)
			})
		}
	}
}

// One corrupted frame in 1,000 (requests and responses alike) for 60 s
// of the demo (60,000 ticks of 1 ms) through the emulated SPI wire:
// every one detected, the counts equal to the injected ones, and not
// one spike differs from the fixed backend's (about 5 s here; skipped
// with -short).
func TestOneInAThousand(t *testing.T) {
	if testing.Short() {
		t.Skip("60 s of simulated time with 1 corrupted frame in 1000 (about 5 s): not with -short")
	}
	ec := emulator.Config{Faults: emulator.Faults{Seed: 1000, RequestFlip: 0.001, ResponseFlip: 0.001}}
	rb, emu := onSPI(t, ec, remote.Config{})
	spikes := runDemo(t, rb, 60000)
	st, es := rb.Stats(), emu.Stats()
	injected := es.RequestFlips + es.ResponseFlips
	if st.CRCErrors != injected || st.Retries != injected || injected < 60 {
		t.Errorf("%d frames corrupted (%d requests, %d responses) in %d; the host counted %d CRC errors, %d retries",
			injected, es.RequestFlips, es.ResponseFlips, es.Requests, st.CRCErrors, st.Retries)
	}
	t.Logf("60 s: %d spikes, all equal to the fixed backend's; %d of %d frames corrupted, %d CRC errors counted, %d retries",
		spikes, injected, es.Requests+es.Responses, st.CRCErrors, st.Retries)
}

// A dropped data-ready: the host times out and sends the request again,
// which the chip answers from its kept response; the spikes are the
// fixed backend's. The counts are exact whatever the machine's load:
// the emulated SPI bus is synchronous (a response's data-ready falls
// within the write transaction, before the host looks), so a timeout
// fires only for a data-ready that never falls, and the short timeout
// only keeps the test quick.
func TestDroppedDataReady(t *testing.T) {
	ec := emulator.Config{Faults: emulator.Faults{Seed: 3, DropReady: 0.05}}
	rb, emu := onSPI(t, ec, remote.Config{Retries: 3, Timeout: 2 * time.Millisecond})
	spikes := runDemo(t, rb, 300)
	st, es := rb.Stats(), emu.Stats()
	if es.DroppedReady < 5 || spikes == 0 {
		t.Fatalf("%d data-ready edges dropped, %d spikes: the test saw too little", es.DroppedReady, spikes)
	}
	if st.Timeouts != es.DroppedReady || st.Retries != es.DroppedReady || st.CRCErrors != 0 {
		t.Errorf("%d data-ready dropped; the host counted %d timeouts, %d retries, %d CRC errors", es.DroppedReady, st.Timeouts, st.Retries, st.CRCErrors)
	}
	t.Logf("%d spikes; %d data-ready dropped, %d timeouts, %d retries", spikes, es.DroppedReady, st.Timeouts, st.Retries)
}

// The chip resets itself in the middle of a run: the Run fails with
// ErrLink (not retryable, naming the link and the boot counters), the
// reset is counted, later calls fail until Reset, and Reset reloads the
// image: the run from t = 0 is the fixed backend's again.
func TestChipResetMidRun(t *testing.T) {
	for _, link := range []string{"spi", "stream"} {
		t.Run(link, func(t *testing.T) {
			ec := emulator.Config{Faults: emulator.Faults{ResetAtStep: 505}}
			// The RUN the chip resets in gets no answer: the host
			// times out (whatever the machine's speed) and the resend's
			// answer carries the new boot counter. The emulated SPI bus
			// is synchronous; the stream's server is a goroutine a
			// loaded machine may deschedule for tens of ms (IMAGE_COMMIT
			// with 5 ms timed out 4 times running once): 500 ms keeps a
			// healthy response from timing out.
			rc := remote.Config{Timeout: 5 * time.Millisecond}
			var rb *remote.Backend
			if link == "spi" {
				rb, _ = onSPI(t, ec, rc)
			} else {
				rc.Timeout = 500 * time.Millisecond
				rb, _ = onStream(t, ec, rc)
			}
			net := demoNet(t)
			if err := rb.Load(net); err != nil {
				t.Fatal(err)
			}
			left, right := make([]float64, 10), make([]float64, 10)
			var err error
			k := 0
			for ; k < 100 && err == nil; k++ {
				err = rb.Run(10, demoFeeds(k, left, right))
			}
			var le *remote.LinkError
			if !errors.Is(err, apu.ErrLink) || errors.Is(err, apu.ErrRetryable) || !errors.As(err, &le) || !le.ChipReset {
				t.Fatalf("run through a chip reset at step 505: %v; want a non-retryable ErrLink of a chip reset", err)
			}
			if k != 51 || !strings.Contains(err.Error(), rb.Link()) || !strings.Contains(err.Error(), "boot counter 0 -> 1") {
				t.Errorf("tick %d: %v; want tick 51, the link's name and the boot counters", k, err)
			}
			if n := rb.Stats().ChipResets; n != 1 {
				t.Errorf("%d chip resets counted, want 1", n)
			}
			if again := rb.Run(10, demoFeeds(k, left, right)); !errors.Is(again, apu.ErrLink) {
				t.Fatalf("Run after the chip reset: %v, want the link error again", again)
			}
			if err := rb.Reset(); err != nil {
				t.Fatalf("Reset after a chip reset: %v", err)
			}
			if rb.Now() != 0 {
				t.Fatalf("Now after Reset %d", rb.Now())
			}
			// From t = 0 the chip runs what a fresh fixed backend runs.
			tw := newTwin(t, "demo after reload", net, rb)
			for k := range 100 {
				tw.run(10, demoFeeds(k, left, right))
			}
			tw.states()
		})
	}
}

// A chip whose firmware has another major version is refused at HELLO,
// with both versions named; nothing is uploaded.
func TestWrongFirmware(t *testing.T) {
	rb, emu := onSPI(t, emulator.Config{Faults: emulator.Faults{Firmware: 2<<16 | 3<<8 | 1}}, remote.Config{})
	err := rb.Load(demoNet(t))
	if err == nil || !errors.Is(err, apu.ErrUnsupported) || errors.Is(err, apu.ErrLink) {
		t.Fatalf("Load on firmware 2.3.1: %v; want ErrUnsupported", err)
	}
	for _, want := range []string{"firmware 2.3.1", "firmware 1.0.0"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v: does not name %q", err, want)
		}
	}
	if n := emu.Stats().Requests; n != 1 {
		t.Errorf("%d requests reached the chip, want 1 (HELLO)", n)
	}
	// A newer minor version of the same major is driven.
	rb, _ = onSPI(t, emulator.Config{Faults: emulator.Faults{Firmware: 1<<16 | 4<<8}}, remote.Config{})
	if err := rb.Load(demoNet(t)); err != nil {
		t.Fatalf("Load on firmware 1.4.0: %v", err)
	}
}

// swapImage is a link that uploads another image of the same size in
// place of the host's (its own SHA-256 in IMAGE_BEGIN and
// IMAGE_COMMIT), as a host and a chip that disagree on the format would.
type swapImage struct {
	remote.Transport
	bad  []byte
	hash [32]byte
	out  []byte
}

func (s *swapImage) Send(frame []byte) error {
	f, _, err := protocol.Decode(frame)
	if err != nil {
		return s.Transport.Send(frame)
	}
	var p protocol.Payload
	switch f.Type() {
	case protocol.TypeImageBegin:
		m := protocol.ImageBegin{Size: uint32(len(s.bad)), SHA256: s.hash}
		p = &m
	case protocol.TypeImageChunk:
		var m protocol.ImageChunk
		if err := m.Unmarshal(f); err != nil {
			return err
		}
		m.Data = s.bad[m.Offset : int(m.Offset)+len(m.Data)]
		p = &m
	case protocol.TypeImageCommit:
		p = &protocol.ImageCommit{SHA256: s.hash}
	default:
		return s.Transport.Send(frame)
	}
	s.out, _ = protocol.Append(s.out[:0], f.Seq(), p)
	return s.Transport.Send(s.out)
}

// An image the chip refuses (here one whose LIF population has the
// binary flag, which validation refuses): Load fails with the NAK's code
// and the chip's text naming the field.
func TestRefusedImage(t *testing.T) {
	net := demoNet(t)
	img, _, err := compile.Compile(net)
	if err != nil {
		t.Fatal(err)
	}
	good := image.Encode(img)
	for i := range img.Pops {
		if img.Pops[i].Kind == image.KindLIF {
			img.Pops[i].Flags |= image.FlagBinary
			break
		}
	}
	bad := image.Encode(img)
	if len(bad) != len(good) {
		t.Fatalf("the changed image has %d bytes, the host's %d", len(bad), len(good))
	}
	link, _ := spiLink(t, emulator.Config{})
	rb, err := remote.Open(remote.Config{Link: &swapImage{Transport: link, bad: bad, hash: image.Hash(bad)}})
	if err != nil {
		t.Fatal(err)
	}
	err = rb.Load(net)
	if !errors.Is(err, protocol.CodeImageInvalid) || !errors.Is(err, apu.ErrUnsupported) || errors.Is(err, apu.ErrLink) {
		t.Fatalf("Load of an image the chip refuses: %v; want the NAK's code (image invalid) and ErrUnsupported", err)
	}
	for _, want := range []string{"chip refused IMAGE_COMMIT: image invalid", "flags"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("%v: does not say %q", err, want)
		}
	}
	t.Logf("%v", err)
}

// A chip too small for the network is refused before the upload, naming
// both sizes.
func TestChipTooSmall(t *testing.T) {
	net := demoNet(t)
	_, rep, err := compile.Compile(net)
	if err != nil {
		t.Fatal(err)
	}
	ec := emulator.Config{}
	ec.Chip.Memory = uint32(rep.RAM + rep.ImageBytes - 1)
	rb, emu := onSPI(t, ec, remote.Config{})
	err = rb.Load(net)
	need := fmt.Sprintf("needs %d bytes of chip memory", rep.RAM+rep.ImageBytes)
	if !errors.Is(err, apu.ErrUnsupported) || !strings.Contains(err.Error(), need) || !strings.Contains(err.Error(), fmt.Sprintf("the chip has %d", ec.Chip.Memory)) {
		t.Fatalf("Load on a chip 1 byte too small: %v", err)
	}
	if n := emu.Stats().Requests; n != 1 {
		t.Errorf("%d requests reached the chip, want 1 (HELLO)", n)
	}
}

// The stream's server goes away mid-run: the next Run fails at once
// with ErrLink naming the link.
func TestStreamServerGone(t *testing.T) {
	addr, _, stop := serve(t, emulator.Config{})
	link, err := remote.Dial(addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	// The closed socket fails the Run at once (no timeout).
	rb, err := remote.Open(remote.Config{Link: link, Timeout: slowTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	if err := rb.Load(demoNet(t)); err != nil {
		t.Fatal(err)
	}
	left, right := make([]float64, 10), make([]float64, 10)
	for k := range 20 {
		if err := rb.Run(10, demoFeeds(k, left, right)); err != nil {
			t.Fatal(err)
		}
	}
	stop()
	start := time.Now()
	err = rb.Run(10, demoFeeds(20, left, right))
	if !errors.Is(err, apu.ErrLink) || errors.Is(err, apu.ErrRetryable) || !strings.Contains(err.Error(), addr) {
		t.Fatalf("Run after the server went away: %v; want a non-retryable ErrLink naming %s", err, addr)
	}
	t.Logf("%v (after %v)", err, time.Since(start))
}

// A new host session against a chip that kept its last response from
// the previous one (`apu serve` keeps the chip across connections):
// a first request that reuses the chip's last sequence number is
// refused (NAK 8, nothing run) and sent again with the next number.
func TestNewSessionSameSequence(t *testing.T) {
	addr, _, _ := serve(t, emulator.Config{})
	open := func() *remote.Backend {
		link, err := remote.Dial(addr, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		// The resend count is exact: no timeout may add one.
		rb, err := remote.Open(remote.Config{Link: link, Timeout: slowTimeout})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = rb.Close() })
		return rb
	}
	first := open()
	runDemo(t, first, 20)
	last := remote.Seq(first)
	first.Close()
	second := open()
	remote.SetSeq(second, last-1) // its HELLO goes out with the chip's last number
	runDemo(t, second, 50)
	if r := second.Stats().Retries; r != 1 {
		t.Errorf("%d resends, want 1 (the HELLO refused with NAK 8)", r)
	}
}

// liar answers from a chip in-process, but changes a byte of every
// RUN_OK's spikes after the chip framed it (its CRC no longer matches).
type liar struct {
	c    *chip.Chip
	resp []byte
	runs int
}

func (l *liar) Send(frame []byte) error {
	l.resp = l.c.Handle(frame, l.resp[:0])
	if len(l.resp) > protocol.HeaderSize+26 && protocol.Type(l.resp[3]) == protocol.TypeRunOK {
		l.resp[protocol.HeaderSize+26+2] ^= 0x01 // the first spike's population
		l.runs++
	}
	return nil
}

func (l *liar) Receive(r *protocol.Reader, _ time.Time) (int, bool, error) {
	r.Reset()
	r.Write(l.resp)
	return len(l.resp), true, nil
}

func (l *liar) Reset() error   { return remote.ErrNoReset }
func (l *liar) Close() error   { return nil }
func (l *liar) String() string { return "liar" }

// The host never acts on a frame whose CRC it did not check: RUN_OKs
// whose spikes were changed after framing are refused every time, the
// Run fails with ErrLink, and none of their spikes is recorded.
func TestNeverActsOnUncheckedFrame(t *testing.T) {
	l := &liar{c: chip.New(chip.Config{})}
	rb, err := remote.Open(remote.Config{Link: l, Retries: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := rb.Load(demoNet(t)); err != nil {
		t.Fatal(err)
	}
	left, right := make([]float64, 10), make([]float64, 10)
	var rec apu.Record
	for k := range 200 {
		err = rb.Run(10, demoFeeds(k, left, right))
		if err != nil {
			break
		}
		rb.Drain(&rec)
		if len(rec.Spikes) != 0 {
			t.Fatalf("tick %d: %d spikes recorded from RUN_OKs that failed their CRC", k, len(rec.Spikes))
		}
	}
	if !errors.Is(err, apu.ErrLink) {
		t.Fatalf("runs answered only by corrupted RUN_OKs with spikes: %v, want ErrLink", err)
	}
	rb.Drain(&rec)
	if st := rb.Stats(); len(rec.Spikes) != 0 || st.CRCErrors != 3 || l.runs != 3 {
		t.Errorf("%d spikes recorded, %d CRC errors counted, %d corrupted RUN_OKs sent; want 0, 3, 3", len(rec.Spikes), st.CRCErrors, l.runs)
	}
}

// A chip that rebooted between two calls (its image gone): Reset finds
// it out (RESET refused: no image), counts the reset, uploads the image
// again and runs from t = 0 as a fresh fixed backend does.
func TestResetAfterSilentReboot(t *testing.T) {
	rb, emu := onSPI(t, emulator.Config{}, remote.Config{})
	runDemo(t, rb, 20)
	emu.Do(func(c *chip.Chip) { c.Reboot() })
	if err := rb.Reset(); err != nil {
		t.Fatal(err)
	}
	if n := rb.Stats().ChipResets; n != 1 || rb.Now() != 0 {
		t.Fatalf("after Reset: %d chip resets counted, Now %d; want 1 and 0", n, rb.Now())
	}
	tw := newTwin(t, "demo after reboot", demoNet(t), rb)
	left, right := make([]float64, 10), make([]float64, 10)
	for k := range 50 {
		tw.run(10, demoFeeds(k, left, right))
	}
	tw.states()
}

// The stream transport over TCP on the loopback.
func TestTCP(t *testing.T) {
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { _ = emu.Serve(l); close(done) }()
	defer func() { l.Close(); <-done }()
	link, err := remote.Dial("tcp:"+l.Addr().String(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := remote.Open(remote.Config{Link: link, Timeout: slowTimeout})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	if spikes := runDemo(t, rb, 200); spikes == 0 {
		t.Error("no spikes over TCP")
	}
	if _, err := remote.Dial("udp:127.0.0.1:1", time.Second); err == nil || !strings.Contains(err.Error(), "unix:PATH or tcp:HOST:PORT") {
		t.Errorf("a udp address: %v", err)
	}
}

// A board without a data-ready line: the host polls with reads until a
// response starts, and runs what the fixed backend runs.
func TestSPIWithoutDataReady(t *testing.T) {
	emu, err := emulator.New(emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	port := sim.NewPort("SPI0.0", emu)
	conn, err := port.Connect(20*physic.MegaHertz, spi.Mode0, 8)
	if err != nil {
		t.Fatal(err)
	}
	link, err := remote.NewSPI("SPI0.0", conn, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	rb, err := remote.Open(remote.Config{Link: link})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	if spikes := runDemo(t, rb, 200); spikes == 0 {
		t.Error("no spikes")
	}
	if err := link.Reset(); !errors.Is(err, remote.ErrNoReset) {
		t.Errorf("Reset without a reset line: %v", err)
	}
}

// deaf loses every request until its reset line is pulsed, as a chip
// that hung would.
type deaf struct {
	remote.Transport
	deaf bool
}

func (d *deaf) Send(frame []byte) error {
	if d.deaf {
		return nil
	}
	return d.Transport.Send(frame)
}

func (d *deaf) Reset() error {
	d.deaf = false
	return d.Transport.Reset()
}

// A chip that stops answering: the Run fails with ErrLink after the
// retries' timeouts; Reset pulses the reset line (the emulated chip
// reboots: boot counter + 1), uploads the image again and the run from
// t = 0 is the fixed backend's. The timeouts are the lost requests'
// (data-ready never falls) on the synchronous emulated SPI bus: 2 ms
// cannot expire early on a loaded machine.
func TestResetLineRevivesHungChip(t *testing.T) {
	link, emu := spiLink(t, emulator.Config{})
	d := &deaf{Transport: link}
	rb, err := remote.Open(remote.Config{Link: d, Retries: 2, Timeout: 2 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Close()
	runDemo(t, rb, 30)
	d.deaf = true
	left, right := make([]float64, 10), make([]float64, 10)
	err = rb.Run(10, demoFeeds(30, left, right))
	if !errors.Is(err, apu.ErrLink) || errors.Is(err, apu.ErrRetryable) {
		t.Fatalf("Run on a hung chip: %v; want a non-retryable ErrLink", err)
	}
	if err := rb.Reset(); err != nil {
		t.Fatalf("Reset of a hung chip: %v", err)
	}
	st := rb.Stats()
	if st.ResetPulses != 1 || st.ChipResets != 1 || emu.Stats().ResetPulses != 1 || st.Timeouts < 3 {
		t.Errorf("%d reset pulses (chip saw %d), %d chip resets, %d timeouts; want 1, 1, 1, >= 3", st.ResetPulses, emu.Stats().ResetPulses, st.ChipResets, st.Timeouts)
	}
	tw := newTwin(t, "demo after the reset line", demoNet(t), rb)
	for k := range 50 {
		tw.run(10, demoFeeds(k, left, right))
	}
	tw.states()
}

// forger answers from a chip in-process and rewrites RUN_OKs with
// spikes into well-formed frames (a good CRC) whose first spike is of a
// unit the image does not have: a faulty chip.
type forger struct {
	liar
	ok  protocol.RunOK
	out []byte
}

func (f *forger) Send(frame []byte) error {
	f.resp = f.c.Handle(frame, f.resp[:0])
	fr, _, err := protocol.Decode(f.resp)
	if err != nil || fr.Type() != protocol.TypeRunOK || f.ok.Unmarshal(fr) != nil || len(f.ok.Spikes.Spikes) == 0 {
		return nil
	}
	f.ok.Spikes.Spikes[0].Unit = 9999
	f.out, _ = protocol.Append(f.out[:0], fr.Seq(), &f.ok)
	f.resp = append(f.resp[:0], f.out...)
	f.runs++
	return nil
}

// A checked frame with a spike of a unit that does not exist fails the
// Run with ErrLink; the spike never reaches the record.
func TestForgedSpike(t *testing.T) {
	f := &forger{liar: liar{c: chip.New(chip.Config{})}}
	rb, err := remote.Open(remote.Config{Link: f})
	if err != nil {
		t.Fatal(err)
	}
	if err := rb.Load(demoNet(t)); err != nil {
		t.Fatal(err)
	}
	left, right := make([]float64, 10), make([]float64, 10)
	var rec apu.Record
	for k := 0; k < 1000 && err == nil; k++ {
		err = rb.Run(10, demoFeeds(k, left, right))
		rb.Drain(&rec)
		for _, s := range rec.Spikes {
			if s.Neuron == 9999 {
				t.Fatalf("tick %d: the forged spike was recorded", k)
			}
		}
	}
	if !errors.Is(err, apu.ErrLink) || f.runs != 1 || !strings.Contains(err.Error(), "unit 9999") {
		t.Fatalf("after %d forged RUN_OKs: %v; want ErrLink naming unit 9999 at the first", f.runs, err)
	}
}

// oldChip answers from a chip in-process whose HELLO_OK says it runs no
// LIF populations (a firmware without that kernel).
type oldChip struct {
	liar
	hello protocol.HelloOK
	out   []byte
}

func (o *oldChip) Send(frame []byte) error {
	o.resp = o.c.Handle(frame, o.resp[:0])
	if fr, _, err := protocol.Decode(o.resp); err == nil && fr.Type() == protocol.TypeHelloOK && o.hello.Unmarshal(fr) == nil {
		o.hello.Kinds &^= protocol.KindBit(image.KindLIF)
		o.out, _ = protocol.Append(o.out[:0], fr.Seq(), &o.hello)
		o.resp = append(o.resp[:0], o.out...)
	}
	return nil
}

// A chip whose firmware lacks a kind the network needs is refused at
// Probe and Load, naming the population and the kind; nothing is
// uploaded.
func TestChipLacksKind(t *testing.T) {
	o := &oldChip{liar: liar{c: chip.New(chip.Config{})}}
	rb, err := remote.Open(remote.Config{Link: o})
	if err != nil {
		t.Fatal(err)
	}
	net := demoNet(t)
	if _, err := rb.Probe(net); !errors.Is(err, apu.ErrUnsupported) {
		t.Fatalf("Probe: %v, want ErrUnsupported", err)
	}
	err = rb.Load(net)
	if !errors.Is(err, apu.ErrUnsupported) || !strings.Contains(err.Error(), `population "`) || !strings.Contains(err.Error(), "does not run LIF populations") {
		t.Fatalf("Load on a chip without LIF: %v", err)
	}
	if o.c.Engine() != nil {
		t.Error("the chip has an image after the refusal")
	}
	t.Log(err)
}
