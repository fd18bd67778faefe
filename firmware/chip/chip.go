// Package chip is the APU firmware's main logic: request frames in,
// the fixed-point engine, response frames out. It answers HELLO, takes
// an image in chunks (IMAGE_BEGIN, IMAGE_CHUNK, IMAGE_COMMIT: SHA-256
// checked, image.Decode, engine.New), runs steps with their inputs
// (RUN), gives recorded spikes, traces, counters and states (READ),
// changes generator settings (SET), goes back to t = 0 (RESET) and
// reports its counters (STATUS), as firmware/README.md ("Frame
// protocol") describes byte by byte.
//
// A request repeated with the same sequence number and CRC is answered
// from the kept last response and never executed twice. A frame that
// fails its checks (sync, version, length, CRC) or its payload's gets a
// NAK with its code and changes nothing else than the counters.
//
// Every buffer is bounded and made at New or at an image's load: the
// request and response frames (MaxFrame each), the image being received
// (at most Config.Memory bytes), the spikes and trace rows waiting for
// the host. A RUN allocates nothing once its buffers have grown
// (TestRunAllocs).
//
// This package is firmware: it imports only the standard library's
// portable parts and firmware packages, and has no maps, fmt,
// reflection or goroutines (firmware/imports_test.go). A Chip is not
// safe for concurrent use: the emulator serialises its calls.
package chip

import (
	"crypto/sha256"

	"github.com/spikeloop/spikeloop/firmware/engine"
	"github.com/spikeloop/spikeloop/firmware/image"
	"github.com/spikeloop/spikeloop/firmware/protocol"
)

// Version is the firmware version this package is, as HELLO_OK gives
// it: major<<16 | minor<<8 | patch.
const Version = 1 << 16 // 1.0.0

// Defaults of Config's zero fields.
const (
	DefaultMemory = 16 << 20 // bytes for an image and its run-time state
	DefaultSpikes = 1 << 16  // spikes waiting for the host
	DefaultValues = 1 << 16  // trace values waiting for the host
)

// Config sets a chip's limits. Zero fields take the defaults.
type Config struct {
	// Firmware is the version HELLO_OK reports (default Version).
	Firmware uint32
	// Memory bounds an image's bytes plus the run-time state the engine
	// needs for it (engine.RAM): an IMAGE_BEGIN announcing more is
	// refused with code 10, and so is a commit whose image and state
	// together pass it.
	Memory uint32
	// MaxPayload is the largest payload the chip accepts and sends, at
	// most protocol.MaxPayload (the default).
	MaxPayload int
	// BootCount is the boot counter at power-up.
	BootCount uint32
	// Spikes bounds the recorded spikes waiting to be sent; more are
	// dropped and counted (STATUS_OK's dropped).
	Spikes int
	// Values bounds the recorded trace values (rows times their width)
	// waiting to be read; rows beyond are dropped and counted.
	Values int
}

func (c *Config) defaults() {
	if c.Firmware == 0 {
		c.Firmware = Version
	}
	if c.Memory == 0 {
		c.Memory = DefaultMemory
	}
	if c.MaxPayload <= 0 || c.MaxPayload > protocol.MaxPayload {
		c.MaxPayload = protocol.MaxPayload
	}
	if c.Spikes <= 0 {
		c.Spikes = DefaultSpikes
	}
	if c.Values <= 0 {
		c.Values = DefaultValues
	}
}

