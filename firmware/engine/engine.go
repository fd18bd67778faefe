package engine

import (
	"errors"
	"hash/crc32"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// Engine runs one image. It is not safe for concurrent use.
type Engine struct {
	img  *image.Image
	pops []pop
	syns []synInfo // per synapse entry of the image
	now  int64

	mons    []trace
	spikeOn [][]bool // per population: units whose spikes are recorded (nil: none)

	spikes  []Spike // record buffers, fixed capacity (Reserve)
	rows    []Row
	vals    []int32
	dropped uint64

	crc *crc32.Table
	buf [256]byte // Checksum's scratch
}

// pop is the run-time side of one population.
type pop struct {
	kind  image.Kind
	flags image.Flags
	size  int
	ports int
	nst   int // states in the kind's list

	coef []image.Coef
	cons []int32
	img  *image.Pop

	st     []int32   // nst states of size units, state i at [i*size:(i+1)*size]
	ref    []int32   // LIF, ExpLIF: refractory counters
	par    [][]int32 // parameter rows the host may change (SetUnit), by Unit row index; nil rows are not parameters
	flat   bool      // LIF, ExpLIF: every unit has the same I_e (set with par)
	out    []int32   // generators: the step's output (state 0)
	spiked []uint32  // units with a nonzero spike output this step
	rng    uint64    // Poisson, Bernoulli
	next   []uint32  // Spike: per unit, the next entry
	in     []int32   // Input: values for the next step
	hasIn  bool

	rowsBuf  []int32 // Custom: rows given by SetRows (owned)
	rows     []int32 // Custom: the rows in use (the image's or rowsBuf)
	rowWidth int
	k0       int64

	ringLen int
	wRing   []int32 // [slot][port][unit]
	wDirty  []bool  // [slot][port]
	iRing   []int32 // [slot][unit]
	iDirty  []bool  // [slot]

	outSyn []int32 // synapse entries with this Pre, in image order
	sat    uint64
}

// synInfo says which delays a synapse entry has.
type synInfo struct {
	zero, delayed bool
}

// trace is one (monitor, state) pair sampled every `every` steps.
type trace struct {
	mon   uint32
	state uint8
	pop   int
	units []uint32 // nil: every unit
	n     int
	every int64
}

// states is the number of states of each kind (image.Monitor's lists).
func states(p *image.Pop) int {
	switch p.Kind {
	case image.KindLIF:
		return 1
	case image.KindIzhikevich:
		return 2
	case image.KindExpLIF:
		return 1 + int(p.Ports)
	case image.KindSNNIF, image.KindSNNLIF:
		return 1
	}
	return 0
}

// paramRows lists the Unit rows of a kind that SetUnit may change.
func paramRows(k image.Kind) []int {
	switch k {
	case image.KindLIF:
		return []int{image.LIFIe}
	case image.KindExpLIF:
		return []int{image.ExpLIFIe}
	case image.KindIzhikevich:
		return []int{image.IzhIe}
	case image.KindDC:
		return []int{image.DCAmp}
	case image.KindPoisson:
		return []int{image.PoissonLambda, image.PoissonExpNeg}
	case image.KindBernoulli:
		return []int{image.BernoulliProb}
	}
	return nil
}

// parChanged updates what the step derives from the parameter rows.
func (p *pop) parChanged() {
	var ie []int32
	switch p.kind {
	case image.KindLIF:
		ie = p.par[image.LIFIe]
	case image.KindExpLIF:
		ie = p.par[image.ExpLIFIe]
	default:
		return
	}
	p.flat = true
	for _, x := range ie {
		if x != ie[0] {
			p.flat = false
			break
		}
	}
}

// New builds an engine for img after image.Validate and the engine's own
// checks; an invalid image is an error naming the field. The engine keeps
// img and reads it while it runs: do not change it.
func New(img *image.Image) (*Engine, error) { return NewWithin(img, -1) }

// NewWithin is New on a chip with maxRAM bytes for run-time state: an
// image whose RAM(img) exceeds it is refused before anything is
// allocated (a small image can ask for long rings on many units). A
// negative maxRAM means no limit.
func NewWithin(img *image.Image, maxRAM int64) (*Engine, error) {
	if img == nil {
		return nil, errors.New("engine: nil image")
	}
	if err := image.Validate(img); err != nil {
		return nil, err
	}
	if err := check(img); err != nil {
		return nil, err
	}
	if maxRAM >= 0 {
		if need := RAM(img); need > maxRAM {
			return nil, &Error{"RAM", need, "bytes of run-time state needed, the chip has " + itoa(maxRAM)}
		}
	}
	e := &Engine{img: img, crc: crc32.MakeTable(crc32.Castagnoli)}
	lay := layout(img)
	e.pops = make([]pop, len(img.Pops))
	for i := range img.Pops {
		ip := &img.Pops[i]
		p := &e.pops[i]
		n := int(ip.Size)
		p.kind, p.flags, p.size, p.img = ip.Kind, ip.Flags, n, ip
		p.ports = int(ip.Ports)
		if !ip.Kind.IsGenerator() && p.ports < 1 {
			p.ports = 1
		}
		p.nst = states(ip)
		p.coef, p.cons = ip.Coefs, ip.Consts
		p.st = make([]int32, p.nst*n)
		if ip.Kind == image.KindLIF || ip.Kind == image.KindExpLIF {
			p.ref = make([]int32, n)
		}
		if rs := paramRows(ip.Kind); rs != nil {
			p.par = make([][]int32, len(ip.Unit))
			for _, r := range rs {
				p.par[r] = make([]int32, n)
			}
		}
		if ip.Kind.IsGenerator() {
			p.out = make([]int32, n)
		}
		p.spiked = make([]uint32, 0, n)
		switch ip.Kind {
		case image.KindSpike:
			p.next = make([]uint32, n)
		case image.KindInput:
			p.in = make([]int32, n)
		}
		p.ringLen = lay.ringLen[i]
		if lay.spikeIn[i] {
			p.wRing = make([]int32, p.ringLen*p.ports*n)
			p.wDirty = make([]bool, p.ringLen*p.ports)
		}
		if lay.currentIn[i] {
			p.iRing = make([]int32, p.ringLen*n)
			p.iDirty = make([]bool, p.ringLen)
		}
	}
	e.syns = make([]synInfo, len(img.Synapses))
	for si := range img.Synapses {
		s := &img.Synapses[si]
		for _, d := range s.Delay {
			if d == 0 {
				e.syns[si].zero = true
			} else {
				e.syns[si].delayed = true
			}
		}
		pre := &e.pops[s.Pre]
		pre.outSyn = append(pre.outSyn, int32(si))
	}
	e.setupMonitors()
	e.spikes = make([]Spike, 0, lay.spikeCap)
	e.rows = make([]Row, 0, lay.rowCap)
	e.vals = make([]int32, 0, lay.valCap)
	e.reset()
	return e, nil
}

func (e *Engine) setupMonitors() {
	e.spikeOn = make([][]bool, len(e.pops))
	for mi := range e.img.Monitors {
		m := &e.img.Monitors[mi]
		p := &e.pops[m.Pop]
		if m.Spikes && p.flags&image.FlagCurrent == 0 {
			if e.spikeOn[m.Pop] == nil {
				e.spikeOn[m.Pop] = make([]bool, p.size)
			}
			on := e.spikeOn[m.Pop]
			if len(m.Units) == 0 {
				for u := range on {
					on[u] = true
				}
			}
			for _, u := range m.Units {
				on[u] = true
			}
		}
		n, units := len(m.Units), m.Units
		if n == 0 {
			n, units = p.size, nil
		}
		for _, s := range m.States {
			e.mons = append(e.mons, trace{mon: uint32(mi), state: s, pop: int(m.Pop), units: units, n: n, every: int64(m.Every)})
		}
	}
}

// reset puts every run-time value back to step 0.
func (e *Engine) reset() {
	e.now = 0
	e.dropped = 0
	e.spikes, e.rows, e.vals = e.spikes[:0], e.rows[:0], e.vals[:0]
	for i := range e.pops {
		p := &e.pops[i]
		ip := p.img
		p.sat = 0
		clear(p.st)
		clear(p.ref)
		clear(p.out)
		p.spiked = p.spiked[:0]
		clear(p.wRing)
		clear(p.wDirty)
		clear(p.iRing)
		clear(p.iDirty)
		for r, row := range p.par {
			if row != nil {
				copy(row, ip.Unit[r])
			}
		}
		p.parChanged()
		switch p.kind {
		case image.KindLIF:
			copy(p.st, ip.Unit[image.LIFY0])
		case image.KindExpLIF:
			copy(p.st, ip.Unit[image.ExpLIFY0])
			for r := 0; r < p.ports; r++ {
				copy(p.st[(1+r)*p.size:], ip.Unit[image.ExpLIFI0+r])
			}
		case image.KindIzhikevich:
			copy(p.st, ip.Unit[image.IzhV0])
			copy(p.st[p.size:], ip.Unit[image.IzhU0])
		case image.KindSNNIF, image.KindSNNLIF:
			copy(p.st, ip.Unit[image.SNNV0])
		case image.KindPoisson, image.KindBernoulli:
			p.rng = streamSeed(e.img.Seed, uint64(i))
		case image.KindSpike:
			copy(p.next, ip.SpikeOff[:p.size])
		case image.KindInput:
			clear(p.in)
			p.hasIn = false
		case image.KindCustom:
			p.rows, p.rowWidth, p.k0 = ip.Rows, int(ip.RowWidth), ip.K0
		}
	}
	for i := range e.mons {
		e.sample(&e.mons[i], 0)
	}
}
