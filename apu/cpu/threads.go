package cpu

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/models"
)

// Threads: with WithThreads(n), n > 1, a step runs on n goroutines, the
// caller of Advance being worker 0. Each splittable neuron population
// (models.RangeStepper) is cut into n contiguous ranges of neurons, and
// worker t owns range t of every population: it steps those neurons and
// it alone adds to their input rings. A step is two phases:
//
//  1. update: worker t steps its ranges (worker 0 also runs the
//     generators and every population that cannot be split), clears the
//     ring slots it read, and keeps its spikes in its own list;
//  2. delivery: after the one barrier of the step, worker t walks every
//     spike of the step (all workers' lists, in worker order, which is
//     ascending neuron order) over the part of each connection row whose
//     targets lie in its ranges: rows are sorted by target, so that part
//     is contiguous, found at load time (projRT.seg).
//
// Worker t's update of step k+1 reads only what it delivered itself in
// step k, so no barrier is needed between a delivery and the next update;
// the spike lists and the generators' outputs are kept per step parity,
// so a worker already updating step k+1 does not overwrite what another
// is still delivering from step k. Every ring cell receives its additions
// in the order of the one-thread engine (population, projection, spiking
// unit, connection), so the results are the same bit for bit
// (TestThreadsMatchOneThread). Monitors that sample in a step add a
// second barrier there, so that they read a state no worker is changing.
//
// Plastic synapses, zero-delay synapses and neuron models whose spikes
// carry a value (SNNSRM) are not split: a network with any of them runs
// on one thread (Engine.Threads says 1, ThreadsNote says why).

// Option configures an Engine (New).
type Option func(*Engine)

// WithThreads runs each step on n goroutines (n <= 1: one). cpus, if not
// empty, are the CPUs the extra workers are pinned to (Linux), in turn.
func WithThreads(n int, cpus []int) Option {
	return func(e *Engine) {
		e.want = max(n, 1)
		e.cpus = cpus
	}
}

// Threads is the number of goroutines a step runs on.
func (e *Engine) Threads() int {
	if e.tm == nil {
		return 1
	}
	return e.tm.n
}

// ThreadsNote says why a network asked to run on several threads runs on
// one ("" otherwise).
func (e *Engine) ThreadsNote() string { return e.threadsNote }

// team is the workers' shared state.
type team struct {
	n     int
	bar   *barrier
	start []chan int // workers 1..n-1: run this many steps
	fail  atomic.Bool
	errs  []error // per worker, the error that stopped the steps
	wv    [][][]float64
	pin   []int
	// touched keeps what each worker's touch read (projRT.touch), one
	// cache line apart.
	touched []uint32
}

// cacheLine is the bytes of a cache line: what one worker writes at
// every step is kept that far from what another writes.
const cacheLine = 64

// touchStride is a cache line of uint32.
const touchStride = cacheLine / 4

// popPart is a population's share of the threads.
type popPart struct {
	split bool           // stepped in ranges (models.RangeStepper)
	cut   []int          // worker t owns neurons cut[t]..cut[t+1]-1
	spk   [2][]spikeList // [step parity][worker]: the spiking neurons
	out   [2][]float64   // a generator's output by step parity
	wDirt [][][]bool     // [worker][slot][port]
	wQue  [][][]queued   // [worker][slot][port]: each worker's share of the lists in popRT.wQueued
	iDirt [][]bool       // [worker][slot]
}

// spikeList is one worker's spiking neurons of a step, a cache line
// apart from the next worker's: each worker writes its own header at
// every step, all read them all. (A full line of padding, rather than
// the line less the header, whose size differs on 32-bit boards.)
type spikeList struct {
	ids []int32
	_   [cacheLine]byte
}

// threadable tells why net cannot be split over threads ("" if it can).
func (e *Engine) threadable() string {
	if len(e.plastic) > 0 {
		return "plastic synapses run on one thread"
	}
	for _, p := range e.pops {
		if len(p.proj0) > 0 {
			return fmt.Sprintf("population %q has zero-delay synapses, which run on one thread", p.spec.Name)
		}
		if p.neuron != nil && p.out != nil {
			return fmt.Sprintf("population %q (%s) emits spike values, which run on one thread", p.spec.Name, p.spec.Class.Name)
		}
	}
	return ""
}

