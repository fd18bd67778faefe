package image

import (
	"bytes"
	"encoding/binary"
	"errors"
	"reflect"
	"runtime"
	"testing"
)

func TestValidImagesRoundTrip(t *testing.T) {
	imgs := smallImages()
	imgs["full"] = fullImage()
	for name, img := range imgs {
		t.Run(name, func(t *testing.T) {
			if err := Validate(img); err != nil {
				t.Fatalf("Validate: %v", err)
			}
			b := Encode(img)
			if len(b) != EncodedSize(img) {
				t.Errorf("len(Encode) = %d, EncodedSize = %d", len(b), EncodedSize(img))
			}
			got, err := Decode(b)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, img) {
				t.Fatalf("Decode(Encode(img)) differs from img:\n got %+v\nwant %+v", got, img)
			}
			if b2 := Encode(got); !bytes.Equal(b, b2) {
				t.Errorf("Encode(Decode(b)) differs from b")
			}
		})
	}
}

func TestHeaderTotals(t *testing.T) {
	img := fullImage()
	b := Encode(img)
	le := binary.LittleEndian
	var units, conns uint64
	for _, p := range img.Pops {
		units += uint64(p.Size)
	}
	for _, s := range img.Synapses {
		conns += uint64(len(s.Target))
	}
	if string(b[:4]) != "SLPI" || le.Uint16(b[4:]) != Version {
		t.Errorf("magic/version: % x", b[:6])
	}
	if got := le.Uint64(b[8:]); got != img.DtPicos {
		t.Errorf("dt %d, want %d", got, img.DtPicos)
	}
	if got := le.Uint64(b[16:]); got != img.Seed {
		t.Errorf("seed %d, want %d", got, img.Seed)
	}
	if le.Uint32(b[24:]) != nPops || le.Uint32(b[28:]) != uint32(len(img.Synapses)) || le.Uint32(b[32:]) != uint32(len(img.Monitors)) {
		t.Errorf("counts % x", b[24:36])
	}
	if got := le.Uint32(b[36:]); int(got) != len(b)-HeaderSize {
		t.Errorf("body length %d, want %d", got, len(b)-HeaderSize)
	}
	if le.Uint64(b[40:]) != units || le.Uint64(b[48:]) != conns {
		t.Errorf("units %d conns %d, want %d %d", le.Uint64(b[40:]), le.Uint64(b[48:]), units, conns)
	}
	if Hash(b) == Hash(b[:len(b)-1]) {
		t.Error("Hash ignores the last byte")
	}
}

func TestValidateVersionAndNil(t *testing.T) {
	img := fullImage()
	img.Version = 2
	assertErr(t, "Validate", Validate(img), "version: 2, want 1")
	assertErr(t, "Decode", func() error { _, err := Decode(Encode(img)); return err }(), "header.version: 2, this firmware reads 1")
	assertErr(t, "Validate", Validate(nil), "image: nil")
}

func TestItoa(t *testing.T) {
	for _, c := range []struct {
		v    int64
		want string
	}{{0, "0"}, {7, "7"}, {-7, "-7"}, {1234567890, "1234567890"}, {-9223372036854775808, "-9223372036854775808"}, {9223372036854775807, "9223372036854775807"}} {
		if got := itoa(c.v); got != c.want {
			t.Errorf("itoa(%d) = %q", c.v, got)
		}
	}
	if got := utoa(18446744073709551615); got != "18446744073709551615" {
		t.Errorf("utoa(max) = %q", got)
	}
}

// checkRejected asserts that both Validate(img) and Decode(Encode(img))
// reject img with message want, as an *Error wrapping ErrInvalid.
func checkRejected(t *testing.T, img *Image, want string) {
	t.Helper()
	err := Validate(img)
	assertErr(t, "Validate", err, want)
	_, err = Decode(Encode(img))
	assertErr(t, "Decode", err, want)
}

func assertErr(t *testing.T, what string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s accepted the image, want %q", what, want)
	}
	var e *Error
	if !errors.As(err, &e) || !errors.Is(err, ErrInvalid) {
		t.Errorf("%s: %T %v is not an *image.Error wrapping ErrInvalid", what, err, err)
	}
	if err.Error() != want {
		t.Errorf("%s:\n got %q\nwant %q", what, err.Error(), want)
	}
}

