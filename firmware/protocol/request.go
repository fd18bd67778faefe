package protocol

import "github.com/spikeloop/spikeloop/firmware/image"

// Hello asks the chip who it is (answered by HELLO_OK). Empty payload.
type Hello struct{}

func (*Hello) Type() Type                { return TypeHello }
func (*Hello) Marshal(dst []byte) []byte { return dst }
func (*Hello) Unmarshal(f Frame) error   { return empty(f, TypeHello) }

// Reset puts the loaded network back to t = 0 (answered by ACK). Empty
// payload.
type Reset struct{}

func (*Reset) Type() Type                { return TypeReset }
func (*Reset) Marshal(dst []byte) []byte { return dst }
func (*Reset) Unmarshal(f Frame) error   { return empty(f, TypeReset) }

// Status asks for the chip's counters (answered by STATUS_OK). Empty
// payload.
type Status struct{}

func (*Status) Type() Type                { return TypeStatus }
func (*Status) Marshal(dst []byte) []byte { return dst }
func (*Status) Unmarshal(f Frame) error   { return empty(f, TypeStatus) }

func empty(f Frame, t Type) error {
	d, err := start(f, t)
	if err != nil {
		return err
	}
	return d.done()
}

// ImageBegin announces an image upload: its size in bytes and its
// SHA-256. It drops any image the chip held.
//
//	0  4   size, uint32, >= 1
//	4  32  SHA-256 of the image's bytes
type ImageBegin struct {
	Size   uint32
	SHA256 [32]byte
}

func (*ImageBegin) Type() Type { return TypeImageBegin }

func (m *ImageBegin) Marshal(dst []byte) []byte {
	return append(appendU32(dst, m.Size), m.SHA256[:]...)
}

func (m *ImageBegin) Unmarshal(f Frame) error {
	d, err := start(f, TypeImageBegin)
	if err != nil {
		return err
	}
	m.Size = d.u32("size")
	if d.err == nil && m.Size == 0 {
		d.fail("size", 0, "an image has at least one byte")
	}
	copy(m.SHA256[:], d.take(32, "sha256"))
	return d.done()
}

// ImageChunk carries image bytes from Offset on. Chunks go in order:
// Offset is the number of bytes the chip has received.
//
//	0  4   offset, uint32
//	4  n   data, n >= 1 (the rest of the payload)
type ImageChunk struct {
	Offset uint32
	Data   []byte // after Unmarshal: a view into the frame's payload
}

func (*ImageChunk) Type() Type { return TypeImageChunk }

func (m *ImageChunk) Marshal(dst []byte) []byte {
	return append(appendU32(dst, m.Offset), m.Data...)
}

func (m *ImageChunk) Unmarshal(f Frame) error {
	d, err := start(f, TypeImageChunk)
	if err != nil {
		return err
	}
	m.Offset = d.u32("offset")
	if d.err == nil && len(d.b) == 0 {
		d.fail("data", 0, "a chunk carries at least one byte")
	}
	m.Data = d.take(len(d.b), "data")
	return d.done()
}

// ImageCommit ends an upload: the chip checks the received bytes' size
// and SHA-256 against IMAGE_BEGIN's and this frame's, decodes and
// validates the image and loads it at t = 0 (ACK), or refuses it (NAK:
// CodeImageHash, CodeImageInvalid with the field in the text, ...).
//
//	0  32  SHA-256 of the image's bytes
type ImageCommit struct {
	SHA256 [32]byte
}

func (*ImageCommit) Type() Type { return TypeImageCommit }

func (m *ImageCommit) Marshal(dst []byte) []byte { return append(dst, m.SHA256[:]...) }

func (m *ImageCommit) Unmarshal(f Frame) error {
	d, err := start(f, TypeImageCommit)
	if err != nil {
		return err
	}
	copy(m.SHA256[:], d.take(32, "sha256"))
	return d.done()
}

