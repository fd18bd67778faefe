package chip

import (
	"slices"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/engine"
	"github.com/spikeloop/spikeloop/firmware/image"
	"github.com/spikeloop/spikeloop/firmware/protocol"
)

func TestHello(t *testing.T) {
	h := newHost(t, Config{Memory: 1 << 20, BootCount: 3, MaxPayload: 1024})
	f := h.send(&protocol.Hello{})
	if f.Seq() != 1 {
		t.Errorf("sequence %d, want the request's 1", f.Seq())
	}
	var m protocol.HelloOK
	if err := m.Unmarshal(f); err != nil {
		t.Fatal(err)
	}
	want := protocol.HelloOK{Protocol: protocol.Version, Firmware: Version, ImageVersion: image.Version,
		Kinds: Kinds, Memory: 1 << 20, BootCount: 3, MaxPayload: 1024}
	if m != want {
		t.Errorf("HELLO_OK %+v, want %+v", m, want)
	}
	for _, k := range []image.Kind{image.KindLIF, image.KindExpLIF, image.KindIzhikevich, image.KindSNNIF,
		image.KindSNNLIF, image.KindDC, image.KindPoisson, image.KindBernoulli, image.KindSpike,
		image.KindCustom, image.KindInput} {
		if !m.Supports(k) {
			t.Errorf("kinds %#x lacks %s", m.Kinds, image.KindName(k))
		}
	}
	if m.Supports(6) || m.Supports(0) {
		t.Errorf("kinds %#x has a kind the engine does not run", m.Kinds)
	}
}

// TestRunMatchesEngine: an image uploaded in chunks and run through
// frames (feeds held and per step, RUNs of 1 to 13 steps) gives the
// spikes, trace rows, states and counters of the engine run in-process
// with the same inputs, bit for bit.
func TestRunMatchesEngine(t *testing.T) {
	img := testImage(3)
	h := newHost(t, Config{})
	used := h.load(img, 100)
	if want := uint64(len(image.Encode(img))) + uint64(engine.RAM(img)); used != want {
		t.Errorf("commit ACK %d bytes, want image + engine.RAM = %d", used, want)
	}
	e := twin(t, img)
	var wantSpikes, gotSpikes []engine.Spike
	var wantRows []engine.Row
	var wantVals []int32
	wantRows, wantVals = e.DrainRows(wantRows, wantVals)
	for r := 0; r < 40; r++ {
		steps := 1 + r%13
		hold := r%2 == 0
		rows := steps
		if hold {
			rows = 1
		}
		vals := make([]int32, 2*rows)
		for i := range vals {
			if (i+r)%3 == 0 {
				vals[i] = engine.One
			}
		}
		for s := 0; s < steps; s++ {
			row := vals[:2]
			if !hold {
				row = vals[2*s : 2*s+2]
			}
			if err := e.SetInput(popInput, row); err != nil {
				t.Fatal(err)
			}
			e.Step()
			wantSpikes = e.DrainSpikes(wantSpikes)
			wantRows, wantVals = e.DrainRows(wantRows, wantVals)
		}
		run := &protocol.Run{Steps: uint16(steps), Feeds: []protocol.Feed{{Pop: popInput, Hold: hold, Size: 2, Values: vals}}}
		ok := h.runOK(h.send(run))
		if ok.Now != e.Now() {
			t.Fatalf("run %d: now %d, want %d", r, ok.Now, e.Now())
		}
		if ok.Pending != 0 {
			t.Fatalf("run %d: %d pending", r, ok.Pending)
		}
		gotSpikes = append(gotSpikes, spikesOf(ok.Spikes)...)
	}
	if len(wantSpikes) < 50 {
		t.Fatalf("only %d spikes: the test image is too quiet to test anything", len(wantSpikes))
	}
	if !slices.Equal(gotSpikes, wantSpikes) {
		t.Fatalf("spikes differ: got %d, want %d\n%v\n%v", len(gotSpikes), len(wantSpikes), gotSpikes, wantSpikes)
	}
	// Trace: monitor 0's y, every row since t = 0, in READs of 7 rows.
	var gotStamps []int64
	var gotVals []int32
	for {
		o := h.readOK(&protocol.Read{What: protocol.ReadTrace, Pop: 0, Index: 0, Count: 7})
		if o.Width != 3 {
			t.Fatalf("trace width %d, want 3", o.Width)
		}
		gotStamps = append(gotStamps, o.Stamps...)
		gotVals = append(gotVals, o.Values...)
		if o.Pending == 0 {
			break
		}
		if len(o.Stamps) != 7 {
			t.Fatalf("%d rows with %d pending, want 7", len(o.Stamps), o.Pending)
		}
	}
	var wantStamps []int64
	for _, r := range wantRows {
		wantStamps = append(wantStamps, r.Stamp)
	}
	if !slices.Equal(gotStamps, wantStamps) || !slices.Equal(gotVals, wantVals) {
		t.Fatalf("trace differs: stamps %v\nwant %v", gotStamps, wantStamps)
	}
	// State and counters.
	o := h.readOK(&protocol.Read{What: protocol.ReadState, Pop: popLIF, Index: 0, First: 1, Count: 2})
	if want := e.State(popLIF, 0)[1:3]; !slices.Equal(o.Values, want) {
		t.Errorf("state %v, want %v", o.Values, want)
	}
	o = h.readOK(&protocol.Read{What: protocol.ReadCounters, Index: 0})
	counts := make([]uint64, len(img.Pops))
	for _, s := range wantSpikes {
		counts[s.Pop]++
	}
	if !slices.Equal(o.Counters, counts) {
		t.Errorf("spike counters %v, want %v", o.Counters, counts)
	}
	st := h.status()
	if st.Now != e.Now() || st.Image != protocol.ImageLoaded || st.Dropped != 0 || len(st.Saturations) != len(img.Pops) {
		t.Errorf("STATUS_OK %+v", st)
	}
}