// Chip is one APU's firmware state: the image, the engine, the kept
// last response and the counters.
type Chip struct {
	cfg Config

	// The kept last response and the request it answered (the
	// sequence-number rule). last is empty when nothing is kept.
	last    []byte
	lastSeq uint16
	lastCRC uint32
	nak     []byte // a NAK for a dropped frame (not kept)

	// Image upload.
	state   protocol.ImageState
	imgBuf  []byte
	imgSize uint32
	imgHash [32]byte

	img *image.Image
	eng *engine.Engine

	// Records waiting for the host.
	spikes   spikeQueue
	scratch  []engine.Spike
	rows     []engine.Row // trace rows waiting, oldest first
	vals     []int32      // their values, row after row
	rowsTmp  []engine.Row
	valsTmp  []int32
	emitted  []uint64 // per population: spikes recorded since t = 0
	sats     []uint64 // STATUS_OK's per-population saturations
	dropped  uint64   // records lost to a full buffer since t = 0 (chip side)
	engDrops uint64   // the engine's Dropped at the last drain

	// SET staging: a unit row or a Custom table sent in several frames.
	stage      []int32
	stagePop   int
	stageOp    protocol.SetOp
	stageRow   uint8
	stageWidth uint32

	// Counters since boot (STATUS_OK).
	frames, crcErrors, badFrames, naks, replays, resets uint32

	// Decoded requests and responses, kept so that their slices are
	// reused.
	run    protocol.Run
	runOK  protocol.RunOK
	read   protocol.Read
	readOK protocol.ReadOK
	set    protocol.Set
	status protocol.StatusOK
	hello  protocol.HelloOK
	ack    protocol.Ack
}

// New returns a chip with no image, as it is at power-up.
func New(cfg Config) *Chip {
	cfg.defaults()
	c := &Chip{cfg: cfg}
	c.last = make([]byte, 0, protocol.MaxFrame)
	c.nak = make([]byte, 0, protocol.Overhead+11+protocol.MaxNakText)
	c.runOK.Spikes.Spikes = make([]protocol.Spike, 0, c.maxSpikesPerFrame(26))
	c.readOK.Spikes.Spikes = make([]protocol.Spike, 0, c.maxSpikesPerFrame(13))
	return c
}

// Config is the chip's configuration with the defaults filled in.
func (c *Chip) Config() Config { return c.cfg }

// BootCount is the chip's boot counter.
func (c *Chip) BootCount() uint32 { return c.cfg.BootCount }

// Now is the loaded engine's step counter (0 without an image).
func (c *Chip) Now() int64 {
	if c.eng == nil {
		return 0
	}
	return c.eng.Now()
}

// Engine is the loaded engine, nil without an image (for tests and the
// emulator's timing model; the host reaches it only through frames).
func (c *Chip) Engine() *engine.Engine { return c.eng }

// Reboot is a power cycle or a reset through the reset line: the image,
// the state, the kept response and the counters are lost, and the boot
// counter goes up by one.
func (c *Chip) Reboot() {
	cfg := c.cfg
	cfg.BootCount++
	*c = *New(cfg)
}

// Handle answers one received request: req holds the bytes of one frame
// from its first sync byte (bytes after the frame are ignored). The
// response frame is appended to dst and the extended slice returned.
// Every request gets exactly one response.
func (c *Chip) Handle(req, dst []byte) []byte {
	f, _, err := protocol.Decode(req)
	if err != nil {
		return c.Drop(err, dst)
	}
	return c.Frame(f, dst)
}

// Drop answers a frame that failed its checks (err from protocol.Decode
// or Reader.Next: CodeCRC, CodeSync, CodeVersion, CodeTooLong,
// CodeShort): it is counted and answered by a NAK of that code with
// sequence number 0, and nothing else changes (it is not remembered as
// the last request, so its resend is executed).
func (c *Chip) Drop(err error, dst []byte) []byte {
	code := codeOf(err)
	if code == protocol.CodeCRC {
		c.crcErrors++
	} else {
		c.badFrames++
	}
	c.naks++
	var v int64
	if code == protocol.CodeVersion {
		v = protocol.Version
	}
	n := protocol.Nak{Code: code, Value: v}
	c.nak, _ = protocol.Append(c.nak[:0], 0, &n)
	return append(dst, c.nak...)
}

// codeOf is the protocol code of a frame check's error.
func codeOf(err error) protocol.Code {
	switch e := err.(type) {
	case protocol.Code:
		return e
	case *protocol.Error:
		return e.Code
	}
	return protocol.CodeInternal
}

