package image

import (
	"crypto/sha256"
	"encoding/binary"
	"hash/crc32"
)

// The encoded image (firmware/README.md, "Program image", gives it byte
// by byte): a 64-byte header, then the body: the populations, the
// synapse entries and the monitors, each a fixed part followed by its
// arrays. Every slice is written with its own 32-bit count, so Encode
// writes any Image as it is and Decode rebuilds it exactly or rejects
// it. Little-endian throughout.
const (
	HeaderSize = 64 // bytes before the body

	popFixed     = 68 // a population's fixed part
	synapseFixed = 28 // a synapse entry's fixed part
	monitorFixed = 20 // a monitor's fixed part
)

// Magic opens every image.
const Magic = "SLPI"

// Header offsets.
const (
	hMagic    = 0
	hVersion  = 4
	hFlags    = 6
	hDt       = 8
	hSeed     = 16
	hPops     = 24
	hSynapses = 28
	hMonitors = 32
	hBodyLen  = 36
	hUnits    = 40
	hConns    = 48
	hReserved = 56
	hCRC      = 60
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Hash is the SHA-256 of an encoded image: the name under which the
// host and the chip agree on which image is loaded.
func Hash(b []byte) [32]byte { return sha256.Sum256(b) }

// Totals are the counts an image's header declares.
type Totals struct {
	Pops, Synapses, Monitors uint32
	Units                    uint64 // sum of the populations' sizes
	Connections              uint64 // sum of the synapse entries' connections
}

// TotalsOf counts img's populations, units, synapse entries,
// connections and monitors.
func TotalsOf(img *Image) Totals {
	t := Totals{Pops: uint32(len(img.Pops)), Synapses: uint32(len(img.Synapses)), Monitors: uint32(len(img.Monitors))}
	for i := range img.Pops {
		t.Units += uint64(img.Pops[i].Size)
	}
	for i := range img.Synapses {
		t.Connections += uint64(len(img.Synapses[i].Target))
	}
	return t
}

// EncodedSize is len(Encode(img)).
func EncodedSize(img *Image) int {
	n := HeaderSize
	for i := range img.Pops {
		p := &img.Pops[i]
		n += popFixed + 5*len(p.Coefs) + 4*len(p.Consts) + 4*len(p.SpikeOff) + 8*len(p.SpikeStep) + 4*len(p.SpikeVal) + 4*len(p.Rows)
		for _, row := range p.Unit {
			n += 4 + 4*len(row)
		}
	}
	for i := range img.Synapses {
		s := &img.Synapses[i]
		n += synapseFixed + 4*len(s.Off) + 4*len(s.Target) + 2*len(s.Weight) + 2*len(s.Delay)
	}
	for i := range img.Monitors {
		m := &img.Monitors[i]
		n += monitorFixed + len(m.States) + 4*len(m.Units)
	}
	return n
}

// Encode writes img in the binary format. It writes img as it is,
// without validating it (call Validate first): an invalid image encodes
// to bytes that Decode rejects with the error Validate gives. It does
// not panic on any Image whose slices fit the format's 32-bit counts.
func Encode(img *Image) []byte {
	le := binary.LittleEndian
	b := make([]byte, HeaderSize, EncodedSize(img))
	t := TotalsOf(img)
	copy(b[hMagic:], Magic)
	le.PutUint16(b[hVersion:], img.Version)
	le.PutUint64(b[hDt:], img.DtPicos)
	le.PutUint64(b[hSeed:], img.Seed)
	le.PutUint32(b[hPops:], t.Pops)
	le.PutUint32(b[hSynapses:], t.Synapses)
	le.PutUint32(b[hMonitors:], t.Monitors)
	le.PutUint64(b[hUnits:], t.Units)
	le.PutUint64(b[hConns:], t.Connections)

	u8 := func(v uint8) { b = append(b, v) }
	u16 := func(v uint16) { b = le.AppendUint16(b, v) }
	u32 := func(v uint32) { b = le.AppendUint32(b, v) }
	u64 := func(v uint64) { b = le.AppendUint64(b, v) }
	n := func(l int) { u32(uint32(l)) }

	for i := range img.Pops {
		p := &img.Pops[i]
		u8(uint8(p.Kind))
		u8(uint8(p.Flags))
		u8(p.Ports)
		u8(0)
		u32(p.Size)
		u32(p.RefSteps)
		u32(p.RowWidth)
		u64(uint64(p.Win.First))
		u64(uint64(p.Win.End))
		u64(uint64(p.K0))
		n(len(p.Coefs))
		n(len(p.Consts))
		n(len(p.Unit))
		n(len(p.SpikeOff))
		n(len(p.SpikeStep))
		n(len(p.SpikeVal))
		n(len(p.Rows))
		for _, c := range p.Coefs {
			u32(uint32(c.M))
			u8(c.Shift)
		}
		for _, v := range p.Consts {
			u32(uint32(v))
		}
		for _, row := range p.Unit {
			n(len(row))
			for _, v := range row {
				u32(uint32(v))
			}
		}
		for _, v := range p.SpikeOff {
			u32(v)
		}
		for _, v := range p.SpikeStep {
			u64(uint64(v))
		}
		for _, v := range p.SpikeVal {
			u32(uint32(v))
		}
		for _, v := range p.Rows {
			u32(uint32(v))
		}
	}
	for i := range img.Synapses {
		s := &img.Synapses[i]
		u32(s.Pre)
		u32(s.Post)
		u8(s.Port)
		u8(s.Shift)
		u16(0)
		n(len(s.Off))
		n(len(s.Target))
		n(len(s.Weight))
		n(len(s.Delay))
		for _, v := range s.Off {
			u32(v)
		}
		for _, v := range s.Target {
			u32(v)
		}
		for _, v := range s.Weight {
			u16(uint16(v))
		}
		for _, v := range s.Delay {
			u16(v)
		}
	}
	for i := range img.Monitors {
		m := &img.Monitors[i]
		u32(m.Pop)
		if m.Spikes {
			u8(1)
		} else {
			u8(0)
		}
		u8(0)
		u16(0)
		u32(m.Every)
		n(len(m.States))
		n(len(m.Units))
		b = append(b, m.States...)
		for _, v := range m.Units {
			u32(v)
		}
	}
	le.PutUint32(b[hBodyLen:], uint32(len(b)-HeaderSize))
	le.PutUint32(b[hCRC:], checksum(b))
	return b
}

// checksum is the CRC-32C of the header's first 60 bytes and the body.
func checksum(b []byte) uint32 {
	c := crc32.Update(0, castagnoli, b[:hCRC])
	return crc32.Update(c, castagnoli, b[HeaderSize:])
}

// reader reads the body. Every count is checked against the bytes left
// before anything is allocated from it.
type reader struct {
	b   []byte
	off int
}

func (r *reader) left() int { return len(r.b) - r.off }

// room reports whether n items of size bytes each are left.
func (r *reader) room(n uint32, size int) bool {
	return uint64(n)*uint64(size) <= uint64(r.left())
}

// The readers below are called only after room said the bytes are there.
func (r *reader) u8() uint8 { v := r.b[r.off]; r.off++; return v }
func (r *reader) u16() uint16 {
	v := binary.LittleEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v
}
func (r *reader) u32() uint32 {
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v
}
func (r *reader) u64() uint64 {
	v := binary.LittleEndian.Uint64(r.b[r.off:])
	r.off += 8
	return v
}

// count reads nothing; it checks that n items of size bytes fit in what
// is left and else names the field: f's name, or its element j if j >= 0.
func (r *reader) count(n uint32, size int, f path, name string, j int) error {
	if r.room(n, size) {
		return nil
	}
	field := f.f(name)
	if j >= 0 {
		field = at(field, j)
	}
	return fail(field, "count "+utoa(uint64(n))+" needs "+utoa(uint64(n)*uint64(size))+" bytes, "+itoa(int64(r.left()))+" left")
}

func (r *reader) int32s(n uint32) []int32 {
	if n == 0 {
		return nil
	}
	v := make([]int32, n)
	for i := range v {
		v[i] = int32(r.u32())
	}
	return v
}

func (r *reader) uint32s(n uint32) []uint32 {
	if n == 0 {
		return nil
	}
	v := make([]uint32, n)
	for i := range v {
		v[i] = r.u32()
	}
	return v
}

// Decode reads an image written by Encode and validates it (Validate):
// the header (magic, version, flags, the body's length and CRC-32C),
// then every count against the bytes left and the header's declared
// totals before anything is allocated from it, then every field. A bad
// image is an *Error naming the field; Decode never panics and never
// allocates much more than len(b) bytes.
func Decode(b []byte) (*Image, error) {
	le := binary.LittleEndian
	if len(b) < HeaderSize {
		return nil, fail("header", "length "+itoa(int64(len(b)))+", want at least "+itoa(HeaderSize))
	}
	if string(b[hMagic:hMagic+4]) != Magic {
		return nil, fail("header.magic", "not a program image (want \""+Magic+"\")")
	}
	if v := le.Uint16(b[hVersion:]); v != Version {
		return nil, fail("header.version", itoa(int64(v))+", this firmware reads "+itoa(Version))
	}
	if v := le.Uint16(b[hFlags:]); v != 0 {
		return nil, fail("header.flags", itoa(int64(v))+", want 0")
	}
	if v := le.Uint32(b[hReserved:]); v != 0 {
		return nil, fail("header.reserved", utoa(uint64(v))+", want 0")
	}
	if n := le.Uint32(b[hBodyLen:]); uint64(n) != uint64(len(b)-HeaderSize) {
		return nil, fail("header.body_length", utoa(uint64(n))+", but "+itoa(int64(len(b)-HeaderSize))+" bytes follow the header")
	}
	if c, want := le.Uint32(b[hCRC:]), checksum(b); c != want {
		return nil, fail("header.crc", "stored "+utoa(uint64(c))+", computed "+utoa(uint64(want)))
	}
	decl := Totals{
		Pops: le.Uint32(b[hPops:]), Synapses: le.Uint32(b[hSynapses:]), Monitors: le.Uint32(b[hMonitors:]),
		Units: le.Uint64(b[hUnits:]), Connections: le.Uint64(b[hConns:]),
	}
	img := &Image{Version: Version, DtPicos: le.Uint64(b[hDt:]), Seed: le.Uint64(b[hSeed:])}
	r := &reader{b: b, off: HeaderSize}
	// The fixed parts of all records must fit before the records are
	// allocated.
	fixed := uint64(decl.Pops)*popFixed + uint64(decl.Synapses)*synapseFixed + uint64(decl.Monitors)*monitorFixed
	if fixed > uint64(r.left()) {
		return nil, fail("header", "declares "+utoa(uint64(decl.Pops))+" populations, "+utoa(uint64(decl.Synapses))+
			" synapse entries and "+utoa(uint64(decl.Monitors))+" monitors: "+utoa(fixed)+" bytes, the body has "+itoa(int64(r.left())))
	}
	var seen Totals
	if decl.Pops > 0 {
		img.Pops = make([]Pop, decl.Pops)
	}
	for i := range img.Pops {
		if err := r.pop(&img.Pops[i], path{"pops", i}, &seen, &decl); err != nil {
			return nil, err
		}
	}
	if decl.Synapses > 0 {
		img.Synapses = make([]Synapse, decl.Synapses)
	}
	for i := range img.Synapses {
		if err := r.synapse(&img.Synapses[i], path{"synapses", i}, &seen, &decl); err != nil {
			return nil, err
		}
	}
	if decl.Monitors > 0 {
		img.Monitors = make([]Monitor, decl.Monitors)
	}
	for i := range img.Monitors {
		if err := r.monitor(&img.Monitors[i], path{"monitors", i}); err != nil {
			return nil, err
		}
	}
	if r.left() != 0 {
		return nil, fail("body", itoa(int64(r.left()))+" bytes after the last monitor")
	}
	if seen.Units != decl.Units {
		return nil, fail("header.units", utoa(decl.Units)+", but the populations' sizes add up to "+utoa(seen.Units))
	}
	if seen.Connections != decl.Connections {
		return nil, fail("header.connections", utoa(decl.Connections)+", but the synapse entries hold "+utoa(seen.Connections))
	}
	if err := Validate(img); err != nil {
		return nil, err
	}
	return img, nil
}

func (r *reader) pop(p *Pop, f path, seen, decl *Totals) error {
	if err := r.count(1, popFixed, f, "", -1); err != nil {
		return err
	}
	p.Kind = Kind(r.u8())
	p.Flags = Flags(r.u8())
	p.Ports = r.u8()
	if v := r.u8(); v != 0 {
		return fail(f.f(".reserved"), itoa(int64(v))+", want 0")
	}
	p.Size = r.u32()
	seen.Units += uint64(p.Size)
	if seen.Units > decl.Units {
		return fail(f.f(".size"), utoa(uint64(p.Size))+" brings the units to "+utoa(seen.Units)+", beyond the header's "+utoa(decl.Units))
	}
	p.RefSteps = r.u32()
	p.RowWidth = r.u32()
	p.Win.First = int64(r.u64())
	p.Win.End = int64(r.u64())
	p.K0 = int64(r.u64())
	nCoefs, nConsts, nUnit := r.u32(), r.u32(), r.u32()
	nOff, nStep, nVal, nRows := r.u32(), r.u32(), r.u32(), r.u32()

	if err := r.count(nCoefs, 5, f, ".coefs", -1); err != nil {
		return err
	}
	if nCoefs > 0 {
		p.Coefs = make([]Coef, nCoefs)
		for j := range p.Coefs {
			p.Coefs[j] = Coef{M: int32(r.u32()), Shift: r.u8()}
		}
	}
	if err := r.count(nConsts, 4, f, ".consts", -1); err != nil {
		return err
	}
	p.Consts = r.int32s(nConsts)
	if err := r.count(nUnit, 4, f, ".unit", -1); err != nil { // each row has at least its count
		return err
	}
	if nUnit > 0 {
		p.Unit = make([][]int32, nUnit)
		for j := range p.Unit {
			if err := r.count(1, 4, f, ".unit", j); err != nil {
				return err
			}
			n := r.u32()
			if err := r.count(n, 4, f, ".unit", j); err != nil {
				return err
			}
			p.Unit[j] = r.int32s(n)
		}
	}
	if err := r.count(nOff, 4, f, ".spike_off", -1); err != nil {
		return err
	}
	p.SpikeOff = r.uint32s(nOff)
	if err := r.count(nStep, 8, f, ".spike_step", -1); err != nil {
		return err
	}
	if nStep > 0 {
		p.SpikeStep = make([]int64, nStep)
		for j := range p.SpikeStep {
			p.SpikeStep[j] = int64(r.u64())
		}
	}
	if err := r.count(nVal, 4, f, ".spike_val", -1); err != nil {
		return err
	}
	p.SpikeVal = r.int32s(nVal)
	if err := r.count(nRows, 4, f, ".rows", -1); err != nil {
		return err
	}
	p.Rows = r.int32s(nRows)
	return nil
}

func (r *reader) synapse(s *Synapse, f path, seen, decl *Totals) error {
	if err := r.count(1, synapseFixed, f, "", -1); err != nil {
		return err
	}
	s.Pre = r.u32()
	s.Post = r.u32()
	s.Port = r.u8()
	s.Shift = r.u8()
	if v := r.u16(); v != 0 {
		return fail(f.f(".reserved"), itoa(int64(v))+", want 0")
	}
	nOff, nTarget, nWeight, nDelay := r.u32(), r.u32(), r.u32(), r.u32()
	seen.Connections += uint64(nTarget)
	if seen.Connections > decl.Connections {
		return fail(f.f(".target"), "count "+utoa(uint64(nTarget))+" brings the connections to "+utoa(seen.Connections)+", beyond the header's "+utoa(decl.Connections))
	}
	if err := r.count(nOff, 4, f, ".off", -1); err != nil {
		return err
	}
	s.Off = r.uint32s(nOff)
	if err := r.count(nTarget, 4, f, ".target", -1); err != nil {
		return err
	}
	s.Target = r.uint32s(nTarget)
	if err := r.count(nWeight, 2, f, ".weight", -1); err != nil {
		return err
	}
	if nWeight > 0 {
		s.Weight = make([]int16, nWeight)
		for c := range s.Weight {
			s.Weight[c] = int16(r.u16())
		}
	}
	if err := r.count(nDelay, 2, f, ".delay", -1); err != nil {
		return err
	}
	if nDelay > 0 {
		s.Delay = make([]uint16, nDelay)
		for c := range s.Delay {
			s.Delay[c] = r.u16()
		}
	}
	return nil
}

func (r *reader) monitor(m *Monitor, f path) error {
	if err := r.count(1, monitorFixed, f, "", -1); err != nil {
		return err
	}
	m.Pop = r.u32()
	switch v := r.u8(); v {
	case 0:
	case 1:
		m.Spikes = true
	default:
		return fail(f.f(".spikes"), itoa(int64(v))+", want 0 or 1")
	}
	if v := r.u8(); v != 0 {
		return fail(f.f(".reserved"), itoa(int64(v))+", want 0")
	}
	if v := r.u16(); v != 0 {
		return fail(f.f(".reserved"), itoa(int64(v))+", want 0")
	}
	m.Every = r.u32()
	nStates, nUnits := r.u32(), r.u32()
	if err := r.count(nStates, 1, f, ".states", -1); err != nil {
		return err
	}
	if nStates > 0 {
		m.States = make([]uint8, nStates)
		r.off += copy(m.States, r.b[r.off:])
	}
	if err := r.count(nUnits, 4, f, ".units", -1); err != nil {
		return err
	}
	m.Units = r.uint32s(nUnits)
	return nil
}
