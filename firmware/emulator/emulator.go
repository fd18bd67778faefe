// Package emulator is the APU on a bus: firmware/chip behind hal/sim's
// bit-serial SPI Chip interface, with a data-ready line it drives, a
// reset line it obeys, a timing model and seeded fault injection. It is
// host-side test equipment, not chip code: unlike the rest of firmware/
// it imports hal/sim, periph and the standard library freely
// (firmware/imports_test.go exempts it).
//
// # The link
//
// firmware/README.md ("Link") gives the byte-level handshake; in short:
// a transaction whose first MOSI byte is the sync byte 0xA5 writes a
// request frame; any other transaction reads: the chip clocks out the
// waiting response from its first byte (0x00 after its end), and the
// host may read it again until its next request. Data-ready (active
// low) goes high when a request is written and low when its response
// waits; it goes high again when a read has clocked the whole response.
// A reset line held low keeps the chip in reset (transactions are
// ignored, MISO reads 0xFF); releasing it boots the chip: image, state
// and kept response lost, boot counter + 1.
//
// # Time
//
// hal/sim has no clock of its own (time moves when a caller says so),
// so the emulator keeps an emulated one (Elapsed): each bit clocked
// adds one period of the SPI clock the port was connected at, each
// request adds FrameCost plus StepCost per engine step it ran. By
// default data-ready falls as soon as the response is computed (in wall
// time) and the emulated clock moves to the response's ready time, as
// if the host had waited for it: a host reads Elapsed to account for
// the link. With Clocked, data-ready falls only when Advance has moved
// the emulated clock to the ready time, and a read before then gets
// zeros.
//
// # Faults
//
// Every fault is drawn from one seeded generator in a fixed order (per
// request: the request flip, then per response: the response flip and
// the dropped data-ready), so a run with the same seed and the same
// traffic injects the same faults. Stats counts what was injected.
package emulator

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"periph.io/x/conn/v3/gpio"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"

	"github.com/spikeloop/spikeloop/firmware/chip"
	"github.com/spikeloop/spikeloop/firmware/protocol"
	"github.com/spikeloop/spikeloop/hal/sim"
)

// DefaultMaxClock is the fastest SPI clock the emulated chip accepts by
// default.
const DefaultMaxClock = 20 * physic.MegaHertz

// Config sets up an emulated chip.
type Config struct {
	// Chip is the firmware's configuration (memory, boot counter, ...).
	Chip chip.Config
	// MaxClock is the fastest SPI clock accepted at Connect (default
	// DefaultMaxClock).
	MaxClock physic.Frequency
	// StepCost is the emulated compute time of one engine step, and
	// FrameCost that of handling one request besides its steps.
	StepCost, FrameCost time.Duration
	// DataReady is the line the chip drives: low while a response
	// waits (nil: none). The host configures it as an input.
	DataReady *sim.Pin
	// Reset is the line the chip obeys (nil: none): driven low by the
	// host (as an output) it holds the chip in reset. A line never
	// configured counts as pulled up.
	Reset *sim.Pin
	// Clocked makes data-ready wait for Advance (see the package doc).
	Clocked bool
	// Faults to inject.
	Faults Faults
}

// Faults are the injected faults, all drawn from Seed.
type Faults struct {
	Seed uint64
	// RequestFlip is the probability that a request frame has one bit
	// flipped on its way in (a bit chosen uniformly among its bits).
	RequestFlip float64
	// ResponseFlip is the probability that a response has one bit
	// flipped on its way out; the chip's kept copy stays good, so a
	// resent request gets it intact.
	ResponseFlip float64
	// DropReady is the probability that data-ready does not fall for a
	// response (the response can still be read).
	DropReady float64
	// ResetAtFrame makes the chip reset itself when its Nth request
	// frame arrives (counting from 1; 0: never), instead of answering.
	ResetAtFrame uint64
	// ResetAtStep makes the chip reset itself in the RUN that would
	// take its step counter to this step or past it (0: never), instead
	// of answering. Each reset fault fires once.
	ResetAtStep int64
	// Firmware, when not 0, is the firmware version HELLO_OK reports
	// instead of the chip's.
	Firmware uint32
}