// TestCorruptImages: hand-made bad images, each rejected by Validate and
// by Decode(Encode(.)) with a message naming the field and the value.
func TestCorruptImages(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(img *Image)
		want   string
	}{
		{"unknown kind", func(img *Image) { img.Pops[pIzh].Kind = 6 }, "pops[2].kind: 6 is no kind the APU runs"},
		{"kind zero", func(img *Image) { img.Pops[0].Kind = 0 }, "pops[0].kind: 0 is no kind the APU runs"},
		{"flag soft-reset on Izhikevich", func(img *Image) { img.Pops[pIzh].Flags = FlagSoftReset }, "pops[2].flags: flag soft-reset not allowed for Izhikevich"},
		{"flag binary on LIF", func(img *Image) { img.Pops[pLIF].Flags = FlagBinary }, "pops[0].flags: flag binary not allowed for LIF"},
		{"unknown flag bit", func(img *Image) { img.Pops[pPoisson].Flags |= 1 << 6 }, "pops[6].flags: flag bit 6 not allowed for PoissonGenerator"},
		{"DC without current", func(img *Image) { img.Pops[pDC].Flags = 0 }, "pops[5].flags: DCGenerator needs flag current"},
		{"input binary and current", func(img *Image) { img.Pops[pInput].Flags = FlagBinary | FlagCurrent }, "pops[11].flags: flags binary and current together"},
		{"ExpLIF 0 ports", func(img *Image) { img.Pops[pExpLIF].Ports = 0 }, "pops[1].ports: 0 out of range 1..8 for ExpLIF"},
		{"ExpLIF 9 ports", func(img *Image) { img.Pops[pExpLIF].Ports = 9 }, "pops[1].ports: 9 out of range 1..8 for ExpLIF"},
		{"LIF 2 ports", func(img *Image) { img.Pops[pLIF].Ports = 2 }, "pops[0].ports: 2, want 1 for LIF"},
		{"generator ports", func(img *Image) { img.Pops[pSpike].Ports = 1 }, "pops[8].ports: 1, want 0 for SpikeGenerator"},
		{"size 0", func(img *Image) { img.Pops[pInput].Size = 0 }, "pops[11].size: 0, want at least 1"},
		{"ref steps on SNNIF", func(img *Image) { img.Pops[pSNNIF].RefSteps = 3 }, "pops[3].ref_steps: 3, want 0 for SNNIF"},
		{"LIF coefs short", func(img *Image) { img.Pops[pLIF].Coefs = img.Pops[pLIF].Coefs[:1] }, "pops[0].coefs: length 1, want 2 for LIF"},
		{"ExpLIF coefs for 1 port", func(img *Image) { img.Pops[pExpLIF].Coefs = coefs(ExpLIFCoefs(1)) }, "pops[1].coefs: length 4, want 6 for ExpLIF"},
		{"coef shift", func(img *Image) { img.Pops[pIzh].Coefs[4].Shift = 63 }, "pops[2].coefs[4].shift: 63 out of range 0..62"},
		{"SNNLIF consts", func(img *Image) { img.Pops[pSNNLIF].Consts = []int32{1, 2} }, "pops[4].consts: length 2, want 3 for SNNLIF"},
		{"Izhikevich unit rows", func(img *Image) { img.Pops[pIzh].Unit = img.Pops[pIzh].Unit[:2] }, "pops[2].unit: length 2, want 3 rows for Izhikevich"},
		{"unit row short", func(img *Image) { img.Pops[pExpLIF].Unit[3] = rowOf(3, 0) }, "pops[1].unit[3]: length 3, want 4 (size)"},
		{"unit row long", func(img *Image) { img.Pops[pLIF].Unit[1] = rowOf(12, 0) }, "pops[0].unit[1]: length 12, want 5 (size)"},
		{"unit rows on Input", func(img *Image) { img.Pops[pInput].Unit = [][]int32{rowOf(7, 0)} }, "pops[11].unit: length 1, want 0 rows for InputTransmitter"},
		{"Bernoulli prob above 1", func(img *Image) { img.Pops[pBernoulli].Unit[0][1] = 1<<30 + 1 }, "pops[7].unit[0][1]: 1073741825 out of range 0..1073741824 (probability in Q1.30)"},
		{"Poisson negative lambda", func(img *Image) { img.Pops[pPoisson].Unit[0][5] = -1 }, "pops[6].unit[0][5]: -1 out of range 0..2147483647 (lambda)"},
		{"Poisson exp(-lambda) negative", func(img *Image) { img.Pops[pPoisson].Unit[1][0] = -3 }, "pops[6].unit[1][0]: -3 out of range 1..1073741824 (exp(-lambda) in Q1.30)"},
		{"Poisson exp(-lambda) zero", func(img *Image) { img.Pops[pPoisson].Unit[1][7] = 0 }, "pops[6].unit[1][7]: 0 out of range 1..1073741824 (exp(-lambda) in Q1.30)"},
		{"window reversed", func(img *Image) { img.Pops[pDC].Win = Window{First: 9, End: 8} }, "pops[5].win: first 9 after end 8"},
		{"window on LIF", func(img *Image) { img.Pops[pLIF].Win.End = 1 }, "pops[0].win: set for LIF, which has no window"},
		{"window on Spike", func(img *Image) { img.Pops[pSpike].Win.End = 100 }, "pops[8].win: set for SpikeGenerator, which has no window"},
		{"window on Input", func(img *Image) { img.Pops[pInput].Win.First = -1 }, "pops[11].win: set for InputTransmitter, which has no window"},
		{"spike off length", func(img *Image) { img.Pops[pSpike].SpikeOff = []uint32{0, 2, 5} }, "pops[8].spike_off: length 3, want 4 (size+1)"},
		{"spike val length", func(img *Image) { img.Pops[pSpike].SpikeVal = img.Pops[pSpike].SpikeVal[:4] }, "pops[8].spike_val: length 4, want 5 (spike_step's)"},
		{"spike off start", func(img *Image) { img.Pops[pSpike].SpikeOff[0] = 1 }, "pops[8].spike_off[0]: 1, want 0"},
		{"spike off descending", func(img *Image) { img.Pops[pSpike].SpikeOff[2] = 1 }, "pops[8].spike_off[2]: 1 below the previous offset 2"},
		{"spike off beyond", func(img *Image) { img.Pops[pSpike].SpikeOff[2] = 6 }, "pops[8].spike_off[2]: 6 beyond spike_step's length 5"},
		{"spike off last", func(img *Image) { img.Pops[pSpike].SpikeOff[3] = 4 }, "pops[8].spike_off[3]: 4, want spike_step's length 5"},
		{"spike steps equal", func(img *Image) { img.Pops[pSpike].SpikeStep[3] = 1 }, "pops[8].spike_step[3]: 1 not after 1 (unit 2)"},
		{"spike steps descending", func(img *Image) { img.Pops[pSpike].SpikeStep[1] = -1 }, "pops[8].spike_step[1]: -1 not after 0 (unit 0)"},
		{"spike table on Poisson", func(img *Image) { img.Pops[pPoisson].SpikeStep = []int64{1} }, "pops[6].spike_off: spike table set for PoissonGenerator, only SpikeGenerator has one"},
		{"row width 2", func(img *Image) { img.Pops[pCustomN].RowWidth = 2 }, "pops[10].row_width: 2, want 1 or the size 3"},
		{"row width 0", func(img *Image) { img.Pops[pCustom1].RowWidth = 0 }, "pops[9].row_width: 0, want 1 or the size 4"},
		{"rows ragged", func(img *Image) { img.Pops[pCustomN].Rows = rowOf(11, 0) }, "pops[10].rows: length 11 is no multiple of the row width 3"},
		{"rows on DC", func(img *Image) { img.Pops[pDC].K0 = 4 }, "pops[5].rows: rows set for DCGenerator, only CustomGenerator has them"},
		{"synapse pre", func(img *Image) { img.Synapses[0].Pre = nPops }, "synapses[0].pre: 13 out of range (13 populations)"},
		{"synapse post", func(img *Image) { img.Synapses[1].Post = 1 << 31 }, "synapses[1].post: 2147483648 out of range (13 populations)"},
		{"synapse into a generator", func(img *Image) { img.Synapses[1].Post = pCustom1 }, "synapses[1].post: 9 is a CustomGenerator, which receives nothing"},
		{"port beyond ExpLIF ports", func(img *Image) { img.Synapses[1].Port = 2 }, "synapses[1].port: 2 out of range (post has 2 ports)"},
		{"port on LIF", func(img *Image) { img.Synapses[0].Port = 1 }, "synapses[0].port: 1 out of range (post has 1 ports)"},
		{"current with port", func(img *Image) { img.Synapses[2].Port = 1 }, "synapses[2].port: 1, want 0 from the current source 5"},
		{"weight shift", func(img *Image) { img.Synapses[6].Shift = 17 }, "synapses[6].shift: 17 out of range 0..16"},
		{"off length", func(img *Image) { img.Synapses[0].Off = img.Synapses[0].Off[:8] }, "synapses[0].off: length 8, want 9 (pre size+1)"},
		{"weight length", func(img *Image) { img.Synapses[3].Weight = img.Synapses[3].Weight[1:] }, "synapses[3].weight: length 3, want 4 (target's)"},
		{"delay length", func(img *Image) { img.Synapses[3].Delay = append(img.Synapses[3].Delay, 1) }, "synapses[3].delay: length 5, want 4 (target's)"},
		{"off start", func(img *Image) { img.Synapses[7].Off[0] = 1 }, "synapses[7].off[0]: 1, want 0"},
		{"off descending", func(img *Image) { img.Synapses[0].Off[4] = 2 }, "synapses[0].off[4]: 2 below the previous offset 9"},
		{"off last", func(img *Image) { img.Synapses[0].Off[8] = 23 }, "synapses[0].off[8]: 23, want target's length 24"},
		{"target out of range", func(img *Image) { img.Synapses[0].Target[17] = 5 }, "synapses[0].target[17]: 5 out of range (post size 5)"},
		{"delay too long", func(img *Image) { img.Synapses[6].Delay[4] = MaxDelay + 1 }, "synapses[6].delay[4]: 32769 out of range 0..32768"},
		{"zero delay into LIF", func(img *Image) { img.Synapses[0].Delay[0] = 0 }, "synapses[0].delay[0]: 0 allowed only into SNNIF or SNNLIF from a generator or an earlier population (post 0 is LIF, pre 6)"},
		{"zero delay backward", func(img *Image) { img.Synapses[5].Delay[0] = 0 }, "synapses[5].delay[0]: 0 allowed only into SNNIF or SNNLIF from a generator or an earlier population (post 3 is SNNIF, pre 4)"},
		{"monitor pop", func(img *Image) { img.Monitors[3].Pop = 99 }, "monitors[3].pop: 99 out of range (13 populations)"},
		{"monitor every", func(img *Image) { img.Monitors[1].Every = 0 }, "monitors[1].every: 0, want at least 1"},
		{"monitor ExpLIF state", func(img *Image) { img.Monitors[1].States[0] = 3 }, "monitors[1].states[0]: 3 out of range (ExpLIF has 3 states)"},
		{"monitor Izhikevich state", func(img *Image) { img.Monitors[2].States[1] = 2 }, "monitors[2].states[1]: 2 out of range (Izhikevich has 2 states)"},
		{"monitor Poisson state", func(img *Image) { img.Monitors[6].States = []uint8{0} }, "monitors[6].states[0]: 0 out of range (PoissonGenerator has 0 states)"},
		{"monitor unit", func(img *Image) { img.Monitors[2].Units[0] = 3 }, "monitors[2].units[0]: 3 out of range (size 3)"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := fullImage()
			c.mutate(img)
			checkRejected(t, img, c.want)
		})
	}
	if len(cases) < 30 {
		t.Errorf("%d cases, the issue asks for at least 30", len(cases))
	}
}

