// Package cpu is the in-process engine: it advances a models.Network on
// the calling goroutine. Populations are stepped as blocks over their
// state slices; spikes are routed over compact per-presynaptic connection
// lists (CSR) into ring buffers indexed by delay, and only units that
// emitted something are visited. A step allocates nothing.
//
// One step k follows docs/models/synapses.md: generators emit, neurons update with
// the input that arrives for step k, spikes and currents of step k are
// queued for step k + D, monitors sample the state at t_{k+1}.
package cpu

import (
	"errors"
	"fmt"
	"math"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/models"
)

// Engine is the CPU backend.
type Engine struct {
	net     *models.Network
	pops    []*popRT // file order
	order   []*popRT // update order: zero-delay synapses go forward
	byName  map[string]*popRT
	now     int64
	err     error
	rec     apu.Record
	spikeOn [][]bool // per population: neurons whose spikes are recorded (nil: none)
	mons    []traceRT
	plastic map[int]*projRT // plastic projections by synapse entry index

	want        int   // threads asked for (WithThreads)
	cpus        []int // CPUs to pin the extra workers to
	tm          *team // nil: one thread
	threadsNote string

	door door // backend.go

	chunk int // neurons stepped before their inputs are cleared; 0: stepChunk
	// wholeRows: clear every input row whole after its step, without the
	// lists of written neurons (queued.go); the tests compare the two.
	wholeRows bool
}

var _ apu.Backend = (*Engine)(nil)

// outputer is a neuron model whose spikes carry a value other than 1
// (the stepwise SNNSRM emits 1/time_step).
type outputer interface{ Output() []float64 }

// popRT is the run-time side of one population.
type popRT struct {
	idx     int
	spec    *models.PopulationSpec
	model   models.Population  // the engine's own, from spec.NewModel
	neuron  models.NeuronModel // nil for generators
	gen     models.Generator   // nil for neurons
	current bool               // emits currents rather than spikes
	input   *models.InputTransmitter
	out     []float64 // a generator's output of the step
	spiked  []int32   // units with a nonzero spike value this step
	proj    []*projRT // outgoing connections with delay >= 1 step
	proj0   []*projRT // outgoing zero-delay connections (into stepwise populations)

	// Input rings of a neuron population: slot k%ringLen holds what
	// arrives for step k. Nil where nothing can arrive.
	ringLen   int
	wRing     [][][]float64 // [slot][port][neuron]
	wDirty    [][]bool      // [slot][port]: something was queued
	wQueued   [][]queued    // [slot][port]: where (queued.go)
	iRing     [][]float64   // [slot][neuron]
	iDirty    []bool
	wView     [][]float64 // per-step argument to Step
	portCount int
	bySign    bool       // ports by weight sign, not receptor (models.SignSplitter)
	trace     *postTrace // STDP post traces, when a plastic synapse targets this population
	part      *popPart   // its share of the threads (threads.go); nil with one
}

// projRT is one synapse entry in CSR form by presynaptic unit.
//
// A static entry is stored as narrow as it can be, because delivering a
// spike streams its row from memory: at 64,000 neurons the rows of CUBA
// are 61 MB as int32 targets and float64 weights, past the caches, and
// 10 MB as uint16 targets with one weight for the entry. Targets into a
// population of at most 65,536 units are uint16 (tgt16, target nil), and
// an entry whose connections all have the same weight keeps it once (w0,
// weight nil). w0*s is the same float64 as weight[c]*s, so the sums are
// the same bit for bit. Plastic entries keep int32 targets and their own
// weights, which change.
type projRT struct {
	post    *popRT
	port    int
	current bool
	off     []int32   // connections of pre unit i: off[i]..off[i+1]
	target  []int32   // nil when tgt16 holds the targets
	tgt16   []uint16  // targets into a population of at most 65,536 units
	weight  []float64 // nil when every connection has the weight w0
	w0      float64
	delay   []int32 // per connection; nil when all equal delay0
	delay0  int32
	plastic *plasticRT // nil for static synapses
	seg     []int32    // threads: each row's part per worker (segments)
	touched uint32     // what touch read (kept, so that it is read)
}