// TestRepeat: a request repeated with its sequence number and CRC is
// answered with the same bytes and not executed again; the same
// number with another CRC is refused and not executed.
func TestRepeat(t *testing.T) {
	h := newHost(t, Config{})
	h.load(testImage(3), 4000)
	h.seq++
	run := &protocol.Run{Steps: 10}
	first := append([]byte(nil), h.sendSeqBytes(h.seq, run)...)
	again := h.sendSeqBytes(h.seq, run)
	sameBytes(t, "the repeated RUN's responses", first, again)
	if now := h.c.Now(); now != 10 {
		t.Fatalf("now %d after a RUN of 10 sent twice, want 10 (executed once)", now)
	}
	n := h.nak(h.sendSeq(h.seq, &protocol.Run{Steps: 3}), protocol.CodeSequence)
	if n.Request != protocol.TypeRun || n.Value != int64(h.seq) {
		t.Errorf("NAK %+v", n)
	}
	if now := h.c.Now(); now != 10 {
		t.Fatalf("now %d after a refused RUN, want 10", now)
	}
	// The kept response still answers the true repeat.
	sameBytes(t, "the repeat after a refused reuse", first, h.sendSeqBytes(h.seq, run))
	st := h.status()
	if st.Replays != 2 || st.Now != 10 {
		t.Errorf("replays %d, now %d; want 2, 10", st.Replays, st.Now)
	}
	// The next number runs.
	h.runOK(h.send(run))
	if now := h.c.Now(); now != 20 {
		t.Fatalf("now %d, want 20", now)
	}
}

func (h *host) sendSeqBytes(seq uint16, p protocol.Payload) []byte {
	h.t.Helper()
	h.sendSeq(seq, p)
	return h.rsp
}

