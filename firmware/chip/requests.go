package chip

import (
	"github.com/spikeloop/spikeloop/firmware/engine"
	"github.com/spikeloop/spikeloop/firmware/image"
	"github.com/spikeloop/spikeloop/firmware/protocol"
)

// Header sizes of the responses before their variable part.
const (
	runOKHeader  = 16 // now, saturations, pending
	readOKHeader = 13 // what, pop, index, first, pending
)

func idx(name string, i int) string { return name + "[" + itoa(int64(i)) + "]" }

// doRun checks every feed before the first step, so that a refused RUN
// changes nothing, then steps with the feeds' values and drains the
// records after every step.
func (c *Chip) doRun(f protocol.Frame) *refusal {
	if err := c.run.Unmarshal(f); err != nil {
		return payloadErr(err)
	}
	if c.eng == nil {
		return refuse(protocol.CodeNoImage, 0, "RUN needs a loaded image")
	}
	feeds := c.run.Feeds
	for i := range feeds {
		fd := &feeds[i]
		if int(fd.Pop) >= len(c.img.Pops) {
			return refuse(protocol.CodeRange, int64(fd.Pop), idx("feeds", i)+".pop: must be a population 0.."+
				itoa(int64(len(c.img.Pops)-1))+", got "+utoa(uint64(fd.Pop)))
		}
		ip := &c.img.Pops[fd.Pop]
		if ip.Kind != image.KindInput {
			return refuse(protocol.CodeKind, int64(fd.Pop), idx("feeds", i)+".pop: must be an Input population, got "+
				utoa(uint64(fd.Pop))+" ("+image.KindName(ip.Kind)+")")
		}
		if fd.Size != ip.Size {
			return refuse(protocol.CodePayload, int64(fd.Size), idx("feeds", i)+".size: must be population "+
				utoa(uint64(fd.Pop))+"'s size "+utoa(uint64(ip.Size))+", got "+utoa(uint64(fd.Size)))
		}
		for j := 0; j < i; j++ {
			if feeds[j].Pop == fd.Pop {
				return refuse(protocol.CodePayload, int64(fd.Pop), idx("feeds", i)+".pop: must be fed once, got "+
					utoa(uint64(fd.Pop))+" twice")
			}
		}
	}
	before := c.satTotal()
	for s := 0; s < int(c.run.Steps); s++ {
		for i := range feeds {
			fd := &feeds[i]
			n := int(fd.Size)
			row := fd.Values
			if !fd.Hold {
				row = row[s*n : (s+1)*n]
			}
			// Checked above: the engine cannot refuse it.
			_ = c.eng.SetInput(int(fd.Pop), row)
		}
		c.eng.Step()
		c.drain()
	}
	sat := c.satTotal() - before
	if sat > 0xFFFFFFFF {
		sat = 0xFFFFFFFF
	}
	c.runOK.Now = c.eng.Now()
	c.runOK.Saturations = uint32(sat)
	c.takeSpikes(&c.runOK.Spikes, runOKHeader, 0)
	c.runOK.Pending = uint32(c.spikes.len())
	return nil
}

func (c *Chip) satTotal() uint64 {
	var t uint64
	for p := range c.img.Pops {
		t += c.eng.Saturations(p)
	}
	return t
}