// fixCRC rewrites the header's CRC after a test changed bytes, so that
// Decode looks past it.
func fixCRC(b []byte) []byte {
	if len(b) >= HeaderSize {
		binary.LittleEndian.PutUint32(b[hCRC:], checksum(b))
	}
	return b
}

// TestCorruptBytes: bad encodings (header, counts, reserved bytes),
// each rejected with its message.
func TestCorruptBytes(t *testing.T) {
	le := binary.LittleEndian
	good := Encode(fullImage())
	body := len(good) - HeaderSize
	mon0 := len(good) - EncodedSize(&Image{Monitors: fullImage().Monitors}) + HeaderSize // first monitor's offset
	syn0 := HeaderSize + EncodedSize(&Image{Pops: fullImage().Pops}) - HeaderSize        // first synapse entry's offset
	u32 := func(off int, v uint32) func([]byte) []byte {
		return func(b []byte) []byte { le.PutUint32(b[off:], v); return fixCRC(b) }
	}
	u64 := func(off int, v uint64) func([]byte) []byte {
		return func(b []byte) []byte { le.PutUint64(b[off:], v); return fixCRC(b) }
	}
	u8 := func(off int, v uint8) func([]byte) []byte {
		return func(b []byte) []byte { b[off] = v; return fixCRC(b) }
	}
	flipped := append([]byte(nil), good...)
	flipped[HeaderSize+100] ^= 1
	cases := []struct {
		name   string
		mutate func([]byte) []byte
		want   string
	}{
		{"empty", func([]byte) []byte { return nil }, "header: length 0, want at least 64"},
		{"20 bytes", func(b []byte) []byte { return b[:20] }, "header: length 20, want at least 64"},
		{"magic", func(b []byte) []byte { b[0] = 'X'; return fixCRC(b) }, `header.magic: not a program image (want "SLPI")`},
		{"version", func(b []byte) []byte { le.PutUint16(b[hVersion:], 7); return fixCRC(b) }, "header.version: 7, this firmware reads 1"},
		{"flags", func(b []byte) []byte { le.PutUint16(b[hFlags:], 1); return fixCRC(b) }, "header.flags: 1, want 0"},
		{"reserved", u32(hReserved, 5), "header.reserved: 5, want 0"},
		{"truncated", func(b []byte) []byte { return b[:len(b)-1] }, "header.body_length: " + itoa(int64(body)) + ", but " + itoa(int64(body-1)) + " bytes follow the header"},
		{"trailing byte", func(b []byte) []byte { return append(b, 0) }, "header.body_length: " + itoa(int64(body)) + ", but " + itoa(int64(body+1)) + " bytes follow the header"},
		{"trailing byte declared", func(b []byte) []byte {
			b = append(b, 0)
			le.PutUint32(b[hBodyLen:], uint32(body+1))
			return fixCRC(b)
		}, "body: 1 bytes after the last monitor"},
		{"crc", func(b []byte) []byte { return append(b[:0], flipped...) },
			"header.crc: stored " + utoa(uint64(le.Uint32(good[hCRC:]))) + ", computed " + utoa(uint64(checksum(flipped)))},
		{"4G populations", u32(hPops, 1<<32-1), "header: declares 4294967295 populations, 9 synapse entries and 7 monitors: 292057776452 bytes, the body has " + itoa(int64(body))},
		{"monitors beyond", u32(hMonitors, 1<<20), "header: declares 13 populations, 9 synapse entries and 1048576 monitors: 20972656 bytes, the body has " + itoa(int64(body))},
		{"units below", u64(hUnits, 4), "pops[0].size: 5 brings the units to 5, beyond the header's 4"},
		{"units above", u64(hUnits, 1<<40), "header.units: 1099511627776, but the populations' sizes add up to 58"},
		{"connections below", u64(hConns, 10), "synapses[0].target: count 24 brings the connections to 24, beyond the header's 10"},
		{"connections above", u64(hConns, 1000), "header.connections: 1000, but the synapse entries hold 89"},
		{"pop reserved", u8(HeaderSize+3, 1), "pops[0].reserved: 1, want 0"},
		{"coefs count", u32(HeaderSize+40, 1<<32-1), "pops[0].coefs: count 4294967295 needs 21474836475 bytes, " + itoa(int64(body-popFixed)) + " left"},
		{"unit rows count", u32(HeaderSize+48, 1<<30), "pops[0].unit: count 1073741824 needs 4294967296 bytes, " + itoa(int64(body-popFixed-5*LIFCoefs-4*LIFConsts)) + " left"},
		{"unit row length", u32(HeaderSize+popFixed+5*LIFCoefs+4*LIFConsts, 1<<31), "pops[0].unit[0]: count 2147483648 needs 8589934592 bytes, " + itoa(int64(body-popFixed-5*LIFCoefs-4*LIFConsts-4)) + " left"},
		{"synapse reserved", u8(syn0+10, 1), "synapses[0].reserved: 1, want 0"},
		{"synapse target count", func(b []byte) []byte {
			le.PutUint64(b[hConns:], 1<<40)
			le.PutUint32(b[syn0+16:], 1<<30)
			return fixCRC(b)
		}, "synapses[0].target: count 1073741824 needs 4294967296 bytes, " + itoa(int64(len(good)-syn0-synapseFixed-4*9)) + " left"},
		{"monitor spikes byte", u8(mon0+4, 2), "monitors[0].spikes: 2, want 0 or 1"},
		{"monitor reserved", u8(mon0+6, 1), "monitors[0].reserved: 1, want 0"},
		{"monitor units count", u32(mon0+16, 1000), "monitors[0].units: count 1000 needs 4000 bytes, " + itoa(int64(len(good)-mon0-monitorFixed-1)) + " left"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := c.mutate(append([]byte(nil), good...))
			img, err := Decode(b)
			if img != nil {
				t.Errorf("Decode returned an image with the error")
			}
			assertErr(t, "Decode", err, c.want)
		})
	}
}