// TestFrameFaults: a frame that fails a check gets a NAK with its code
// and sequence number 0, is counted, and changes nothing: the resend of
// the same request is executed once.
func TestFrameFaults(t *testing.T) {
	h := newHost(t, Config{MaxPayload: 256})
	h.load(testImage(3), 200)
	h.runOK(h.send(&protocol.Run{Steps: 5}))
	good, _ := protocol.Append(nil, 77, &protocol.Run{Steps: 4})
	bigRun := &protocol.Run{Steps: 100, Feeds: []protocol.Feed{{Pop: popInput, Size: 2, Values: make([]int32, 200)}}}
	big, _ := protocol.Append(nil, 78, bigRun)
	mut := func(b []byte, i int, x byte) []byte {
		c := append([]byte(nil), b...)
		c[i] ^= x
		return c
	}
	cases := []struct {
		name string
		b    []byte
		code protocol.Code
	}{
		{"bad CRC", mut(good, len(good)-1, 0x40), protocol.CodeCRC},
		{"payload bit", mut(good, 9, 0x01), protocol.CodeCRC},
		{"sync", mut(good, 1, 0x10), protocol.CodeSync},
		{"version", mut(good, 2, 0x02), protocol.CodeVersion},
		{"longer than the protocol's bound", mut(good, 7, 0x20), protocol.CodeTooLong},
		{"longer than the chip's payload", big, protocol.CodeTooLong},
		{"truncated", good[:len(good)-2], protocol.CodeShort},
	}
	for _, c := range cases {
		before := h.c.Now()
		st0 := *h.c
		f := h.raw(c.b)
		n := h.nak(f, c.code)
		if f.Seq() != 0 {
			t.Errorf("%s: NAK sequence %d, want 0", c.name, f.Seq())
		}
		if n.Code == protocol.CodeVersion && n.Value != protocol.Version {
			t.Errorf("%s: NAK value %d, want the chip's version", c.name, n.Value)
		}
		if h.c.Now() != before || h.c.lastSeq != st0.lastSeq || h.c.lastCRC != st0.lastCRC {
			t.Errorf("%s: state changed", c.name)
		}
	}
	st := h.status()
	if st.CRCErrors != 2 || st.BadFrames != 5 {
		t.Errorf("crc errors %d, bad frames %d; want 2, 5", st.CRCErrors, st.BadFrames)
	}
	// The good frame, sent after its corrupted copies, runs once.
	h.runOK(h.raw(good))
	h.runOK(h.raw(good))
	if h.c.Now() != 9 {
		t.Errorf("now %d, want 5 + 4", h.c.Now())
	}
}

// TestRequestFaults: an unknown type, a response type, bad payloads and
// requests out of place: each a NAK with its code and the field named,
// the state unchanged.
func TestRequestFaults(t *testing.T) {
	h := newHost(t, Config{})
	h.nak(h.send(&protocol.Run{Steps: 1}), protocol.CodeNoImage)
	h.nak(h.send(&protocol.Read{What: protocol.ReadSpikes}), protocol.CodeNoImage)
	h.nak(h.send(&protocol.Reset{}), protocol.CodeNoImage)
	h.nak(h.send(&protocol.ImageChunk{Data: []byte{1}}), protocol.CodeState)
	h.nak(h.send(&protocol.ImageCommit{}), protocol.CodeState)
	h.load(testImage(3), 300)
	h.runOK(h.send(&protocol.Run{Steps: 3}))

	raw := func(t protocol.Type, payload []byte) protocol.Frame {
		h.seq++
		b, _ := protocol.AppendFrame(nil, t, h.seq, payload)
		return h.raw(b)
	}
	n := h.nak(raw(0x33, nil), protocol.CodeType)
	if n.Value != 0x33 {
		t.Errorf("unknown type NAK value %d", n.Value)
	}
	h.nak(raw(protocol.TypeRunOK, nil), protocol.CodeType)
	n = h.nak(raw(protocol.TypeRun, []byte{0, 0, 0, 0}), protocol.CodePayload)
	if !strings.Contains(string(n.Text), "steps") {
		t.Errorf("text %q does not name steps", n.Text)
	}
	h.nak(raw(protocol.TypeHello, []byte{1}), protocol.CodePayload)
	cases := []struct {
		p    protocol.Payload
		code protocol.Code
		text string
	}{
		{&protocol.Run{Steps: 1, Feeds: []protocol.Feed{{Pop: 9, Size: 1, Values: []int32{0}}}}, protocol.CodeRange, "feeds[0].pop"},
		{&protocol.Run{Steps: 1, Feeds: []protocol.Feed{{Pop: popLIF, Size: 3, Values: []int32{0, 0, 0}}}}, protocol.CodeKind, "must be an Input"},
		{&protocol.Run{Steps: 1, Feeds: []protocol.Feed{{Pop: popInput, Size: 3, Values: []int32{0, 0, 0}}}}, protocol.CodePayload, "size 2, got 3"},
		{&protocol.Run{Steps: 1, Feeds: []protocol.Feed{{Pop: popInput, Size: 2, Values: []int32{0, 0}}, {Pop: popInput, Size: 2, Values: []int32{0, 0}}}}, protocol.CodePayload, "must be fed once"},
		{&protocol.Read{What: protocol.ReadState, Pop: 9}, protocol.CodeRange, "pop"},
		{&protocol.Read{What: protocol.ReadState, Pop: popLIF, Index: 1}, protocol.CodeRange, "index: must be a state of population 4 (LIF), got 1"},
		{&protocol.Read{What: protocol.ReadState, Pop: popLIF, First: 2, Count: 2}, protocol.CodeRange, "count"},
		{&protocol.Read{What: protocol.ReadTrace, Pop: 2}, protocol.CodeRange, "pop: must be a monitor 0..1, got 2"},
		{&protocol.Read{What: protocol.ReadTrace, Pop: 1, Index: 0}, protocol.CodeRange, "index: must be one of the 0 states"},
		{&protocol.Read{What: protocol.ReadCounters, Index: 2}, protocol.CodeRange, "got 2"},
		{&protocol.Set{Pop: popLIF, Op: protocol.SetUnit, Row: image.LIFY0, Values: []int32{1}}, protocol.CodeKind, "row: must be a setting of a LIF population, got 1"},
		{&protocol.Set{Pop: popDC, Op: protocol.SetRows, Width: 1, Values: []int32{1}}, protocol.CodeKind, "must be a Custom population"},
		{&protocol.Set{Pop: popPoisson, Op: protocol.SetUnit, Row: image.PoissonExpNeg, Values: []int32{-1}}, protocol.CodePayload, "ExpNeg"},
		{&protocol.Set{Pop: popLIF, Op: protocol.SetUnit, Row: image.LIFIe, First: 1, Values: []int32{1}}, protocol.CodeRange, "staged"},
	}
	for _, c := range cases {
		now := h.c.Now()
		n := h.nak(h.send(c.p), c.code)
		if !strings.Contains(string(n.Text), c.text) || n.Request != c.p.Type() {
			t.Errorf("%s %+v: NAK %s %q, want the text to hold %q", c.p.Type(), c.p, n.Request, n.Text, c.text)
		}
		if h.c.Now() != now {
			t.Errorf("%s: a refused request ran steps", c.p.Type())
		}
	}
}