// maxNarrow is the largest population whose targets fit in uint16.
const maxNarrow = 1 << 16

// targetAt is the target of connection c.
func (pr *projRT) targetAt(c int32) int32 {
	if pr.tgt16 != nil {
		return int32(pr.tgt16[c])
	}
	return pr.target[c]
}

// weightAt is the weight of connection c.
func (pr *projRT) weightAt(c int32) float64 {
	if pr.weight == nil {
		return pr.w0
	}
	return pr.weight[c]
}

type traceRT struct {
	pop     *popRT
	weights []float64 // a synapse monitor's live weights (pop nil)
	every   int64
	neurons []int
	rec     int // index into rec.Traces
}

// New returns an empty engine; call Load.
func New(opts ...Option) *Engine {
	e := &Engine{}
	for _, o := range opts {
		o(e)
	}
	return e
}

// Load builds the engine's structures for net. net is a description the
// engine only reads: the populations it steps are its own
// (PopulationSpec.NewModel) and the weights are copied into its
// projections, so a run leaves net as loaded and net can be loaded into
// other engines too.
func (e *Engine) Load(net *models.Network) error {
	if e.net != nil {
		return errors.New("cpu engine: Load called twice")
	}
	e.net = net
	e.byName = map[string]*popRT{}
	for i, ps := range net.Populations {
		model, err := ps.NewModel()
		if err != nil {
			return fmt.Errorf("cpu engine: %w", err)
		}
		p := &popRT{idx: i, spec: ps, model: model}
		switch m := model.(type) {
		case models.NeuronModel:
			p.neuron = m
			p.portCount = m.Ports()
			if sp, ok := m.(models.SignSplitter); ok && sp.SplitsBySign() {
				// HHPSC: port 0 takes the weights > 0, port 1 those <= 0.
				p.portCount = 2
				p.bySign = true
			}
			if o, ok := m.(outputer); ok {
				p.out = o.Output()
			}
		case models.Generator:
			p.gen = m
			p.current = ps.IsCurrentSource()
			p.out = make([]float64, ps.Size)
			if t, ok := m.(*models.InputTransmitter); ok {
				p.input = t
			}
		default:
			return fmt.Errorf("cpu engine: population %q: %T is neither a neuron nor a generator model", ps.Name, model)
		}
		p.spiked = make([]int32, 0, ps.Size)
		e.pops = append(e.pops, p)
		e.byName[ps.Name] = p
	}
	// Ring lengths as models.Network.RingSlots counts them, one slot
	// for a population nothing reaches. Step k reads and clears slot k%L
	// before any of step k's spikes are routed (zero-delay connections,
	// which are routed earlier, have their own projections and land in
	// slot k%L as they should), so a delay of L can use the slot just
	// freed: one slot fewer than delay+1, half the rings' memory for the
	// common delay of one step.
	slots := net.RingSlots()
	for _, p := range e.pops {
		if p.neuron == nil {
			continue
		}
		p.ringLen = max(slots[p.spec], 1)
		p.wView = make([][]float64, p.portCount)
	}
	e.plastic = map[int]*projRT{}
	order, err := net.ZeroDelayOrder()
	if err != nil {
		return fmt.Errorf("cpu engine: %w", err)
	}
	for _, ps := range order {
		e.order = append(e.order, e.byName[ps.Name])
	}
	for _, s := range net.Synapses {
		pre, post := e.byName[s.Pre.Name], e.byName[s.Post.Name]
		for _, zero := range []bool{true, false} {
			pr := buildProj(s, pre, post, zero)
			if pr == nil {
				continue
			}
			if s.STDP != nil {
				if post.trace == nil {
					post.trace = newPostTrace(s.Post, net.Dt)
				}
				pr.plastic = newPlastic(s, pr, post.trace)
				post.trace.in = append(post.trace.in, pr.plastic)
				e.plastic[s.Index] = pr
			}
			if post.bySign && pr.plastic != nil {
				// A plastic weight keeps the sign of Wmax (docs/models/synapses.md),
				// so the whole entry feeds one port.
				if s.STDP.Wmax <= 0 {
					pr.port = 1
				}
			} else if post.bySign && !pr.current {
				for _, part := range splitBySign(pr) {
					e.addProj(pre, post, part, zero)
				}
				continue
			}
			e.addProj(pre, post, pr, zero)
		}
	}
	e.setupMonitors()
	e.setupThreads()
	return nil
}