// TestDecodeAllocatesLittle: an image declaring huge counts is refused
// before anything is allocated from them.
func TestDecodeAllocatesLittle(t *testing.T) {
	le := binary.LittleEndian
	b := Encode(&Image{Version: Version, Pops: []Pop{{Kind: KindInput, Size: 1}}})
	le.PutUint64(b[hUnits:], 1<<63)
	le.PutUint32(b[HeaderSize+48:], 1<<30) // a billion unit rows
	fixCRC(b)
	allocs := testing.AllocsPerRun(10, func() {
		if _, err := Decode(b); err == nil {
			t.Fatal("accepted")
		}
	})
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 10 {
		_, _ = Decode(b)
	}
	runtime.ReadMemStats(&after)
	if perRun := (after.TotalAlloc - before.TotalAlloc) / 10; perRun > 4096 {
		t.Errorf("Decode of a %d-byte image allocated %d bytes (%v allocations)", len(b), perRun, allocs)
	}
}

// TestEveryByteCounts: flipping any one bit of an image is caught by the
// CRC; with the CRC rewritten, the flipped image is either rejected or
// decodes to a different image (no byte is ignored by the decoder).
func TestEveryByteCounts(t *testing.T) {
	img := fullImage()
	good := Encode(img)
	accepted := 0
	for i := range good {
		for _, bit := range []byte{0x01, 0x80} {
			b := append([]byte(nil), good...)
			b[i] ^= bit
			if _, err := Decode(b); err == nil {
				t.Fatalf("byte %d bit %#x flipped: Decode accepted it despite the CRC", i, bit)
			}
			if i >= hCRC && i < HeaderSize {
				continue
			}
			got, err := Decode(fixCRC(b))
			if err != nil {
				continue
			}
			accepted++
			if reflect.DeepEqual(got, img) {
				t.Fatalf("byte %d bit %#x flipped: decodes to the same image", i, bit)
			}
		}
	}
	// Values (weights, potentials, seeds) take any bits, so many flips
	// give another valid image.
	if accepted == 0 {
		t.Error("no flipped image was accepted: the check above tested nothing")
	}
	t.Logf("%d bytes, %d of %d flips give another valid image", len(good), accepted, 2*(len(good)-4))
}