// TestImageFaults: every way an upload fails, each with its code; the
// chip has no image afterwards and says so.
func TestImageFaults(t *testing.T) {
	img := testImage(3)
	b := image.Encode(img)
	sum := image.Hash(b)
	h := newHost(t, Config{Memory: uint32(len(b)) + uint32(engine.RAM(img)) - 1})

	n := h.nak(h.send(&protocol.ImageBegin{Size: h.c.cfg.Memory + 1, SHA256: sum}), protocol.CodeImageSize)
	if n.Value != int64(h.c.cfg.Memory)+1 {
		t.Errorf("value %d", n.Value)
	}
	// Out of order, past the end.
	h.ack(h.send(&protocol.ImageBegin{Size: uint32(len(b)), SHA256: sum}))
	h.ack(h.send(&protocol.ImageChunk{Offset: 0, Data: b[:10]}))
	n = h.nak(h.send(&protocol.ImageChunk{Offset: 11, Data: b[11:20]}), protocol.CodeImageOffset)
	if n.Value != 10 {
		t.Errorf("out-of-order NAK value %d, want the expected offset 10", n.Value)
	}
	h.nak(h.send(&protocol.ImageChunk{Offset: 10, Data: make([]byte, len(b))}), protocol.CodeImageOffset)
	// Short, then wrong hash, then too large with its state.
	h.nak(h.send(&protocol.ImageCommit{SHA256: sum}), protocol.CodeImageHash)
	if s := h.status(); s.Image != protocol.ImageNone {
		t.Errorf("image state %d after a refused commit", s.Image)
	}
	bad := append([]byte(nil), b...)
	bad[len(bad)-1] ^= 1
	h.ack(h.send(&protocol.ImageBegin{Size: uint32(len(bad)), SHA256: sum}))
	h.ack(h.send(&protocol.ImageChunk{Data: bad}))
	h.nak(h.send(&protocol.ImageCommit{SHA256: sum}), protocol.CodeImageHash)
	h.ack(h.send(&protocol.ImageBegin{Size: uint32(len(b)), SHA256: sum}))
	h.ack(h.send(&protocol.ImageChunk{Data: b}))
	n = h.nak(h.send(&protocol.ImageCommit{SHA256: sum}), protocol.CodeImageSize)
	if n.Value != int64(len(b))+engine.RAM(img) {
		t.Errorf("too large: value %d, want %d", n.Value, int64(len(b))+engine.RAM(img))
	}
	// An invalid image: its validation error, naming the field, reaches the text.
	inv := testImage(3)
	inv.Monitors[1].Every = 0
	ib := image.Encode(inv)
	h2 := newHost(t, Config{})
	h2.ack(h2.send(&protocol.ImageBegin{Size: uint32(len(ib)), SHA256: image.Hash(ib)}))
	h2.ack(h2.send(&protocol.ImageChunk{Data: ib}))
	n = h2.nak(h2.send(&protocol.ImageCommit{SHA256: image.Hash(ib)}), protocol.CodeImageInvalid)
	_, err := image.Decode(ib)
	if err == nil || string(n.Text) != err.Error() || !strings.Contains(string(n.Text), "monitors[1]") {
		t.Errorf("NAK text %q, want the decoder's %v", n.Text, err)
	}
	h2.nak(h2.send(&protocol.Run{Steps: 1}), protocol.CodeNoImage)
	// A new IMAGE_BEGIN drops a loaded image.
	h2.load(img, 1000)
	h2.ack(h2.send(&protocol.ImageBegin{Size: 10, SHA256: sum}))
	h2.nak(h2.send(&protocol.Run{Steps: 1}), protocol.CodeNoImage)
}