// addProj allocates the post's input ring rows the projection writes to.
func (e *Engine) addProj(pre, post *popRT, pr *projRT, zero bool) {
	if pr.current {
		if post.iRing == nil {
			post.iRing = make([][]float64, post.ringLen)
			for k := range post.iRing {
				post.iRing[k] = make([]float64, post.spec.Size)
			}
			post.iDirty = make([]bool, post.ringLen)
		}
	} else {
		if post.wRing == nil {
			post.wRing = make([][][]float64, post.ringLen)
			post.wDirty = make([][]bool, post.ringLen)
			post.wQueued = make([][]queued, post.ringLen)
			for k := range post.wRing {
				post.wRing[k] = make([][]float64, post.portCount)
				post.wDirty[k] = make([]bool, post.portCount)
				post.wQueued[k] = make([]queued, post.portCount)
			}
		}
		for k := range post.wRing {
			if post.wRing[k][pr.port] == nil {
				post.wRing[k][pr.port] = make([]float64, post.spec.Size)
				if !e.wholeRows {
					post.wQueued[k][pr.port].at = make([]int32, 0, queueCap(post.spec.Size))
				}
			}
		}
	}
	if zero {
		pre.proj0 = append(pre.proj0, pr)
	} else {
		pre.proj = append(pre.proj, pr)
	}
}

// buildProj makes the CSR form of the connections of s whose delay is
// zero (zero true) or at least one step; nil when there are none. A first
// pass counts the connections and sees whether their delays and weights
// differ, so that each array is allocated once at its final length and
// width: the load's peak is the steady state that Probe counts (memory.go),
// not the doubling of an append. A plastic entry keeps int32 targets and
// a weight per connection (plastic.go changes them).
func buildProj(s *models.SynapseSpec, pre, post *popRT, zero bool) *projRT {
	n, varied, weights := 0, false, false
	var d0 int32
	var w0 float64
	for c := range s.Conns {
		d := s.Delays[c]
		if (d == 0) != zero {
			continue
		}
		if n == 0 {
			d0, w0 = d, s.Weights[c]
		}
		varied = varied || d != d0
		weights = weights || math.Float64bits(s.Weights[c]) != math.Float64bits(w0)
		n++
	}
	if n == 0 {
		return nil
	}
	plastic := s.STDP != nil
	pr := &projRT{post: post, port: s.Receptor, current: pre.current, off: make([]int32, pre.spec.Size+1), delay0: d0, w0: w0}
	if plastic || post.spec.Size > maxNarrow {
		pr.target = make([]int32, 0, n)
	} else {
		pr.tgt16 = make([]uint16, 0, n)
	}
	if plastic || weights {
		pr.weight = make([]float64, 0, n)
	}
	if varied {
		pr.delay = make([]int32, 0, n)
	}
	// Canonical order is ascending pre, so the CSR arrays are the
	// connection list itself.
	for c, cn := range s.Conns {
		if (s.Delays[c] == 0) != zero {
			continue
		}
		pr.off[cn.Pre+1]++
		if pr.tgt16 != nil {
			pr.tgt16 = append(pr.tgt16, uint16(cn.Post))
		} else {
			pr.target = append(pr.target, cn.Post)
		}
		if pr.weight != nil {
			pr.weight = append(pr.weight, s.Weights[c])
		}
		if varied {
			pr.delay = append(pr.delay, s.Delays[c])
		}
	}
	for i := 1; i < len(pr.off); i++ {
		pr.off[i] += pr.off[i-1]
	}
	return pr
}