// Frame answers a checked frame (from protocol.Decode or Reader.Next)
// and appends the response to dst.
func (c *Chip) Frame(f protocol.Frame, dst []byte) []byte {
	if len(f.Payload()) > c.cfg.MaxPayload {
		return c.Drop(protocol.CodeTooLong, dst)
	}
	c.frames++
	if len(c.last) > 0 && f.Seq() == c.lastSeq {
		if f.CRC() == c.lastCRC {
			c.replays++
			return append(dst, c.last...)
		}
		// Not executed, and the kept response stays for a true repeat.
		c.naks++
		n := protocol.Nak{Code: protocol.CodeSequence, Request: f.Type(), Value: int64(f.Seq()),
			Text: []byte("sequence number of the last request, with another CRC")}
		c.nak, _ = protocol.Append(c.nak[:0], f.Seq(), &n)
		return append(dst, c.nak...)
	}
	c.last = c.execute(f, c.last[:0])
	c.lastSeq, c.lastCRC = f.Seq(), f.CRC()
	return append(dst, c.last...)
}

// refusal is a request's NAK before it is framed.
type refusal struct {
	code  protocol.Code
	value int64
	text  string
}

func refuse(code protocol.Code, value int64, text string) *refusal {
	return &refusal{code, value, text}
}

// payloadErr turns a payload's decoding error into a refusal.
func payloadErr(err error) *refusal {
	if e, ok := err.(*protocol.Error); ok {
		return &refusal{e.Code, e.Value, e.Error()}
	}
	return &refusal{protocol.CodePayload, 0, err.Error()}
}

// execute runs the request f and writes its response frame to dst.
func (c *Chip) execute(f protocol.Frame, dst []byte) []byte {
	seq := f.Seq()
	var (
		p   protocol.Payload
		r   *refusal
		ack = &c.ack
	)
	ack.Value = 0
	switch f.Type() {
	case protocol.TypeHello:
		var h protocol.Hello
		if err := h.Unmarshal(f); err != nil {
			r = payloadErr(err)
			break
		}
		c.hello = protocol.HelloOK{
			Protocol:     protocol.Version,
			Firmware:     c.cfg.Firmware,
			ImageVersion: image.Version,
			Kinds:        Kinds,
			Memory:       c.cfg.Memory,
			BootCount:    c.cfg.BootCount,
			MaxPayload:   uint16(c.cfg.MaxPayload),
		}
		p = &c.hello
	case protocol.TypeImageBegin:
		ack.Value, r = c.imageBegin(f)
		p = ack
	case protocol.TypeImageChunk:
		ack.Value, r = c.imageChunk(f)
		p = ack
	case protocol.TypeImageCommit:
		ack.Value, r = c.imageCommit(f)
		p = ack
	case protocol.TypeRun:
		r = c.doRun(f)
		p = &c.runOK
	case protocol.TypeRead:
		r = c.doRead(f)
		p = &c.readOK
	case protocol.TypeSet:
		ack.Value, r = c.doSet(f)
		p = ack
	case protocol.TypeReset:
		var m protocol.Reset
		if err := m.Unmarshal(f); err != nil {
			r = payloadErr(err)
		} else if c.eng == nil {
			r = refuse(protocol.CodeNoImage, 0, "RESET needs a loaded image")
		} else {
			c.resetRun()
			c.resets++
		}
		p = ack
	case protocol.TypeStatus:
		var m protocol.Status
		if err := m.Unmarshal(f); err != nil {
			r = payloadErr(err)
			break
		}
		c.fillStatus()
		p = &c.status
	default:
		what := "type: must be a request type (1..9), got " + utoa(uint64(f.Type()))
		if f.Type().Known() {
			what += " (" + f.Type().String() + ", a response)"
		}
		r = refuse(protocol.CodeType, int64(f.Type()), what)
	}
	if r != nil {
		c.naks++
		n := protocol.Nak{Code: r.code, Request: f.Type(), Value: r.value, Text: []byte(r.text)}
		out, _ := protocol.Append(dst, seq, &n)
		return out
	}
	out, err := protocol.Append(dst, seq, p)
	if err != nil {
		// Responses are sized to fit; this is a firmware bug.
		c.naks++
		n := protocol.Nak{Code: protocol.CodeInternal, Request: f.Type(), Text: []byte("response too long")}
		out, _ = protocol.Append(dst, seq, &n)
	}
	return out
}