// TestPending: spikes beyond what a RUN_OK holds wait and come with
// READ spikes, in order, none lost; a full queue drops and counts.
func TestPending(t *testing.T) {
	img := testImage(40)
	h := newHost(t, Config{MaxPayload: 200}) // (200-16-10)/8 = 21 spikes per RUN_OK
	h.load(img, 180)
	e := twin(t, img)
	e.Reserve(50)
	e.Run(50)
	want := e.DrainSpikes(nil)
	ok := h.runOK(h.send(&protocol.Run{Steps: 50}))
	got := spikesOf(ok.Spikes)
	if len(got) != 21 || int(ok.Pending) != len(want)-21 {
		t.Fatalf("RUN_OK with %d spikes and %d pending, want 21 and %d", len(got), ok.Pending, len(want)-21)
	}
	for ok.Pending > 0 {
		o := h.readOK(&protocol.Read{What: protocol.ReadSpikes, Count: 5})
		if len(o.Spikes.Spikes) > 5 {
			t.Fatalf("READ of at most 5 gave %d", len(o.Spikes.Spikes))
		}
		got = append(got, spikesOf(o.Spikes)...)
		ok.Pending = o.Pending
	}
	if !slices.Equal(got, want) {
		t.Fatalf("spikes differ: got %d, want %d", len(got), len(want))
	}
	// A queue of 10: the rest are dropped and counted.
	h2 := newHost(t, Config{Spikes: 10})
	h2.load(img, 4000)
	ok = h2.runOK(h2.send(&protocol.Run{Steps: 50}))
	if len(ok.Spikes.Spikes) != 10 || ok.Pending != 0 {
		t.Fatalf("%d spikes, %d pending; want 10, 0", len(ok.Spikes.Spikes), ok.Pending)
	}
	if st := h2.status(); int(st.Dropped) != len(want)-10 {
		t.Errorf("dropped %d, want %d", st.Dropped, len(want)-10)
	}
}