// splitBySign divides a projection into a post that splits its input by
// weight sign (models.SignSplitter) into the connections with w > 0, on
// port 0, and those with w <= 0, on port 1; empty parts are left out. A
// part whose weights are all equal keeps one (projRT.w0).
func splitBySign(pr *projRT) []*projRT {
	if pr.weight == nil {
		if !(pr.w0 > 0) {
			pr.port = 1
		} else {
			pr.port = 0
		}
		return []*projRT{pr}
	}
	var parts []*projRT
	for port, keep := range []func(w float64) bool{
		func(w float64) bool { return w > 0 },
		func(w float64) bool { return !(w > 0) },
	} {
		n := 0
		for _, w := range pr.weight {
			if keep(w) {
				n++
			}
		}
		if n == 0 {
			continue
		}
		q := &projRT{post: pr.post, port: port, current: pr.current, off: make([]int32, len(pr.off)), delay0: pr.delay0,
			weight: make([]float64, 0, n)}
		if pr.tgt16 != nil {
			q.tgt16 = make([]uint16, 0, n)
		} else {
			q.target = make([]int32, 0, n)
		}
		if pr.delay != nil {
			q.delay = make([]int32, 0, n)
		}
		for i := 0; i+1 < len(pr.off); i++ {
			for c := pr.off[i]; c < pr.off[i+1]; c++ {
				if !keep(pr.weight[c]) {
					continue
				}
				if q.tgt16 != nil {
					q.tgt16 = append(q.tgt16, pr.tgt16[c])
				} else {
					q.target = append(q.target, pr.target[c])
				}
				q.weight = append(q.weight, pr.weight[c])
				if pr.delay != nil {
					q.delay = append(q.delay, pr.delay[c])
				}
			}
			q.off[i+1] = int32(len(q.weight))
		}
		if same(q.weight) {
			q.w0, q.weight = q.weight[0], nil
		}
		parts = append(parts, q)
	}
	return parts
}

// same tells whether every w has the bits of w[0].
func same(w []float64) bool {
	for _, x := range w {
		if math.Float64bits(x) != math.Float64bits(w[0]) {
			return false
		}
	}
	return true
}

func (e *Engine) setupMonitors() {
	e.spikeOn = make([][]bool, len(e.pops))
	for mi, m := range e.net.Monitors {
		if m.Synapse != nil {
			pr := e.plastic[m.Synapse.Index]
			conns := make([]int, len(pr.weight))
			for i := range conns {
				conns[i] = i
			}
			e.mons = append(e.mons, traceRT{every: int64(m.Every), neurons: conns, weights: pr.weight, rec: len(e.rec.Traces)})
			e.rec.Traces = append(e.rec.Traces, apu.Trace{Monitor: mi, Pop: -1, Synapse: m.Synapse.Index, State: "weight", Neurons: conns})
			continue
		}
		if m.Population == nil {
			continue
		}
		p := e.byName[m.Population.Name]
		neurons := m.Neurons
		if neurons == nil {
			neurons = make([]int, p.spec.Size)
			for i := range neurons {
				neurons[i] = i
			}
		}
		for _, st := range m.Record {
			if st == "spikes" {
				if e.spikeOn[p.idx] == nil {
					e.spikeOn[p.idx] = make([]bool, p.spec.Size)
				}
				for _, n := range neurons {
					e.spikeOn[p.idx][n] = true
				}
				continue
			}
			t := traceRT{pop: p, every: int64(m.Every), neurons: neurons, rec: len(e.rec.Traces)}
			e.mons = append(e.mons, t)
			e.rec.Traces = append(e.rec.Traces, apu.Trace{Monitor: mi, Pop: p.idx, Synapse: -1, State: st, Neurons: neurons})
		}
	}
	// The first row of every trace is the initial state at t = 0.
	for _, t := range e.mons {
		e.sample(t, 0)
	}
}

func (e *Engine) sample(t traceRT, stamp int64) {
	tr := &e.rec.Traces[t.rec]
	state := t.weights
	if t.pop != nil {
		// Asked each time: a derived state (ExpLIF's I_syn) is computed on request.
		state = t.pop.model.State(tr.State)
	}
	tr.Stamps = append(tr.Stamps, stamp)
	for _, n := range t.neurons {
		tr.Values = append(tr.Values, state[n])
	}
}