// Stats are an emulator's counts since New.
type Stats struct {
	Transactions uint64 // SPI transactions (CS low to CS high)
	Writes       uint64 // transactions that carried a request
	Reads        uint64 // the others
	BytesIn      uint64 // MOSI bytes
	BytesOut     uint64 // MISO bytes of a response (not idle bytes)
	Requests     uint64 // request frames handled (SPI and stream)
	Responses    uint64 // responses made ready
	Ignored      uint64 // transactions while held in reset

	RequestFlips  uint64 // requests corrupted
	ResponseFlips uint64 // responses corrupted
	DroppedReady  uint64 // responses whose data-ready did not fall
	SelfResets    uint64 // resets injected (ResetAtFrame, ResetAtStep)
	ResetPulses   uint64 // resets through the reset line

	Link    time.Duration // emulated time spent clocking bits
	Compute time.Duration // emulated time spent computing responses
}

// Emulator is an emulated APU: a sim.Chip for a sim.Port, and a stream
// server (Serve). It is safe for concurrent use.
type Emulator struct {
	mu    sync.Mutex
	cfg   Config
	chip  *chip.Chip
	rng   *rand.Rand
	stats Stats

	psPerBit int64 // picoseconds per SPI bit, from Accepts
	nowPs    int64 // the emulated clock, in picoseconds

	// Reset line.
	falls   uint64
	inReset bool

	// The current transaction.
	held  bool // the chip is in reset: ignore it
	rx    [protocol.MaxFrame]byte
	rxN   int
	cur   byte
	bit   int
	txPos int // response bytes clocked out in this transaction

	// The response waiting: out is what goes on the wire (resp, or a
	// corrupted copy in flipped).
	resp    []byte
	flipped []byte
	out     []byte
	have    bool  // out can be read
	pending bool  // Clocked: computed, not yet ready
	readyPs int64 // when it is ready
	dropDR  bool  // its data-ready is dropped
	ready   bool  // data-ready is low

	frames     uint64 // request frames received
	frameFired bool
	stepFired  bool
	lastComp   time.Duration
}

// New returns an emulated chip at power-up: no image, data-ready high.
func New(cfg Config) (*Emulator, error) {
	if cfg.MaxClock == 0 {
		cfg.MaxClock = DefaultMaxClock
	}
	if cfg.MaxClock < 0 {
		return nil, fmt.Errorf("emulator: max clock: must be > 0, got %s", cfg.MaxClock)
	}
	if cfg.StepCost < 0 {
		return nil, fmt.Errorf("emulator: step cost: must be >= 0, got %s", cfg.StepCost)
	}
	if cfg.FrameCost < 0 {
		return nil, fmt.Errorf("emulator: frame cost: must be >= 0, got %s", cfg.FrameCost)
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"request flip", cfg.Faults.RequestFlip}, {"response flip", cfg.Faults.ResponseFlip}, {"drop ready", cfg.Faults.DropReady}} {
		if !(p.v >= 0 && p.v <= 1) {
			return nil, fmt.Errorf("emulator: %s: must be a probability in 0..1, got %v", p.name, p.v)
		}
	}
	if cfg.Faults.ResetAtStep < 0 {
		return nil, fmt.Errorf("emulator: reset at step: must be >= 0, got %d", cfg.Faults.ResetAtStep)
	}
	if cfg.Faults.Firmware != 0 {
		cfg.Chip.Firmware = cfg.Faults.Firmware
	}
	e := &Emulator{
		cfg:     cfg,
		chip:    chip.New(cfg.Chip),
		rng:     rand.New(rand.NewPCG(cfg.Faults.Seed, cfg.Faults.Seed^0x5350494b454c4f4f)),
		resp:    make([]byte, 0, protocol.MaxFrame),
		flipped: make([]byte, 0, protocol.MaxFrame),
	}
	if cfg.Reset != nil {
		e.falls = cfg.Reset.Falls()
	}
	e.setReady(false)
	return e, nil
}