// setupThreads prepares the ranges, row segments and workers (Load).
func (e *Engine) setupThreads() {
	if e.want <= 1 {
		return
	}
	if why := e.threadable(); why != "" {
		e.threadsNote = why
		return
	}
	n := e.want
	tm := &team{n: n, bar: newBarrier(n), errs: make([]error, n), wv: make([][][]float64, n), touched: make([]uint32, n*touchStride)}
	for t := range tm.wv {
		tm.wv[t] = make([][]float64, 8)
	}
	for _, p := range e.pops {
		pp := &popPart{cut: make([]int, n+1)}
		size := p.spec.Size
		if rs, ok := p.neuron.(models.RangeStepper); ok && rs.Splittable() {
			pp.split = true
			for t := 1; t < n; t++ {
				// Whole cache lines of float64 state per worker; LIF's
				// refMax (one entry per 8 neurons) relies on it too.
				pp.cut[t] = min(size, (size*t/n+7)&^7)
			}
		} else {
			for t := 1; t < n; t++ {
				pp.cut[t] = size // worker 0 owns it all
			}
		}
		pp.cut[n] = size
		for par := range pp.spk {
			pp.spk[par] = make([]spikeList, n)
			for t := range n {
				pp.spk[par][t].ids = make([]int32, 0, pp.cut[t+1]-pp.cut[t])
			}
		}
		if p.gen != nil {
			pp.out[0], pp.out[1] = p.out, make([]float64, size)
		}
		if p.neuron != nil {
			pp.wDirt = make([][][]bool, n)
			pp.iDirt = make([][]bool, n)
			for t := range n {
				flags := padded(p.ringLen*p.portCount + p.ringLen)
				pp.wDirt[t] = make([][]bool, p.ringLen)
				for s := range pp.wDirt[t] {
					pp.wDirt[t][s] = flags[s*p.portCount : (s+1)*p.portCount : (s+1)*p.portCount]
				}
				pp.iDirt[t] = flags[p.ringLen*p.portCount:]
			}
			pp.wQue = shareQueues(p.wQueued, pp.cut)
			tm.wv[0] = growViews(tm.wv[0], p.portCount)
		}
		p.part = pp
	}
	for t := range tm.wv {
		tm.wv[t] = growViews(tm.wv[t], len(tm.wv[0]))
	}
	for _, p := range e.pops {
		for _, pr := range p.proj {
			pr.seg = segments(pr, pr.post.part.cut)
		}
	}
	tm.pin = e.cpus
	tm.start = make([]chan int, n)
	for t := 1; t < n; t++ {
		tm.start[t] = make(chan int, 1)
		go e.worker(tm, t)
	}
	e.tm = tm
}

// shareQueues divides the lists of written targets (engine.go's
// wQueued, [slot][port]) among the workers by the neurons they own
// (cut): worker t's list of a row is its own part of the row's array,
// queueCap(its neurons) long, so that the workers' deliveries need no
// lock and the engine holds no more than with one thread. Each worker's
// list headers, written at every delivery, are a cache line apart from
// the others'.
func shareQueues(all [][]queued, cut []int) [][][]queued {
	const pad = 4 // a queued is 16 bytes or more: 64 bytes either side
	n := len(cut) - 1
	per := make([][][]queued, n)
	for t := range n {
		lo, hi := cut[t], cut[t+1]
		start, size := queueCap(lo), queueCap(hi-lo) // start+size <= queueCap(hi)
		per[t] = make([][]queued, len(all))
		for slot, rows := range all {
			q := make([]queued, len(rows)+2*pad)[pad : pad+len(rows) : pad+len(rows)]
			for r := range rows {
				if at := rows[r].at; at != nil {
					q[r].at = at[start : start : start+size]
				}
			}
			per[t][slot] = q
		}
	}
	return per
}

// padded returns n flags that share no cache line with anything else. A
// worker writes its flags at every delivery; allocated one by one, a few
// bytes each, the workers' flags would sit side by side in the same
// lines, which would go back and forth between the cores (the gain was
// too small to measure on the 2-vCPU machine of the README's figures).
func padded(n int) []bool {
	return make([]bool, n+2*cacheLine)[cacheLine : cacheLine+n : cacheLine+n]
}

func growViews(v [][]float64, n int) [][]float64 {
	if len(v) < n {
		v = make([][]float64, n)
	}
	return v
}