// Reset puts the network back to t = 0 as a fresh load of the same file
// with the same seed: states, generators, delay buffers, plastic weights
// and traces, random streams and the step counter. The engine is loaded
// again from the description it was given, which no run changed; no file
// is read. What was recorded and not drained is dropped; the monitors
// record their initial rows again. A run after Reset gives bit for bit
// what a new engine on a new load gives. The populations are new
// objects: look them up again with Model.
func (e *Engine) Reset() error {
	if e.net == nil {
		return errors.New("cpu engine: Reset before Load")
	}
	net := e.net
	// The threads' workers are stopped and made again; the options
	// (WithThreads) stay.
	e.closeThreads()
	*e = Engine{want: e.want, cpus: e.cpus, chunk: e.chunk, wholeRows: e.wholeRows}
	if err := e.Load(net); err != nil {
		return fmt.Errorf("cpu engine: reset: %w", err)
	}
	return nil
}

// Network is the description the engine was loaded with (the same after
// Reset; the engine never changes it).
func (e *Engine) Network() *models.Network { return e.net }

// SetInput implements apu.Backend.
func (e *Engine) SetInput(pop string, values []float64) error {
	p, ok := e.byName[pop]
	if !ok || p.input == nil {
		return fmt.Errorf("cpu engine: set input: population: must be an InputTransmitter population, got %q", pop)
	}
	if err := p.input.SetNext(values); err != nil {
		return fmt.Errorf("cpu engine: set input %q: %w", pop, err)
	}
	return nil
}

// Model returns the engine's run-time object of a population (not the
// description's PopulationSpec.Model), for tests and in-process programs
// that read or change it between steps, such as
// (*models.DCGenerator).SetAmplitude (docs/models/generators.md).
func (e *Engine) Model(pop string) (models.Population, bool) {
	p, ok := e.byName[pop]
	if !ok {
		return nil, false
	}
	return p.model, true
}

// Now implements apu.Backend.
func (e *Engine) Now() int64 { return e.now }

// Drain implements apu.Backend.
func (e *Engine) Drain(dst *apu.Record) {
	dst.Reset()
	if len(dst.Traces) != len(e.rec.Traces) {
		dst.Traces = make([]apu.Trace, len(e.rec.Traces))
		for i, t := range e.rec.Traces {
			dst.Traces[i] = apu.Trace{Monitor: t.Monitor, Pop: t.Pop, Synapse: t.Synapse, State: t.State, Neurons: t.Neurons}
		}
	}
	e.rec, *dst = *dst, e.rec
}

// Close implements apu.Backend; it stops the threads' workers.
func (e *Engine) Close() error {
	e.closeThreads()
	return nil
}

// Advance implements apu.Backend.
func (e *Engine) Advance(n int) error {
	if e.err != nil {
		return e.err
	}
	if e.net == nil {
		return errors.New("cpu engine: Advance before Load")
	}
	if e.tm != nil {
		if err := e.advanceThreads(n); err != nil {
			e.err = diverged{err}
			return e.err
		}
		return nil
	}
	for i := 0; i < n; i++ {
		if err := e.step(); err != nil {
			e.err = diverged{err}
			return e.err
		}
	}
	return nil
}