// Accepts implements sim.Chip: SPI mode 0 or 3, 8-bit words, a clock up
// to MaxClock. The clock sets the emulated time of a bit.
func (e *Emulator) Accepts(f physic.Frequency, mode spi.Mode, bits int) error {
	if bits != 8 {
		return fmt.Errorf("apu: bits per word: must be 8, got %d", bits)
	}
	if mode&^spi.Mode3 != 0 {
		return fmt.Errorf("apu: mode: must be mode 0 or 3 without flags, got %s", mode)
	}
	if m := mode & spi.Mode3; m != spi.Mode0 && m != spi.Mode3 {
		return fmt.Errorf("apu: mode: must be mode 0 or 3, got %s", m)
	}
	if f <= 0 || f > e.cfg.MaxClock {
		return fmt.Errorf("apu: clock: must be above 0 and at most %s, got %s", e.cfg.MaxClock, f)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	// f is in µHz: a bit lasts 10^18/f ps.
	e.psPerBit = int64(1e18 / float64(f))
	return nil
}

// Begin implements sim.Chip.
func (e *Emulator) Begin() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.watchReset()
	e.stats.Transactions++
	e.held = e.inReset
	e.rxN, e.cur, e.bit, e.txPos = 0, 0, 0, 0
}

// Clock implements sim.Chip: MSB first, the waiting response on MISO
// (0x00 when there is none or after its end; 1s in reset).
func (e *Emulator) Clock(mosi byte) byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nowPs += e.psPerBit
	e.stats.Link += time.Duration(e.psPerBit / 1000)
	if e.held {
		return 1
	}
	var ob byte
	if e.have && e.txPos < len(e.out) {
		ob = e.out[e.txPos]
	}
	miso := ob >> (7 - e.bit) & 1
	e.cur = e.cur<<1 | mosi&1
	e.bit++
	if e.bit == 8 {
		if e.rxN < len(e.rx) {
			e.rx[e.rxN] = e.cur
			e.rxN++
		}
		e.stats.BytesIn++
		if e.have && e.txPos < len(e.out) {
			e.stats.BytesOut++
		}
		e.txPos++
		e.cur, e.bit = 0, 0
	}
	return miso
}

// End implements sim.Chip: a write transaction hands its frame to the
// chip; a read that clocked the whole response raises data-ready.
func (e *Emulator) End() {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.held {
		e.held = false
		e.stats.Ignored++
		e.watchReset()
		return
	}
	if e.rxN > 0 && e.rx[0] == protocol.Sync0 {
		e.stats.Writes++
		e.handle(e.rx[:e.rxN])
	} else {
		e.stats.Reads++
		if e.have && e.txPos >= len(e.out) {
			e.setReady(false)
		}
	}
	e.watchReset()
}

// Advance moves the emulated clock by d: with Clocked, a response whose
// ready time is reached makes data-ready fall. It also samples the
// reset line.
func (e *Emulator) Advance(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.nowPs += int64(d) * 1000
	e.watchReset()
	e.release()
}

// Config is the emulator's configuration, defaults filled in.
func (e *Emulator) Config() Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	c := e.cfg
	c.Chip = e.chip.Config()
	return c
}

// Elapsed is the emulated clock.
func (e *Emulator) Elapsed() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return time.Duration(e.nowPs / 1000)
}

// LastCompute is the emulated compute time of the last request.
func (e *Emulator) LastCompute() time.Duration {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.lastComp
}

// Stats returns the counts so far.
func (e *Emulator) Stats() Stats {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.stats
}

// Ready says whether data-ready is low (a response waits).
func (e *Emulator) Ready() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ready
}

// Do runs f with the chip, under the emulator's lock (tests look at the
// firmware's state through it).
func (e *Emulator) Do(f func(c *chip.Chip)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(e.chip)
}

// setReady drives data-ready: low (true) when a response waits.
func (e *Emulator) setReady(r bool) {
	e.ready = r
	if e.cfg.DataReady != nil {
		e.cfg.DataReady.Drive(gpio.Level(!r))
	}
}

// watchReset samples the reset line: low now, or pulsed low since the
// last sample, is a reset; the chip boots when the line is high.
func (e *Emulator) watchReset() {
	p := e.cfg.Reset
	if p == nil {
		return
	}
	falls := p.Falls()
	low := p.Function() == sim.FuncOut && p.Read() == gpio.Low
	if falls != e.falls || low {
		e.falls = falls
		e.inReset = true
		e.dropResponse()
	}
	if e.inReset && !low {
		e.inReset = false
		e.chip.Reboot()
		e.stats.ResetPulses++
	}
}