// Run runs Steps steps with the inputs of those steps (answered by
// RUN_OK with the steps' spikes). Each Feed gives an Input population
// its values, step-major: Values[s*Size+u] is unit u's value in step s;
// a held feed gives one row for every step (a sensor read once per
// tick: 4·Size bytes instead of 4·Size·Steps). An Input population
// without a feed gets zeros.
//
//	0  2   steps, uint16, >= 1
//	2  2   feeds, uint16
//	then per feed:
//	   2   population index, uint16
//	   1   hold: 0 one row per step, 1 one row held for every step
//	   4   size (units), uint32, >= 1
//	   4·rows·size  values, int32 Q16.16, step-major (rows: steps, or 1 if held)
type Run struct {
	Steps uint16
	Feeds []Feed
}

// Feed is the input of one Input population for the steps of a Run.
// Values holds Steps·Size values, or Size when Hold.
type Feed struct {
	Pop    uint16
	Hold   bool
	Size   uint32
	Values []int32
}

// feedHeader is a feed's size on the wire before its values.
const feedHeader = 7

func (*Run) Type() Type { return TypeRun }

func (m *Run) Marshal(dst []byte) []byte {
	dst = appendU16(dst, m.Steps)
	dst = appendU16(dst, uint16(len(m.Feeds)))
	for i := range m.Feeds {
		f := &m.Feeds[i]
		dst = appendU16(dst, f.Pop)
		dst = append(dst, b2u(f.Hold))
		dst = appendU32(dst, f.Size)
		dst = appendI32s(dst, f.Values)
	}
	return dst
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}

func (m *Run) Unmarshal(f Frame) error {
	d, err := start(f, TypeRun)
	if err != nil {
		return err
	}
	m.Steps = d.u16("steps")
	if d.err == nil && m.Steps == 0 {
		d.fail("steps", 0, "a run has at least one step")
	}
	n := d.count(uint64(d.u16("feeds")), feedHeader, "feeds")
	m.Feeds = grow(m.Feeds, n)
	for i := range m.Feeds {
		fd := &m.Feeds[i]
		fd.Pop = d.u16("feeds.pop")
		hold := d.u8("feeds.hold")
		fd.Hold = hold == 1
		if d.err == nil && hold > 1 {
			d.fail("feeds.hold", int64(hold), "feed "+itoa(int64(i))+": want 0 or 1")
		}
		fd.Size = d.u32("feeds.size")
		if d.err == nil && fd.Size == 0 {
			d.fail("feeds.size", 0, "feed "+itoa(int64(i))+" has no units")
		}
		rows := uint64(m.Steps)
		if fd.Hold {
			rows = 1
		}
		nv := d.count(rows*uint64(fd.Size), 4, "feeds.values")
		fd.Values = d.int32s(fd.Values, nv, "feeds.values")
		if d.err != nil {
			break
		}
	}
	if d.err != nil {
		m.Feeds = m.Feeds[:0]
	}
	return d.done()
}

// ReadWhat is what a READ asks for.
type ReadWhat uint8

// What READ reads. The numbers are part of the wire format.
const (
	// ReadSpikes drains recorded spikes not yet sent (by RUN_OK or an
	// earlier READ): at most Count (0: as many as fit).
	ReadSpikes ReadWhat = 1
	// ReadCounters reads uint64 counters of populations First ..
	// First+Count-1: Index 0 the spikes emitted since t = 0, Index 1 the
	// saturated adds since t = 0.
	ReadCounters ReadWhat = 2
	// ReadTrace drains recorded rows of monitor Pop's state Index (its
	// position in the monitor's States): at most Count rows (0: as many
	// as fit).
	ReadTrace ReadWhat = 3
	// ReadState reads state Index (its position in the kind's state
	// list, firmware/image) of units First .. First+Count-1 of
	// population Pop, as they are after the last step run.
	ReadState ReadWhat = 4
)

// String is the name in messages.
func (w ReadWhat) String() string {
	switch w {
	case ReadSpikes:
		return "spikes"
	case ReadCounters:
		return "counters"
	case ReadTrace:
		return "trace"
	case ReadState:
		return "state"
	}
	return "read " + utoa(uint64(w))
}

func (w ReadWhat) valid() bool { return w >= ReadSpikes && w <= ReadState }

// Read asks for recorded or current data (answered by READ_OK).
//
//	0  1   what (ReadWhat)
//	1  2   pop: population index (ReadState), monitor index (ReadTrace); else 0
//	3  2   index: state index (ReadState, ReadTrace), counter (ReadCounters)
//	5  4   first unit (ReadState), first population (ReadCounters)
//	9  4   count
type Read struct {
	What  ReadWhat
	Pop   uint16
	Index uint16
	First uint32
	Count uint32
}