func (c *Chip) doRead(f protocol.Frame) *refusal {
	m := &c.read
	if err := m.Unmarshal(f); err != nil {
		return payloadErr(err)
	}
	if c.eng == nil {
		return refuse(protocol.CodeNoImage, 0, "READ needs a loaded image")
	}
	o := &c.readOK
	o.What, o.Pop, o.Index, o.First, o.Pending = m.What, m.Pop, m.Index, m.First, 0
	o.Spikes.Base, o.Spikes.Spikes = 0, o.Spikes.Spikes[:0]
	o.Counters, o.Width, o.Stamps, o.Values = o.Counters[:0], 0, o.Stamps[:0], o.Values[:0]
	room := c.cfg.MaxPayload - readOKHeader
	npops := len(c.img.Pops)
	switch m.What {
	case protocol.ReadSpikes:
		c.takeSpikes(&o.Spikes, readOKHeader, m.Count)
		o.Pending = uint32(c.spikes.len())
	case protocol.ReadCounters:
		if m.Index > 1 {
			return refuse(protocol.CodeRange, int64(m.Index), "index: must be 0 (spikes) or 1 (saturations), got "+utoa(uint64(m.Index)))
		}
		if int64(m.First) > int64(npops) {
			return refuse(protocol.CodeRange, int64(m.First), "first: must be a population 0.."+itoa(int64(npops))+", got "+utoa(uint64(m.First)))
		}
		n := int64(m.Count)
		if n == 0 {
			n = int64(npops) - int64(m.First)
		}
		if int64(m.First)+n > int64(npops) {
			return refuse(protocol.CodeRange, n, "count: first + count must be at most the image's "+itoa(int64(npops))+
				" populations, got "+utoa(uint64(m.First))+" + "+itoa(n))
		}
		if fit := int64((room - 4) / 8); n > fit {
			n = fit
		}
		for p := int(m.First); p < int(m.First)+int(n); p++ {
			v := c.emitted[p]
			if m.Index == 1 {
				v = c.eng.Saturations(p)
			}
			o.Counters = append(o.Counters, v)
		}
	case protocol.ReadTrace:
		return c.readTrace(m, o, room)
	case protocol.ReadState:
		if int(m.Pop) >= npops {
			return refuse(protocol.CodeRange, int64(m.Pop), "pop: must be a population 0.."+itoa(int64(npops-1))+", got "+utoa(uint64(m.Pop)))
		}
		st := c.eng.State(int(m.Pop), int(m.Index))
		if st == nil {
			return refuse(protocol.CodeRange, int64(m.Index), "index: must be a state of population "+utoa(uint64(m.Pop))+
				" ("+image.KindName(c.img.Pops[m.Pop].Kind)+"), got "+utoa(uint64(m.Index)))
		}
		if uint64(m.First) > uint64(len(st)) {
			return refuse(protocol.CodeRange, int64(m.First), "first: must be a unit 0.."+itoa(int64(len(st)))+", got "+utoa(uint64(m.First)))
		}
		n := uint64(m.Count)
		if n == 0 {
			n = uint64(len(st)) - uint64(m.First)
		}
		if uint64(m.First)+n > uint64(len(st)) {
			return refuse(protocol.CodeRange, int64(n), "count: first + count must be at most the population's "+
				itoa(int64(len(st)))+" units, got "+utoa(uint64(m.First))+" + "+utoa(n))
		}
		if fit := uint64((room - 4) / 4); n > fit {
			n = fit
		}
		o.Values = append(o.Values, st[m.First:uint64(m.First)+n]...)
	}
	return nil
}

// readTrace drains the waiting rows of one monitor's state, oldest
// first, as many as fit (at most Count when it is not 0).
func (c *Chip) readTrace(m *protocol.Read, o *protocol.ReadOK, room int) *refusal {
	if int(m.Pop) >= len(c.img.Monitors) {
		return refuse(protocol.CodeRange, int64(m.Pop), "pop: must be a monitor 0.."+itoa(int64(len(c.img.Monitors)-1))+
			", got "+utoa(uint64(m.Pop)))
	}
	mon := &c.img.Monitors[m.Pop]
	if int(m.Index) >= len(mon.States) {
		return refuse(protocol.CodeRange, int64(m.Index), "index: must be one of the "+itoa(int64(len(mon.States)))+
			" states monitor "+utoa(uint64(m.Pop))+" records, got "+utoa(uint64(m.Index)))
	}
	state := mon.States[m.Index]
	w := len(mon.Units)
	if w == 0 {
		w = int(c.img.Pops[mon.Pop].Size)
	}
	fit := (room - 8) / (8 + 4*w)
	if fit < 1 {
		return refuse(protocol.CodeRange, int64(w), "pop: a monitor's row must fit a frame ("+
			itoa(int64((room-8-8)/4))+" values), got "+itoa(int64(w)))
	}
	if m.Count > 0 && uint64(m.Count) < uint64(fit) {
		fit = int(m.Count)
	}
	o.Width = uint32(w)
	// Copy the matching rows out and compact the others in place.
	keep, keepV, off := 0, 0, 0
	for _, r := range c.rows {
		v := c.vals[off : off+int(r.N)]
		off += int(r.N)
		if r.Monitor == uint32(m.Pop) && r.State == state {
			if len(o.Stamps) < fit {
				o.Stamps = append(o.Stamps, r.Stamp)
				o.Values = append(o.Values, v...)
				continue
			}
			o.Pending++
		}
		c.rows[keep] = r
		keep++
		keepV += copy(c.vals[keepV:], v)
	}
	c.rows, c.vals = c.rows[:keep], c.vals[:keepV]
	return nil
}