// Kinds is HELLO_OK's kinds: every population kind the engine runs.
const Kinds = 1<<image.KindLIF | 1<<image.KindExpLIF | 1<<image.KindIzhikevich |
	1<<image.KindSNNIF | 1<<image.KindSNNLIF | 1<<image.KindDC | 1<<image.KindPoisson |
	1<<image.KindBernoulli | 1<<image.KindSpike | 1<<image.KindCustom | 1<<image.KindInput

// The image upload.

func (c *Chip) dropImage() {
	c.img, c.eng = nil, nil
	c.state = protocol.ImageNone
}

func (c *Chip) imageBegin(f protocol.Frame) (uint64, *refusal) {
	var m protocol.ImageBegin
	if err := m.Unmarshal(f); err != nil {
		return 0, payloadErr(err)
	}
	if m.Size > c.cfg.Memory {
		return 0, refuse(protocol.CodeImageSize, int64(m.Size),
			"size: must be at most the chip's memory, "+utoa(uint64(c.cfg.Memory))+" bytes, got "+utoa(uint64(m.Size)))
	}
	c.dropImage()
	if uint32(cap(c.imgBuf)) < m.Size {
		c.imgBuf = make([]byte, 0, m.Size)
	}
	c.imgBuf = c.imgBuf[:0]
	c.imgSize, c.imgHash = m.Size, m.SHA256
	c.state = protocol.ImageReceiving
	return 0, nil
}

func (c *Chip) imageChunk(f protocol.Frame) (uint64, *refusal) {
	var m protocol.ImageChunk
	if err := m.Unmarshal(f); err != nil {
		return 0, payloadErr(err)
	}
	if c.state != protocol.ImageReceiving {
		return 0, refuse(protocol.CodeState, int64(m.Offset), "IMAGE_CHUNK without IMAGE_BEGIN")
	}
	got := uint32(len(c.imgBuf))
	if m.Offset != got {
		return 0, refuse(protocol.CodeImageOffset, int64(got),
			"offset: must be "+utoa(uint64(got))+" (the bytes received), got "+utoa(uint64(m.Offset)))
	}
	if uint64(got)+uint64(len(m.Data)) > uint64(c.imgSize) {
		return 0, refuse(protocol.CodeImageOffset, int64(got),
			"data: must end within the announced "+utoa(uint64(c.imgSize))+" bytes, got "+
				utoa(uint64(len(m.Data)))+" bytes at offset "+utoa(uint64(got)))
	}
	c.imgBuf = append(c.imgBuf, m.Data...)
	return uint64(len(c.imgBuf)), nil
}

func (c *Chip) imageCommit(f protocol.Frame) (uint64, *refusal) {
	var m protocol.ImageCommit
	if err := m.Unmarshal(f); err != nil {
		return 0, payloadErr(err)
	}
	if c.state != protocol.ImageReceiving {
		return 0, refuse(protocol.CodeState, 0, "IMAGE_COMMIT without IMAGE_BEGIN")
	}
	got := uint32(len(c.imgBuf))
	// Every failure below drops the upload: the host starts again with
	// IMAGE_BEGIN.
	if got != c.imgSize {
		c.dropImage()
		return 0, refuse(protocol.CodeImageHash, int64(got),
			"size: the bytes received must be the announced "+utoa(uint64(c.imgSize))+", got "+utoa(uint64(got)))
	}
	if m.SHA256 != c.imgHash {
		c.dropImage()
		return 0, refuse(protocol.CodeImageHash, 0, "sha256: must be IMAGE_BEGIN's, got another")
	}
	if sha256.Sum256(c.imgBuf) != c.imgHash {
		c.dropImage()
		return 0, refuse(protocol.CodeImageHash, 0, "sha256: the received bytes' must be the announced one, got another")
	}
	img, err := image.Decode(c.imgBuf)
	if err != nil {
		c.dropImage()
		return 0, refuse(protocol.CodeImageInvalid, 0, err.Error())
	}
	if len(img.Pops) > 1<<16 {
		// The frames number populations in 16 bits.
		c.dropImage()
		return 0, refuse(protocol.CodeImageInvalid, int64(len(img.Pops)),
			"pops: must be at most 65536 populations, got "+itoa(int64(len(img.Pops))))
	}
	need := uint64(got) + uint64(engine.RAM(img))
	if need > uint64(c.cfg.Memory) {
		c.dropImage()
		return 0, refuse(protocol.CodeImageSize, int64(need),
			"memory: image and state must fit the chip's "+utoa(uint64(c.cfg.Memory))+" bytes, got "+utoa(need))
	}
	eng, err := engine.New(img)
	if err != nil {
		c.dropImage()
		return 0, refuse(protocol.CodeImageInvalid, 0, err.Error())
	}
	c.load(img, eng)
	return need, nil
}