func (e *Emulator) dropResponse() {
	e.have, e.pending, e.out = false, false, nil
	e.setReady(false)
}

// selfReset is an injected reset: the chip reboots without answering.
func (e *Emulator) selfReset() {
	e.chip.Reboot()
	e.stats.SelfResets++
	e.dropResponse()
}

// handle runs one request (its bytes from the sync on) through the
// faults and the chip, and makes its response wait (or not). The
// caller holds the lock.
func (e *Emulator) handle(req []byte) {
	e.dropResponse()
	e.stats.Requests++
	e.frames++
	flt := &e.cfg.Faults
	if flt.ResetAtFrame != 0 && !e.frameFired && e.frames == flt.ResetAtFrame {
		e.frameFired = true
		e.selfReset()
		return
	}
	if flt.RequestFlip > 0 && e.rng.Float64() < flt.RequestFlip {
		i := e.rng.IntN(8 * len(req))
		req[i/8] ^= 0x80 >> (i % 8)
		e.stats.RequestFlips++
	}
	if flt.ResetAtStep > 0 && !e.stepFired && e.reachesStep(req, flt.ResetAtStep) {
		e.stepFired = true
		e.selfReset()
		return
	}
	before := e.chip.Now()
	e.resp = e.chip.Handle(req, e.resp[:0])
	steps := e.chip.Now() - before
	if steps < 0 {
		steps = 0
	}
	comp := e.cfg.FrameCost + time.Duration(steps)*e.cfg.StepCost
	e.lastComp = comp
	e.stats.Compute += comp
	e.stats.Responses++
	e.readyPs = e.nowPs + int64(comp)*1000
	e.out = e.resp
	if flt.ResponseFlip > 0 && e.rng.Float64() < flt.ResponseFlip {
		e.flipped = append(e.flipped[:0], e.resp...)
		i := e.rng.IntN(8 * len(e.flipped))
		e.flipped[i/8] ^= 0x80 >> (i % 8)
		e.out = e.flipped
		e.stats.ResponseFlips++
	}
	e.dropDR = flt.DropReady > 0 && e.rng.Float64() < flt.DropReady
	if e.dropDR {
		e.stats.DroppedReady++
	}
	e.pending = true
	if !e.cfg.Clocked {
		e.nowPs = e.readyPs // the host waited for it
	}
	e.release()
}

// release makes a computed response readable once its time has come.
func (e *Emulator) release() {
	if !e.pending || e.nowPs < e.readyPs {
		return
	}
	e.pending, e.have = false, true
	if !e.dropDR {
		e.setReady(true)
	}
}

// reachesStep says whether req is a RUN the chip would execute that
// takes its step counter to step or past it.
func (e *Emulator) reachesStep(req []byte, step int64) bool {
	f, _, err := protocol.Decode(req)
	if err != nil || f.Type() != protocol.TypeRun || len(f.Payload()) < 2 || e.chip.Engine() == nil || e.chip.Repeats(f) {
		return false
	}
	steps := int64(binary.LittleEndian.Uint16(f.Payload()))
	now := e.chip.Now()
	return now < step && now+steps >= step
}

// Exchange hands one request frame to the chip without the bus, as the
// stream server does, and returns a copy of the response appended to
// dst, or dst unchanged when none comes: an injected reset, or a
// dropped data-ready (on a stream the response is lost). The emulated
// clock moves by the compute time only.
func (e *Emulator) Exchange(req, dst []byte) ([]byte, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := copy(e.rx[:], req)
	e.stats.BytesIn += uint64(n)
	e.handle(e.rx[:n])
	if e.pending {
		e.nowPs = e.readyPs
		e.release()
	}
	if !e.have || e.dropDR {
		e.dropResponse()
		return dst, false
	}
	e.stats.BytesOut += uint64(len(e.out))
	dst = append(dst, e.out...)
	e.dropResponse()
	return dst, true
}

// Drop answers a frame a stream's protocol.Reader refused (a NAK of its
// code with sequence number 0), appended to dst.
func (e *Emulator) Drop(err error, dst []byte) []byte {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.chip.Drop(err, dst)
}

var _ sim.Chip = (*Emulator)(nil)