// paramRow says whether row is a Unit row of kind k that SET may change
// (the engine's parameter rows: I_e, a DC amplitude, a Poisson rate, a
// Bernoulli probability).
func paramRow(k image.Kind, row int) bool {
	switch k {
	case image.KindLIF:
		return row == image.LIFIe
	case image.KindExpLIF:
		return row == image.ExpLIFIe
	case image.KindIzhikevich:
		return row == image.IzhIe
	case image.KindDC:
		return row == image.DCAmp
	case image.KindPoisson:
		return row == image.PoissonLambda || row == image.PoissonExpNeg
	case image.KindBernoulli:
		return row == image.BernoulliProb
	}
	return false
}

// engineErr maps the engine's refusal of a setting to a NAK.
func engineErr(err error) *refusal {
	code := protocol.CodeRange
	var v int64
	if e, ok := err.(*engine.Error); ok {
		v = e.Value
		switch e.Field {
		case "v":
			code = protocol.CodePayload
		case "pop", "row":
			code = protocol.CodeKind
		}
	}
	return refuse(code, v, err.Error())
}

// doSet applies a generator setting. A unit row or a Custom table too
// large for one frame comes in several SETs: the chip stages the values
// and applies a unit row when its last unit arrives, a table after
// every part (send a table's parts with no RUN between them).
func (c *Chip) doSet(f protocol.Frame) (uint64, *refusal) {
	m := &c.set
	if err := m.Unmarshal(f); err != nil {
		return 0, payloadErr(err)
	}
	if c.eng == nil {
		return 0, refuse(protocol.CodeNoImage, 0, "SET needs a loaded image")
	}
	if int(m.Pop) >= len(c.img.Pops) {
		return 0, refuse(protocol.CodeRange, int64(m.Pop), "pop: no population "+utoa(uint64(m.Pop))+
			", the image has "+itoa(int64(len(c.img.Pops))))
	}
	ip := &c.img.Pops[m.Pop]
	pop := int(m.Pop)
	n := uint64(len(m.Values))
	switch m.Op {
	case protocol.SetUnit:
		if !paramRow(ip.Kind, int(m.Row)) {
			return 0, refuse(protocol.CodeKind, int64(m.Row), "row: must be a setting of a "+image.KindName(ip.Kind)+
				" population, got "+utoa(uint64(m.Row)))
		}
		size := uint64(ip.Size)
		if m.First == 0 && (n == 1 || n == size) {
			c.stage = c.stage[:0]
			if err := c.eng.SetUnit(pop, int(m.Row), m.Values); err != nil {
				return 0, engineErr(err)
			}
			return n, nil
		}
		if m.First == 0 {
			c.stage, c.stagePop, c.stageOp, c.stageRow = c.stage[:0], pop, m.Op, m.Row
		} else if c.stagePop != pop || c.stageOp != m.Op || c.stageRow != m.Row || uint64(m.First) != uint64(len(c.stage)) {
			return 0, refuse(protocol.CodeRange, int64(len(c.stage)), "first: must continue the staged row at unit "+
				itoa(int64(len(c.stage)))+" (or 0 to start one), got "+utoa(uint64(m.First)))
		}
		if uint64(m.First)+n > size {
			c.stage = c.stage[:0]
			return 0, refuse(protocol.CodeRange, int64(m.First)+int64(n), "n: first + n must be at most the population's "+
				utoa(size)+" units, got "+utoa(uint64(m.First))+" + "+utoa(n))
		}
		c.stage = append(c.stage, m.Values...)
		got := uint64(len(c.stage))
		if got == size {
			err := c.eng.SetUnit(pop, int(m.Row), c.stage)
			c.stage = c.stage[:0]
			if err != nil {
				return 0, engineErr(err)
			}
		}
		return got, nil
	default: // protocol.SetRows (Unmarshal refuses other ops)
		if ip.Kind != image.KindCustom {
			return 0, refuse(protocol.CodeKind, int64(m.Pop), "pop: must be a Custom population, got "+utoa(uint64(m.Pop))+
				" ("+image.KindName(ip.Kind)+")")
		}
		if m.Width != 1 && m.Width != ip.Size {
			return 0, refuse(protocol.CodeRange, int64(m.Width), "width: must be 1 or the population's size "+
				utoa(uint64(ip.Size))+", got "+utoa(uint64(m.Width)))
		}
		if m.First == 0 {
			c.stage, c.stagePop, c.stageOp, c.stageWidth = c.stage[:0], pop, m.Op, m.Width
		} else if c.stagePop != pop || c.stageOp != m.Op || c.stageWidth != m.Width ||
			uint64(m.First)*uint64(m.Width) != uint64(len(c.stage)) {
			return 0, refuse(protocol.CodeRange, int64(len(c.stage))/int64(m.Width), "first: must continue the staged table at row "+
				itoa(int64(len(c.stage))/int64(m.Width))+" (or 0 to start one), got "+utoa(uint64(m.First)))
		}
		if total := uint64(len(c.stage)) + n; total > uint64(c.cfg.Values) {
			c.stage = c.stage[:0]
			return 0, refuse(protocol.CodeRange, int64(total), "values: a table must hold at most "+
				itoa(int64(c.cfg.Values))+" values, got "+utoa(total))
		}
		c.stage = append(c.stage, m.Values...)
		if err := c.eng.SetRows(pop, int(m.Width), c.stage); err != nil {
			return 0, engineErr(err)
		}
		return uint64(len(c.stage)) / uint64(m.Width), nil
	}
}

