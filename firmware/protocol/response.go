package protocol

import (
	"encoding/binary"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// HelloOK answers HELLO: who the chip is.
//
//	0  1   protocol version the firmware speaks
//	1  4   firmware version, uint32 (major<<16 | minor<<8 | patch)
//	5  2   image format version the firmware reads (firmware/image.Version)
//	7  8   kinds: bit k set iff the firmware runs image.Kind k (KindBit)
//	15 4   memory: bytes available to an image's runtime (engine RAM)
//	19 4   boot counter: incremented at every power-up or reset of the chip
//	23 2   the largest payload the chip accepts (<= MaxPayload)
type HelloOK struct {
	Protocol     uint8
	Firmware     uint32
	ImageVersion uint16
	Kinds        uint64
	Memory       uint32
	BootCount    uint32
	MaxPayload   uint16
}

// Supports says whether the chip runs populations of kind k.
func (m *HelloOK) Supports(k image.Kind) bool { return m.Kinds&KindBit(k) != 0 }

func (*HelloOK) Type() Type { return TypeHelloOK }

func (m *HelloOK) Marshal(dst []byte) []byte {
	dst = append(dst, m.Protocol)
	dst = appendU32(dst, m.Firmware)
	dst = appendU16(dst, m.ImageVersion)
	dst = appendU64(dst, m.Kinds)
	dst = appendU32(dst, m.Memory)
	dst = appendU32(dst, m.BootCount)
	return appendU16(dst, m.MaxPayload)
}

func (m *HelloOK) Unmarshal(f Frame) error {
	d, err := start(f, TypeHelloOK)
	if err != nil {
		return err
	}
	m.Protocol = d.u8("protocol")
	m.Firmware = d.u32("firmware")
	m.ImageVersion = d.u16("image_version")
	m.Kinds = d.u64("kinds")
	m.Memory = d.u32("memory")
	m.BootCount = d.u32("boot_count")
	m.MaxPayload = d.u16("max_payload")
	return d.done()
}

// Ack answers IMAGE_BEGIN, IMAGE_CHUNK, IMAGE_COMMIT, SET and RESET.
//
//	0  8   value, uint64: IMAGE_CHUNK: the image bytes received so far;
//	       IMAGE_COMMIT: the bytes of RAM the loaded image uses; else 0
type Ack struct {
	Value uint64
}

func (*Ack) Type() Type { return TypeAck }

func (m *Ack) Marshal(dst []byte) []byte { return appendU64(dst, m.Value) }

func (m *Ack) Unmarshal(f Frame) error {
	d, err := start(f, TypeAck)
	if err != nil {
		return err
	}
	m.Value = d.u64("value")
	return d.done()
}

// Spike is one recorded spike of a SpikeList: population Pop, unit
// Unit, stamp list.Base + Off (a spike of step k has stamp k+1).
type Spike struct {
	Off  uint16
	Pop  uint16
	Unit uint32
}

// SpikeList is a list of spikes whose stamps lie within 65535 steps of
// Base (a chip cuts a longer list; the rest stays pending).
//
//	0  8   base stamp, int64
//	8  2   n, uint16
//	10 8n  spikes: offset uint16, population uint16, unit uint32
type SpikeList struct {
	Base   int64
	Spikes []Spike
}

// SpikeSize is a spike's size on the wire.
const SpikeSize = 8

// Stamp is the stamp of s.
func (l *SpikeList) Stamp(s Spike) int64 { return l.Base + int64(s.Off) }

func (l *SpikeList) marshal(dst []byte) []byte {
	dst = appendI64(dst, l.Base)
	dst = appendU16(dst, uint16(len(l.Spikes)))
	for _, s := range l.Spikes {
		dst = appendU16(dst, s.Off)
		dst = appendU16(dst, s.Pop)
		dst = appendU32(dst, s.Unit)
	}
	return dst
}

func (l *SpikeList) unmarshal(d *dec) {
	l.Base = d.i64("spikes.base")
	n := d.count(uint64(d.u16("spikes.n")), SpikeSize, "spikes.n")
	p := d.take(SpikeSize*n, "spikes")
	if p == nil {
		l.Spikes = l.Spikes[:0]
		return
	}
	l.Spikes = grow(l.Spikes, n)
	for i := range l.Spikes {
		q := p[SpikeSize*i:]
		l.Spikes[i] = Spike{
			Off:  binary.LittleEndian.Uint16(q),
			Pop:  binary.LittleEndian.Uint16(q[2:]),
			Unit: binary.LittleEndian.Uint32(q[4:]),
		}
	}
}

// RunOK answers RUN: the chip's step counter after the run, the adds
// that saturated during it, and the spikes recorded (by the image's
// monitors) during it, as many as fit; Pending more wait for READ
// spikes.
//
//	0  8   now: steps run since t = 0, int64
//	8  4   saturations during the run, uint32
//	12 4   pending: spikes recorded and not in this frame, uint32
//	16     spike list (SpikeList)
type RunOK struct {
	Now         int64
	Saturations uint32
	Pending     uint32
	Spikes      SpikeList
}

func (*RunOK) Type() Type { return TypeRunOK }

func (m *RunOK) Marshal(dst []byte) []byte {
	dst = appendI64(dst, m.Now)
	dst = appendU32(dst, m.Saturations)
	dst = appendU32(dst, m.Pending)
	return m.Spikes.marshal(dst)
}

func (m *RunOK) Unmarshal(f Frame) error {
	d, err := start(f, TypeRunOK)
	if err != nil {
		return err
	}
	m.Now = d.i64("now")
	m.Saturations = d.u32("saturations")
	m.Pending = d.u32("pending")
	m.Spikes.unmarshal(&d)
	return d.done()
}

// ReadOK answers READ. The header repeats the request's what, pop,
// index and first; the body depends on what:
//
//	0  1   what (ReadWhat)
//	1  2   pop
//	3  2   index
//	5  4   first
//	9  4   pending: spikes (ReadSpikes) or rows (ReadTrace) left on the chip; else 0
//	13     ReadSpikes:   spike list (SpikeList)
//	       ReadCounters: n uint32, n uint64 counters
//	       ReadTrace:    width uint32, rows uint32, then per row: stamp int64, width int32 values
//	       ReadState:    n uint32, n int32 values
type ReadOK struct {
	What    ReadWhat
	Pop     uint16
	Index   uint16
	First   uint32
	Pending uint32

	Spikes   SpikeList // ReadSpikes
	Counters []uint64  // ReadCounters
	Width    uint32    // ReadTrace: values per row
	Stamps   []int64   // ReadTrace: one per row
	Values   []int32   // ReadState: one per unit; ReadTrace: len(Stamps)·Width, row-major
}

func (*ReadOK) Type() Type { return TypeReadOK }

func (m *ReadOK) Marshal(dst []byte) []byte {
	dst = append(dst, byte(m.What))
	dst = appendU16(dst, m.Pop)
	dst = appendU16(dst, m.Index)
	dst = appendU32(dst, m.First)
	dst = appendU32(dst, m.Pending)
	switch m.What {
	case ReadSpikes:
		dst = m.Spikes.marshal(dst)
	case ReadCounters:
		dst = appendU32(dst, uint32(len(m.Counters)))
		for _, c := range m.Counters {
			dst = appendU64(dst, c)
		}
	case ReadTrace:
		dst = appendU32(dst, m.Width)
		dst = appendU32(dst, uint32(len(m.Stamps)))
		w := int(m.Width)
		for r, s := range m.Stamps {
			dst = appendI64(dst, s)
			dst = appendI32s(dst, m.Values[r*w:(r+1)*w])
		}
	case ReadState:
		dst = appendU32(dst, uint32(len(m.Values)))
		dst = appendI32s(dst, m.Values)
	}
	return dst
}

func (m *ReadOK) Unmarshal(f Frame) error {
	d, err := start(f, TypeReadOK)
	if err != nil {
		return err
	}
	m.What = d.what()
	m.Pop = d.u16("pop")
	m.Index = d.u16("index")
	m.First = d.u32("first")
	m.Pending = d.u32("pending")
	m.Spikes.Base, m.Spikes.Spikes = 0, m.Spikes.Spikes[:0]
	m.Counters, m.Width, m.Stamps, m.Values = m.Counters[:0], 0, m.Stamps[:0], m.Values[:0]
	if d.err != nil {
		return d.err
	}
	switch m.What {
	case ReadSpikes:
		m.Spikes.unmarshal(&d)
	case ReadCounters:
		n := d.count(uint64(d.u32("n")), 8, "n")
		if p := d.take(8*n, "counters"); p != nil {
			m.Counters = grow(m.Counters, n)
			for i := range m.Counters {
				m.Counters[i] = binary.LittleEndian.Uint64(p[8*i:])
			}
		}
	case ReadTrace:
		m.Width = d.u32("width")
		// A row is a stamp and Width values; count the rows against the
		// bytes left in uint64, where 8+4·Width cannot overflow.
		rowSize := 8 + 4*uint64(m.Width)
		nr := uint64(d.u32("rows"))
		if d.err == nil && nr > uint64(len(d.b))/rowSize {
			d.fail("rows", int64(nr), "count "+utoa(nr)+" of "+utoa(rowSize)+"-byte rows, "+
				itoa(int64(len(d.b)))+" bytes left")
		}
		if d.err != nil {
			m.Width = 0
			break
		}
		rows := int(nr)
		m.Stamps = grow(m.Stamps, rows)
		m.Values = grow(m.Values, rows*int(m.Width))
		w := int(m.Width)
		for r := range m.Stamps {
			m.Stamps[r] = d.i64("stamp")
			p := d.take(4*w, "values")
			if p == nil {
				break
			}
			row := m.Values[r*w : (r+1)*w]
			for i := range row {
				row[i] = int32(binary.LittleEndian.Uint32(p[4*i:]))
			}
		}
	case ReadState:
		n := d.count(uint64(d.u32("n")), 4, "n")
		m.Values = d.int32s(m.Values, n, "values")
	}
	return d.done()
}

// ImageState is how far a chip is with its image.
type ImageState uint8

// The image states. The numbers are part of the wire format.
const (
	ImageNone      ImageState = 0 // no image: RUN, READ, SET, RESET get CodeNoImage
	ImageReceiving ImageState = 1 // between IMAGE_BEGIN and IMAGE_COMMIT
	ImageLoaded    ImageState = 2 // an image runs
)

// StatusOK answers STATUS: the chip's state and its counters since boot.
//
//	0  8   now: steps run since t = 0, int64
//	8  4   boot counter, uint32
//	12 1   image state (ImageState)
//	13 4   frames: requests received and checked, uint32
//	17 4   crc errors: frames dropped for a CRC mismatch, uint32
//	21 4   bad frames: dropped for a bad version or length, uint32
//	25 4   naks sent, uint32
//	29 4   replays: repeated requests answered from the last response, uint32
//	33 4   resets: RESET requests executed, uint32
//	37 4   dropped: spikes or trace rows lost to a full record buffer, uint32
//	41 2   n populations, uint16
//	43 8n  saturated adds per population since t = 0, uint64
type StatusOK struct {
	Now         int64
	BootCount   uint32
	Image       ImageState
	Frames      uint32
	CRCErrors   uint32
	BadFrames   uint32
	Naks        uint32
	Replays     uint32
	Resets      uint32
	Dropped     uint32
	Saturations []uint64 // per population
}

func (*StatusOK) Type() Type { return TypeStatusOK }

func (m *StatusOK) Marshal(dst []byte) []byte {
	dst = appendI64(dst, m.Now)
	dst = appendU32(dst, m.BootCount)
	dst = append(dst, byte(m.Image))
	for _, c := range [...]uint32{m.Frames, m.CRCErrors, m.BadFrames, m.Naks, m.Replays, m.Resets, m.Dropped} {
		dst = appendU32(dst, c)
	}
	dst = appendU16(dst, uint16(len(m.Saturations)))
	for _, s := range m.Saturations {
		dst = appendU64(dst, s)
	}
	return dst
}

func (m *StatusOK) Unmarshal(f Frame) error {
	d, err := start(f, TypeStatusOK)
	if err != nil {
		return err
	}
	m.Now = d.i64("now")
	m.BootCount = d.u32("boot_count")
	m.Image = ImageState(d.u8("image"))
	if d.err == nil && m.Image > ImageLoaded {
		d.fail("image", int64(m.Image), "want 0 (none), 1 (receiving) or 2 (loaded)")
	}
	m.Frames = d.u32("frames")
	m.CRCErrors = d.u32("crc_errors")
	m.BadFrames = d.u32("bad_frames")
	m.Naks = d.u32("naks")
	m.Replays = d.u32("replays")
	m.Resets = d.u32("resets")
	m.Dropped = d.u32("dropped")
	n := d.count(uint64(d.u16("n")), 8, "n")
	m.Saturations = m.Saturations[:0]
	if d.err == nil {
		m.Saturations = grow(m.Saturations, n)
		for i := range m.Saturations {
			m.Saturations[i] = d.u64("saturations")
		}
	}
	return d.done()
}

// Nak refuses a request: the code, the request's type, a value (the
// offending one, or what was expected: the next image offset for
// CodeImageOffset, the chip's protocol version for CodeVersion) and a
// short text (an image's validation error names its field there).
//
//	0  1   code (Code), >= 1
//	1  1   the request's type
//	2  8   value, int64
//	10 1   text length n
//	11 n   text, ASCII
type Nak struct {
	Code    Code
	Request Type
	Value   int64
	Text    []byte // after Unmarshal: a view into the frame's payload
}

// MaxNakText is the longest NAK text.
const MaxNakText = 255

func (*Nak) Type() Type { return TypeNak }

// Marshal cuts Text to MaxNakText bytes.
func (m *Nak) Marshal(dst []byte) []byte {
	t := m.Text
	if len(t) > MaxNakText {
		t = t[:MaxNakText]
	}
	dst = append(dst, byte(m.Code), byte(m.Request))
	dst = appendI64(dst, m.Value)
	dst = append(dst, byte(len(t)))
	return append(dst, t...)
}

func (m *Nak) Unmarshal(f Frame) error {
	d, err := start(f, TypeNak)
	if err != nil {
		return err
	}
	m.Code = Code(d.u8("code"))
	if d.err == nil && m.Code == 0 {
		d.fail("code", 0, "a NAK has a nonzero code")
	}
	m.Request = Type(d.u8("request"))
	m.Value = d.i64("value")
	n := d.count(uint64(d.u8("text_length")), 1, "text_length")
	m.Text = d.take(n, "text")
	return d.done()
}

// Err is the refusal as an error (copying the text, which the frame's
// buffer will overwrite): "chip refused IMAGE_COMMIT: image invalid:
// pops[2].size: 0" ; errors.Is(err, m.Code) holds.
func (m *Nak) Err() error {
	return &Refused{Code: m.Code, Request: m.Request, Value: m.Value, Text: string(m.Text)}
}

// Refused is a NAK as an error.
type Refused struct {
	Code    Code
	Request Type
	Value   int64
	Text    string
}

func (e *Refused) Error() string {
	s := "chip refused " + e.Request.String() + ": " + e.Code.String()
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// Is makes errors.Is(err, CodeX) true for a refusal with code X.
func (e *Refused) Is(target error) bool {
	c, ok := target.(Code)
	return ok && c == e.Code
}