// TestSetAndReset: SET changes what the engine does as SetUnit and
// SetRows do in-process (a row sent in parts too); RESET goes back to
// t = 0 and the same run gives the same spikes.
func TestSetAndReset(t *testing.T) {
	img := testImage(3)
	h := newHost(t, Config{})
	h.load(img, 4000)
	e := twin(t, img)

	first := spikesOf(h.runOK(h.send(&protocol.Run{Steps: 100})).Spikes)
	e.Run(100)
	e.DrainSpikes(nil)
	if v := h.ack(h.send(&protocol.Set{Pop: popDC, Op: protocol.SetUnit, Row: image.DCAmp, Values: []int32{q(-900)}})); v != 1 {
		t.Errorf("ACK %d", v)
	}
	if err := e.SetUnit(popDC, image.DCAmp, []int32{q(-900)}); err != nil {
		t.Fatal(err)
	}
	// I_e of the 3 LIF units in two parts: applied when complete.
	h.ack(h.send(&protocol.Set{Pop: popLIF, Op: protocol.SetUnit, Row: image.LIFIe, First: 0, Values: []int32{q(100), q(700)}}))
	if v := h.ack(h.send(&protocol.Set{Pop: popLIF, Op: protocol.SetUnit, Row: image.LIFIe, First: 2, Values: []int32{q(900)}})); v != 3 {
		t.Errorf("ACK %d after the last part, want 3", v)
	}
	if err := e.SetUnit(popLIF, image.LIFIe, []int32{q(100), q(700), q(900)}); err != nil {
		t.Fatal(err)
	}
	// A Custom table in two parts.
	h.ack(h.send(&protocol.Set{Pop: popCustom, Op: protocol.SetRows, Width: 1, First: 0, Values: []int32{engine.One, 0}}))
	if v := h.ack(h.send(&protocol.Set{Pop: popCustom, Op: protocol.SetRows, Width: 1, First: 2, Values: []int32{engine.One}})); v != 3 {
		t.Errorf("ACK %d rows, want 3", v)
	}
	if err := e.SetRows(popCustom, 1, []int32{engine.One, 0, engine.One}); err != nil {
		t.Fatal(err)
	}
	got := spikesOf(h.runOK(h.send(&protocol.Run{Steps: 100})).Spikes)
	e.Reserve(100)
	e.Run(100)
	if want := e.DrainSpikes(nil); !slices.Equal(got, want) {
		t.Fatalf("after SET: spikes differ\n%v\n%v", got, want)
	}
	h.ack(h.send(&protocol.Reset{}))
	if st := h.status(); st.Now != 0 || st.Resets != 1 {
		t.Fatalf("after RESET: now %d, resets %d", st.Now, st.Resets)
	}
	again := spikesOf(h.runOK(h.send(&protocol.Run{Steps: 100})).Spikes)
	if !slices.Equal(again, first) {
		t.Fatalf("after RESET the run differs from the first")
	}
}

func TestReboot(t *testing.T) {
	h := newHost(t, Config{BootCount: 5})
	h.load(testImage(3), 4000)
	h.runOK(h.send(&protocol.Run{Steps: 10}))
	h.c.Reboot()
	st := h.status()
	if st.BootCount != 6 || st.Image != protocol.ImageNone || st.Now != 0 || st.Frames != 1 {
		t.Errorf("after Reboot: %+v", st)
	}
	// The kept response is gone: the last RUN's repeat is executed, and refused.
	h.nak(h.sendSeq(h.seq-1, &protocol.Run{Steps: 10}), protocol.CodeNoImage)
}

// TestRunAllocs: the demo's tick (a RUN of 10 steps with two held
// one-unit feeds, answered with the spikes) allocates nothing once the
// buffers have grown.
func TestRunAllocs(t *testing.T) {
	h := newHost(t, Config{})
	h.load(testImage(3), 4000)
	run := &protocol.Run{Steps: 10, Feeds: []protocol.Feed{{Pop: popInput, Hold: true, Size: 2, Values: []int32{engine.One, 0}}}}
	req := make([]byte, 0, protocol.MaxFrame)
	rsp := make([]byte, 0, protocol.MaxFrame)
	seq := uint16(100)
	tick := func() {
		seq++
		req, _ = protocol.Append(req[:0], seq, run)
		rsp = h.c.Handle(req, rsp[:0])
	}
	for i := 0; i < 20; i++ {
		tick()
	}
	if a := testing.AllocsPerRun(200, tick); a != 0 {
		t.Errorf("%v allocations per RUN", a)
	}
	if f, _, err := protocol.Decode(rsp); err != nil || f.Type() != protocol.TypeRunOK {
		t.Fatalf("last response %v %v", f.Type(), err)
	}
}

func BenchmarkRunTick(b *testing.B) {
	h := newHost(b, Config{})
	h.load(testImage(3), 4000)
	run := &protocol.Run{Steps: 10, Feeds: []protocol.Feed{{Pop: popInput, Hold: true, Size: 2, Values: []int32{engine.One, 0}}}}
	req := make([]byte, 0, protocol.MaxFrame)
	rsp := make([]byte, 0, protocol.MaxFrame)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		req, _ = protocol.Append(req[:0], uint16(i), run)
		rsp = h.c.Handle(req, rsp[:0])
	}
}