func (e *Engine) step() error {
	k := e.now
	// 1. Generators emit their step-k output.
	for _, p := range e.pops {
		if p.gen == nil {
			continue
		}
		p.spiked = p.spiked[:0]
		if !p.gen.Emit(k, p.out) {
			continue
		}
		if !p.current {
			for i, s := range p.out {
				if s != 0 {
					p.spiked = append(p.spiked, int32(i))
				}
			}
		}
		e.route(p, p.proj0, k)
	}
	// 2. Neurons perform step k with the input that arrives for it, in
	// an order where zero-delay synapses point forward.
	for _, p := range e.order {
		if p.neuron == nil {
			continue
		}
		slot := int(k % int64(p.ringLen))
		var iext []float64
		if p.iRing != nil && p.iDirty[slot] {
			iext = p.iRing[slot]
		}
		w := p.wView[:0]
		if p.wRing != nil {
			w = p.wView[:p.portCount]
			for r := range w {
				w[r] = nil
				if p.wDirty[slot][r] {
					w[r] = p.wRing[slot][r]
				}
			}
		}
		rs, split := p.neuron.(models.RangeStepper)
		split = split && rs.Splittable()
		var err error
		var q []queued
		if p.wQueued != nil {
			q = p.wQueued[slot]
		}
		p.spiked, err = e.stepAndClear(p.neuron, rs, split, 0, p.spec.Size, iext, w, q, p.spiked[:0])
		if err != nil {
			return fmt.Errorf("population %q: step %d (t = %g ms): %w", p.spec.Name, k, float64(k)*e.net.Dt, err)
		}
		// The slot is free again: what arrives next there is for step
		// k + ringLen.
		if iext != nil {
			p.iDirty[slot] = false
		}
		for r, wr := range w {
			if wr != nil {
				p.wDirty[slot][r] = false
			}
		}
		e.route(p, p.proj0, k)
	}
	// 3. Route step k's spikes and currents to step k + D.
	stamp := k + 1
	// STDP: this step's post spikes enter the traces first, then the
	// facilitations due now, then the pre spikes (docs/models/synapses.md).
	for _, p := range e.pops {
		if p.trace != nil {
			p.trace.postSpiked(p.spiked, stamp)
			p.trace.facilitateDue(stamp)
		}
	}
	for _, p := range e.pops {
		if on := e.spikeOn[p.idx]; on != nil && !p.current {
			for _, i := range p.spiked {
				if on[i] {
					e.rec.Spikes = append(e.rec.Spikes, apu.Spike{Pop: int32(p.idx), Neuron: i, Stamp: stamp})
				}
			}
		}
		e.route(p, p.proj, k)
	}
	e.now++
	// 4. Monitors sample the state at t_{k+1}.
	for _, t := range e.mons {
		if stamp%t.every == 0 {
			e.sample(t, stamp)
		}
	}
	return nil
}

// stepChunk is how many neurons stepAndClear steps before it clears
// their inputs (a multiple of 8, as LIF.refMax needs): the rows' lines just read are then still in the L2 cache
// (4,096 neurons of ExpLIF stream some 250 kB). Cleared after the whole
// population instead, at 64,000 neurons the clear read the rows again
// from L3 (CUBA 64000 spent 0.18 ns a neuron in it, 4000 0.10).
const stepChunk = 4096

// stepAndClear performs the step of neurons lo..hi-1 of m and zeroes
// their inputs in iext and w: the ring slot is free again. A row of w
// whose writes q lists (queued) has those entries zeroed after the step;
// the other rows, and iext, are cleared whole. A splittable model (rs,
// split) is stepped in chunks of stepChunk, each cleared right after its
// step, which changes no result (models.RangeStepper), unless there is
// no input to clear; the others whole, lo..hi being all.
func (e *Engine) stepAndClear(m models.NeuronModel, rs models.RangeStepper, split bool, lo, hi int, iext []float64, w [][]float64, q []queued, spk []int32) ([]int32, error) {
	inputs := iext != nil
	for _, wr := range w {
		inputs = inputs || wr != nil
	}
	var err error
	switch {
	case !split:
		spk, err = m.Step(iext, w, spk)
		clearInputs(lo, hi, iext, w, q)
	case !inputs:
		return rs.StepRange(lo, hi, iext, w, spk)
	default:
		chunk := e.chunk
		if chunk <= 0 {
			chunk = stepChunk
		}
		for c := lo; c < hi && err == nil; c += chunk {
			d := min(c+chunk, hi)
			spk, err = rs.StepRange(c, d, iext, w, spk)
			clearInputs(c, d, iext, w, q)
		}
	}
	clearQueued(w, q)
	return spk, err
}

// clearInputs zeroes neurons lo..hi-1 of iext and of the rows of w that
// are not nil and whose writes are not listed in q.
func clearInputs(lo, hi int, iext []float64, w [][]float64, q []queued) {
	if iext != nil {
		clear(iext[lo:hi])
	}
	for r, wr := range w {
		if wr != nil && (q == nil || q[r].whole) {
			clear(wr[lo:hi])
		}
	}
}

// route queues the step-k output of p over the projections prs.
func (e *Engine) route(p *popRT, prs []*projRT, k int64) {
	for _, pr := range prs {
		switch {
		case p.current:
			routeCurrent(pr, p.out, k)
		case len(p.spiked) == 0:
		case pr.plastic != nil:
			routePlastic(pr, p, k)
		default:
			routeSpikes(pr, p, k)
		}
	}
}