// segments returns, for each presynaptic unit i and worker t, the first
// connection of row i whose target is at or above cut[t]: the row's part
// for worker t is seg[i*(T+1)+t] .. seg[i*(T+1)+t+1]. Rows are sorted by
// target (canonical order, docs/models/synapses.md).
func segments(pr *projRT, cut []int) []int32 {
	T := len(cut) - 1
	seg := make([]int32, (len(pr.off)-1)*(T+1))
	for i := 0; i+1 < len(pr.off); i++ {
		c := pr.off[i]
		for t := range T {
			for c < pr.off[i+1] && int(pr.targetAt(c)) < cut[t] {
				c++
			}
			seg[i*(T+1)+t] = c
		}
		seg[i*(T+1)+T] = pr.off[i+1]
	}
	return seg
}

// worker runs worker t's share of every Advance until Close.
func (e *Engine) worker(tm *team, t int) {
	if len(tm.pin) > 0 {
		runtime.LockOSThread()
		_ = pinThread(tm.pin[(t-1)%len(tm.pin)]) // best effort: unpinned it is only slower
	}
	for steps := range tm.start[t] {
		e.runSteps(tm, t, e.now, steps)
	}
}

// advanceThreads is Advance with the team.
func (e *Engine) advanceThreads(n int) error {
	tm := e.tm
	for t := 1; t < tm.n; t++ {
		tm.start[t] <- n
	}
	done := e.runSteps(tm, 0, e.now, n)
	e.now += int64(done)
	if tm.fail.Load() {
		for _, err := range tm.errs {
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// runSteps is worker t's part of steps k0 .. k0+n-1; it returns how many
// steps completed. Every worker leaves after the same step.
func (e *Engine) runSteps(tm *team, t int, k0 int64, n int) int {
	for s := range n {
		k := k0 + int64(s)
		e.update(tm, t, k)
		tm.bar.wait()
		if tm.fail.Load() {
			return s
		}
		e.deliver(tm, t, k)
		stamp := k + 1
		sample := false
		for _, m := range e.mons {
			sample = sample || stamp%m.every == 0
		}
		if t == 0 {
			e.recordSpikes(k)
			if sample {
				for _, m := range e.mons {
					if stamp%m.every == 0 {
						e.sample(m, stamp)
					}
				}
			}
		}
		if sample || s == n-1 {
			// Nobody updates step k+1 while the monitors read step k's
			// state; and every worker has finished this Advance before
			// the caller goes on.
			tm.bar.wait()
		}
	}
	return n
}

// update is worker t's phase 1 of step k.
func (e *Engine) update(tm *team, t int, k int64) {
	par := k & 1
	if t == 0 {
		for _, p := range e.pops {
			if p.gen == nil {
				continue
			}
			out := p.part.out[par]
			spk := p.part.spk[par][0].ids[:0]
			if p.gen.Emit(k, out) && !p.current {
				for i, s := range out {
					if s != 0 {
						spk = append(spk, int32(i))
					}
				}
			}
			p.part.spk[par][0].ids = spk
		}
	}
	for _, p := range e.order {
		if p.neuron == nil {
			continue
		}
		pp := p.part
		lo, hi := pp.cut[t], pp.cut[t+1]
		if lo == hi {
			continue
		}
		slot := int(k % int64(p.ringLen))
		var iext []float64
		if p.iRing != nil && pp.iDirt[t][slot] {
			iext = p.iRing[slot]
		}
		w := tm.wv[t][:0]
		if p.wRing != nil {
			w = tm.wv[t][:p.portCount]
			for r := range w {
				w[r] = nil
				if pp.wDirt[t][slot][r] {
					w[r] = p.wRing[slot][r]
				}
			}
		}
		var rs models.RangeStepper
		if pp.split {
			rs = p.neuron.(models.RangeStepper)
		}
		var q []queued
		if p.wQueued != nil {
			q = pp.wQue[t][slot]
		}
		spk, err := e.stepAndClear(p.neuron, rs, pp.split, lo, hi, iext, w, q, pp.spk[par][t].ids[:0])
		pp.spk[par][t].ids = spk
		if err != nil {
			tm.errs[t] = fmt.Errorf("population %q: step %d (t = %g ms): %w", p.spec.Name, k, float64(k)*e.net.Dt, err)
			tm.fail.Store(true)
			return
		}
		if iext != nil {
			pp.iDirt[t][slot] = false
		}
		for r, wr := range w {
			if wr != nil {
				pp.wDirt[t][slot][r] = false
			}
		}
	}
}

// deliver is worker t's phase 2 of step k: step k's spikes and currents
// into the targets worker t owns, for step k + D.
func (e *Engine) deliver(tm *team, t int, k int64) {
	par := k & 1
	T := tm.n
	var touched uint32 // routeSpikes says why
	for _, p := range e.pops {
		for _, pr := range p.proj {
			post := pr.post
			L := int64(post.ringLen)
			dirt, que := post.part.wDirt[t], post.part.wQue[t]
			if p.current {
				dirt := post.part.iDirt[t]
				for i, x := range p.part.out[par] {
					if x == 0 {
						continue
					}
					for c := pr.seg[i*(T+1)+t]; c < pr.seg[i*(T+1)+t+1]; c++ {
						d := pr.delay0
						if pr.delay != nil {
							d = pr.delay[c]
						}
						slot := int((k + int64(d)) % L)
						post.iRing[slot][pr.targetAt(c)] += pr.weightAt(c) * x
						dirt[slot] = true
					}
				}
				continue
			}
			var vals []float64 // spike values (generators), else 1
			if p.gen != nil {
				vals = p.part.out[par]
			}
			for _, spk := range p.part.spk[par] {
				for _, i := range spk.ids {
					b := int(i)*(T+1) + t
					touched += pr.touch(pr.seg[b], pr.seg[b+1])
				}
			}
			for _, spk := range p.part.spk[par] {
				for _, i := range spk.ids {
					s := 1.0
					if vals != nil {
						s = vals[i]
					}
					deliverRow(pr, pr.seg[int(i)*(T+1)+t], pr.seg[int(i)*(T+1)+t+1], s, k, dirt, que)
				}
			}
		}
	}
	tm.touched[t*touchStride] = touched
}

// recordSpikes appends step k's recorded spikes to the record (worker 0).
func (e *Engine) recordSpikes(k int64) {
	par := k & 1
	for _, p := range e.pops {
		on := e.spikeOn[p.idx]
		if on == nil || p.current {
			continue
		}
		for _, spk := range p.part.spk[par] {
			for _, i := range spk.ids {
				if on[i] {
					e.rec.Spikes = append(e.rec.Spikes, apu.Spike{Pop: int32(p.idx), Neuron: i, Stamp: k + 1})
				}
			}
		}
	}
}

// closeThreads stops the workers.
func (e *Engine) closeThreads() {
	if e.tm == nil {
		return
	}
	for t := 1; t < e.tm.n; t++ {
		close(e.tm.start[t])
	}
	e.tm = nil
}

// barrier is a reusable barrier for the team. A step is tens of
// microseconds, too short to sleep and be woken each time, so a waiter
// first spins (yielding its P now and then, so that the team also runs
// with fewer Ps than workers); if the others are still not there after
// barrierSpin, as when the machine is busy and a worker's thread was
// descheduled, it sleeps on a condition variable rather than burn the CPU
// the late one needs.
type barrier struct {
	n     int32
	count atomic.Int32
	gen   atomic.Uint32
	mu    sync.Mutex
	cond  *sync.Cond
}

// barrierSpin is how long a waiter polls before it sleeps. Waking a
// sleeper costs far more than the wait it saved here: the woken worker's
// virtual CPU was halted, and it starts its next phase late, so that the
// other waits, and sleeps, at the next barrier in turn. With a spin bound
// by count (some 30 us) that happened at nearly every step of CUBA 64000
// on two threads (about 65 us a step each), which ran no faster than one
// thread (1.32 against 1.29 s/simsec, each worker busy 65% of the wall
// time). Spinning up to 20 us it still did (1.34-1.42 s); 100 to 200 us
// gave 0.66-0.71 s, and 1 ms 0.69-0.79 s (a spinning worker slows the
// other down). The bound is in time, not in polls, so that it means the
// same on a slower board.
const barrierSpin = 200 * time.Microsecond

func newBarrier(n int) *barrier {
	b := &barrier{n: int32(n)}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *barrier) wait() {
	g := b.gen.Load()
	if b.count.Add(1) == b.n {
		b.count.Store(0)
		b.mu.Lock()
		b.gen.Add(1)
		b.mu.Unlock()
		b.cond.Broadcast()
		return
	}
	var until time.Time
	for spin := 1; ; spin++ {
		if b.gen.Load() != g {
			return
		}
		if spin%64 == 0 {
			// Time is read once per 64 polls: it costs tens of ns.
			now := time.Now()
			if until.IsZero() {
				until = now.Add(barrierSpin)
			} else if now.After(until) {
				break
			}
			runtime.Gosched()
		}
	}
	b.mu.Lock()
	for b.gen.Load() == g {
		b.cond.Wait()
	}
	b.mu.Unlock()
}