// load makes eng the running engine at t = 0, with record buffers for
// its image.
func (c *Chip) load(img *image.Image, eng *engine.Engine) {
	c.img, c.eng = img, eng
	c.state = protocol.ImageLoaded
	n := len(img.Pops)
	c.emitted = make([]uint64, n)
	c.sats = make([]uint64, n)
	c.spikes.init(c.cfg.Spikes)
	c.rows = make([]engine.Row, 0, c.cfg.Values)
	c.vals = make([]int32, 0, c.cfg.Values)
	c.stage = c.stage[:0]
	c.resetRun()
}

// resetRun puts the engine and the records back to t = 0.
func (c *Chip) resetRun() {
	c.eng.Reset()
	c.spikes.clear()
	c.rows, c.vals = c.rows[:0], c.vals[:0]
	clear(c.emitted)
	c.dropped, c.engDrops = 0, 0
	c.stage = c.stage[:0]
	c.drain() // the monitors' initial rows
}

// drain moves the engine's records into the chip's queues, dropping
// (and counting) what does not fit.
func (c *Chip) drain() {
	c.scratch = c.eng.DrainSpikes(c.scratch[:0])
	for _, s := range c.scratch {
		c.emitted[s.Pop]++
		if !c.spikes.push(s) {
			c.dropped++
		}
	}
	c.rowsTmp, c.valsTmp = c.eng.DrainRows(c.rowsTmp[:0], c.valsTmp[:0])
	off := 0
	for _, r := range c.rowsTmp {
		v := c.valsTmp[off : off+int(r.N)]
		off += int(r.N)
		if len(c.rows) == cap(c.rows) || cap(c.vals)-len(c.vals) < len(v) {
			c.dropped++
			continue
		}
		c.rows = append(c.rows, r)
		c.vals = append(c.vals, v...)
	}
	if d := c.eng.Dropped(); d != c.engDrops {
		c.dropped += d - c.engDrops
		c.engDrops = d
	}
}

func (c *Chip) maxSpikesPerFrame(header int) int {
	return (c.cfg.MaxPayload - header - 10) / protocol.SpikeSize
}

// takeSpikes moves the oldest waiting spikes, as many as fit in a
// frame with header bytes before the spike list (at most max when max
// > 0) and within 65535 steps of the first, into l.
func (c *Chip) takeSpikes(l *protocol.SpikeList, header int, max uint32) {
	l.Spikes = l.Spikes[:0]
	l.Base = 0
	limit := c.maxSpikesPerFrame(header)
	if max > 0 && uint64(max) < uint64(limit) {
		limit = int(max)
	}
	if c.spikes.len() == 0 {
		return
	}
	l.Base = c.spikes.peek().Stamp
	for len(l.Spikes) < limit && c.spikes.len() > 0 {
		s := c.spikes.peek()
		d := s.Stamp - l.Base
		if d < 0 || d > 0xFFFF {
			break
		}
		l.Spikes = append(l.Spikes, protocol.Spike{Off: uint16(d), Pop: uint16(s.Pop), Unit: s.Unit})
		c.spikes.pop()
	}
}

func utoa(v uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
		if v == 0 {
			break
		}
	}
	return string(buf[i:])
}

func itoa(v int64) string {
	if v < 0 {
		return "-" + utoa(uint64(-v))
	}
	return utoa(uint64(v))
}

// Repeats says whether f would be answered from the kept response (a
// repeat of the last request) rather than executed.
func (c *Chip) Repeats(f protocol.Frame) bool {
	return len(c.last) > 0 && f.Seq() == c.lastSeq && f.CRC() == c.lastCRC
}