// routeSpikes queues w*s for every connection of every unit that spiked.
func routeSpikes(pr *projRT, pre *popRT, k int64) {
	if pr.delay == nil {
		// The slot is passed to Step even if no connection wrote to it.
		pr.post.wDirty[(k+int64(pr.delay0))%int64(pr.post.ringLen)][pr.port] = true
	}
	var touched uint32
	for _, i := range pre.spiked {
		touched += pr.touch(pr.off[i], pr.off[i+1])
	}
	pr.touched = touched
	for _, i := range pre.spiked {
		s := 1.0
		if pre.out != nil {
			s = pre.out[i]
		}
		deliverRow(pr, pr.off[i], pr.off[i+1], s, k, pr.post.wDirty, pr.post.wQueued)
	}
}

// touch reads connections lo and hi-1 of the row lo..hi and returns
// something of them. A row is a random place in memory, so its first
// line, and its offset before it, miss the caches: a delivery waits for
// both before it can start (the profile of CUBA 64000 put 80% of
// deliverRow's samples on the first target's load). Touched first for
// all the step's spikes, in a loop of independent loads, the misses
// overlap, and the deliveries find the rows in the cache. (Go has no
// prefetch instruction outside the runtime; a load whose value is kept,
// in projRT.touched, is one the compiler cannot drop.)
func (pr *projRT) touch(lo, hi int32) uint32 {
	if lo == hi {
		return 0
	}
	var x uint32
	if pr.tgt16 != nil {
		x = uint32(pr.tgt16[lo]) + uint32(pr.tgt16[hi-1])
	} else {
		x = uint32(pr.target[lo]) + uint32(pr.target[hi-1])
	}
	if pr.weight != nil {
		x += uint32(math.Float64bits(pr.weight[lo]))
	}
	return x
}

// deliverRow queues w*s for connections lo..hi-1 of pr, spikes of step k,
// marking the slots written in dirty and the targets in q (both
// [slot][port]).
func deliverRow(pr *projRT, lo, hi int32, s float64, k int64, dirty [][]bool, q [][]queued) {
	if lo == hi {
		return
	}
	post := pr.post
	var wt []float64
	if pr.weight != nil {
		wt = pr.weight[lo:hi]
	}
	if pr.delay == nil {
		slot := int((k + int64(pr.delay0)) % int64(post.ringLen))
		row := post.wRing[slot][pr.port]
		dirty[slot][pr.port] = true
		if pr.tgt16 != nil {
			addRow(row, pr.tgt16[lo:hi], wt, pr.w0, s)
			queue(&q[slot][pr.port], pr.tgt16[lo:hi])
		} else {
			addRow(row, pr.target[lo:hi], wt, pr.w0, s)
			queue(&q[slot][pr.port], pr.target[lo:hi])
		}
		return
	}
	L := int64(post.ringLen)
	for c := lo; c < hi; c++ {
		slot := int((k + int64(pr.delay[c])) % L)
		post.wRing[slot][pr.port][pr.targetAt(c)] += pr.weightAt(c) * s
		dirty[slot][pr.port] = true
		q[slot][pr.port].whole = true
	}
}

// addRow adds w*s into row at each target in tg, w being wt[c], or w0
// for all when wt is nil.
func addRow[T uint16 | int32](row []float64, tg []T, wt []float64, w0, s float64) {
	if wt == nil {
		ws := w0 * s
		for _, j := range tg {
			row[j] += ws
		}
		return
	}
	wt = wt[:len(tg)]
	for c, j := range tg {
		row[j] += wt[c] * s
	}
}

// routeCurrent queues w*x for the connections of every nonzero source.
func routeCurrent(pr *projRT, x []float64, k int64) {
	post := pr.post
	L := int64(post.ringLen)
	for i, v := range x {
		if v == 0 {
			continue
		}
		for c := pr.off[i]; c < pr.off[i+1]; c++ {
			d := pr.delay0
			if pr.delay != nil {
				d = pr.delay[c]
			}
			slot := int((k + int64(d)) % L)
			post.iRing[slot][pr.targetAt(c)] += pr.weightAt(c) * v
			post.iDirty[slot] = true
		}
	}
}