// TestDecodeAllocationBound: an image of many empty arrays costs the
// decoder slice headers for bytes it holds, a few times its length at
// most (here: 200000 zero-length unit rows of 4 bytes each).
func TestDecodeAllocationBound(t *testing.T) {
	img := &Image{Version: Version, Pops: []Pop{{Kind: KindInput, Size: 1, Unit: make([][]int32, 200000)}}}
	b := Encode(img)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := Decode(b)
	runtime.ReadMemStats(&after)
	assertErr(t, "Decode", err, "pops[0].unit: length 200000, want 0 rows for InputTransmitter")
	if n := after.TotalAlloc - before.TotalAlloc; n > 8*uint64(len(b)) {
		t.Errorf("Decode of %d bytes allocated %d bytes, more than 8 times as many", len(b), n)
	}
}

// cubaLike is an image of CUBA's shape: 3200 + 800 LIF units, 2%
// connectivity (320000 connections), a Poisson drive, spike monitors.
func cubaLike() *Image {
	img := &Image{Version: Version, DtPicos: 100_000_000, Seed: 1}
	lif := func(n int) Pop {
		return Pop{Kind: KindLIF, Ports: 1, Size: uint32(n), RefSteps: 50, Coefs: coefs(LIFCoefs),
			Consts: []int32{20 << 16, 0}, Unit: [][]int32{rowOf(n, 0), rowOf(n, 0)}}
	}
	img.Pops = []Pop{lif(3200), lif(800),
		{Kind: KindPoisson, Size: 4000, Win: Window{End: 1 << 40}, Unit: [][]int32{rowOf(4000, 300), rowOf(4000, 1<<30-400000)}}}
	rnd := uint64(12345)
	next := func() uint32 { rnd = rnd*6364136223846793005 + 1442695040888963407; return uint32(rnd >> 33) }
	entry := func(pre, post, preSize, postSize int, shift uint8) Synapse {
		s := Synapse{Pre: uint32(pre), Post: uint32(post), Shift: shift, Off: make([]uint32, preSize+1)}
		for i := 0; i < preSize; i++ {
			for c := 0; c < postSize/50; c++ {
				s.Target = append(s.Target, next()%uint32(postSize))
				s.Weight = append(s.Weight, int16(next()))
				s.Delay = append(s.Delay, uint16(1+next()%20))
			}
			s.Off[i+1] = uint32(len(s.Target))
		}
		return s
	}
	img.Synapses = []Synapse{entry(0, 0, 3200, 3200, 6), entry(0, 1, 3200, 800, 6), entry(1, 0, 800, 3200, 8), entry(1, 1, 800, 800, 8)}
	img.Synapses = append(img.Synapses, csr(2, 0, 3200, 3200, 1, 0, 6, 1))
	img.Synapses[4].Pre = 2
	img.Synapses[4].Off = append(img.Synapses[4].Off, make([]uint32, 800)...)
	for i := 3201; i <= 4000; i++ {
		img.Synapses[4].Off[i] = 3200
	}
	img.Monitors = []Monitor{{Pop: 0, Spikes: true, Every: 1}, {Pop: 1, Spikes: true, Every: 1}}
	return img
}

// go test -run '^$' -bench . -benchmem ./firmware/image/
func BenchmarkCodec(b *testing.B) {
	img := cubaLike()
	if err := Validate(img); err != nil {
		b.Fatal(err)
	}
	enc := Encode(img)
	b.Logf("CUBA-like image: %d connections, %d bytes", TotalsOf(img).Connections, len(enc))
	b.Run("Encode", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			Encode(img)
		}
	})
	b.Run("Decode", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			if _, err := Decode(enc); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Validate", func(b *testing.B) {
		for b.Loop() {
			if err := Validate(img); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Hash", func(b *testing.B) {
		b.SetBytes(int64(len(enc)))
		for b.Loop() {
			Hash(enc)
		}
	})
}

// TestValidateAllocatesNothing: field names are built only for an error,
// so checking a valid image allocates nothing (the chip validates what
// it receives).
func TestValidateAllocatesNothing(t *testing.T) {
	img := fullImage()
	if n := testing.AllocsPerRun(20, func() {
		if err := Validate(img); err != nil {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("Validate allocated %v times", n)
	}
}