func (*Read) Type() Type { return TypeRead }

func (m *Read) Marshal(dst []byte) []byte {
	dst = append(dst, byte(m.What))
	dst = appendU16(dst, m.Pop)
	dst = appendU16(dst, m.Index)
	dst = appendU32(dst, m.First)
	return appendU32(dst, m.Count)
}

func (m *Read) Unmarshal(f Frame) error {
	d, err := start(f, TypeRead)
	if err != nil {
		return err
	}
	m.What = d.what()
	m.Pop = d.u16("pop")
	m.Index = d.u16("index")
	m.First = d.u32("first")
	m.Count = d.u32("count")
	return d.done()
}

// SetOp is what a SET changes.
type SetOp uint8

// The SET operations. The numbers are part of the wire format.
const (
	// SetUnit sets Unit row Row (firmware/image: DCAmp, PoissonLambda,
	// PoissonExpNeg, BernoulliProb, ...) of generator population Pop
	// from the next step on: one value for every unit (First 0), or the
	// values of units First .. First+len(Values)-1. Width is 0.
	SetUnit SetOp = 1
	// SetRows sets a Custom population's rows from the next step on:
	// rows of Width values (1 or the population's size), row 0 emitted
	// in the next step. A table larger than a frame goes in several
	// SETs: First is the index of the first row this one carries, and
	// First 0 starts a new table. Row is 0.
	SetRows SetOp = 2
)

// String is the name in messages.
func (o SetOp) String() string {
	switch o {
	case SetUnit:
		return "unit"
	case SetRows:
		return "rows"
	}
	return "op " + utoa(uint64(o))
}

// Set changes a generator's setting (answered by ACK).
//
//	0  2   population index, uint16
//	2  1   op (SetOp)
//	3  1   row: the Unit row (SetUnit); 0 (SetRows)
//	4  4   width: values per row (SetRows, >= 1); 0 (SetUnit)
//	8  4   first: first unit (SetUnit) or first row (SetRows)
//	12 4   n, uint32 (SetUnit: >= 1; SetRows: a multiple of width)
//	16 4n  values, int32 (Q16.16, or as the row's format says)
type Set struct {
	Pop    uint16
	Op     SetOp
	Row    uint8
	Width  uint32
	First  uint32
	Values []int32
}

func (*Set) Type() Type { return TypeSet }

func (m *Set) Marshal(dst []byte) []byte {
	dst = appendU16(dst, m.Pop)
	dst = append(dst, byte(m.Op), m.Row)
	dst = appendU32(dst, m.Width)
	dst = appendU32(dst, m.First)
	dst = appendU32(dst, uint32(len(m.Values)))
	return appendI32s(dst, m.Values)
}

func (m *Set) Unmarshal(f Frame) error {
	d, err := start(f, TypeSet)
	if err != nil {
		return err
	}
	m.Pop = d.u16("pop")
	m.Op = SetOp(d.u8("op"))
	m.Row = d.u8("row")
	m.Width = d.u32("width")
	m.First = d.u32("first")
	n := d.count(uint64(d.u32("n")), 4, "n")
	if d.err == nil {
		switch m.Op {
		case SetUnit:
			if m.Width != 0 {
				d.fail("width", int64(m.Width), "a unit setting has width 0")
			} else if n == 0 {
				d.fail("n", 0, "a unit setting has at least one value")
			}
		case SetRows:
			if m.Row != 0 {
				d.fail("row", int64(m.Row), "a rows setting has row 0")
			} else if m.Width == 0 {
				d.fail("width", 0, "rows have at least one value")
			} else if uint32(n)%m.Width != 0 {
				d.fail("n", int64(n), "not a multiple of the width "+utoa(uint64(m.Width)))
			}
		default:
			d.fail("op", int64(m.Op), "want 1 (unit) or 2 (rows)")
		}
	}
	if d.err != nil {
		n = 0
	}
	m.Values = d.int32s(m.Values, n, "values")
	return d.done()
}

// KindBit is the HelloOK.Kinds bit of kind k.
func KindBit(k image.Kind) uint64 {
	if k >= 64 {
		return 0
	}
	return 1 << k
}