func (c *Chip) fillStatus() {
	s := &c.status
	s.BootCount = c.cfg.BootCount
	s.Image = c.state
	s.Frames, s.CRCErrors, s.BadFrames, s.Naks = c.frames, c.crcErrors, c.badFrames, c.naks
	s.Replays, s.Resets = c.replays, c.resets
	s.Now, s.Dropped = 0, 0
	s.Saturations = s.Saturations[:0]
	if c.eng == nil {
		return
	}
	s.Now = c.eng.Now()
	d := c.dropped
	if d > 0xFFFFFFFF {
		d = 0xFFFFFFFF
	}
	s.Dropped = uint32(d)
	for p := range c.img.Pops {
		s.Saturations = append(s.Saturations, c.eng.Saturations(p))
	}
}

// spikeQueue holds the spikes waiting for the host, oldest first, in a
// ring of fixed capacity.
type spikeQueue struct {
	buf        []engine.Spike
	head, size int
}

func (q *spikeQueue) init(n int) {
	if cap(q.buf) < n {
		q.buf = make([]engine.Spike, n)
	}
	q.buf = q.buf[:n]
	q.clear()
}

func (q *spikeQueue) clear()              { q.head, q.size = 0, 0 }
func (q *spikeQueue) len() int            { return q.size }
func (q *spikeQueue) peek() *engine.Spike { return &q.buf[q.head] }

func (q *spikeQueue) pop() {
	q.head++
	if q.head == len(q.buf) {
		q.head = 0
	}
	q.size--
}

// push appends s, or reports false when the queue is full.
func (q *spikeQueue) push(s engine.Spike) bool {
	if q.size == len(q.buf) {
		return false
	}
	i := q.head + q.size
	if i >= len(q.buf) {
		i -= len(q.buf)
	}
	q.buf[i] = s
	q.size++
	return true
}
