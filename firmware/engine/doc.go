// Package engine is the APU's fixed-point engine: it runs a program
// image (firmware/image) one step at a time in integer arithmetic only.
// The same code runs in-process on the host (the fixed backend), in the
// emulated chip and on the chip, and they agree bit for bit.
//
// # One step
//
// Step k follows the CPU engine's order (docs/models/synapses.md):
//
//  1. Generators, in population order, emit their step-k output; their
//     zero-delay connections are delivered at once.
//  2. Neurons update, in population order, with the input that arrives
//     for step k: the summed weights per receptor port and the current
//     input. A population's zero-delay connections are delivered right
//     after its update.
//  3. In population order: the spikes of step k are recorded with stamp
//     k+1 and every connection with a delay D >= 1 is delivered to step
//     k+D.
//  4. Now() becomes k+1; every state monitor with (k+1) % Every == 0
//     records a row stamped k+1.
//
// A zero-delay connection goes from a generator or from a population of
// lower index (image.Validate), so the population order is an update
// order in which zero-delay connections point forward, as the CPU
// engine's is (the compiler orders the populations so). Monitors record
// their initial rows (stamp 0) in New and in Reset.
//
// A population's input arrives in rings: slot s of a ring holds what
// arrives for the steps k with k % L = s, where L is the longest delay
// into the population plus one. A spike ring has one int32 Q16.16
// accumulator per slot, receptor port and unit; a current ring one per
// slot and unit. A slot is cleared once its step has read it.
//
// # Arithmetic
//
// Values are int32 in the image's formats (Q16.16, Coef = M·2^-S, weight
// mantissa << shift). Every product is formed exactly in int64 (the
// Izhikevich term A·V² in 128 bits, with math/bits) and rounded half up:
//
//	round(p, S) = (p + 2^(S-1)) >> S     (arithmetic shift; p when S = 0)
//
// so a tie goes towards +infinity (-2.5 -> -2, 2.5 -> 3). A product
// term c·x is round(M·x, S); the Izhikevich term A·V² is
// round(M·V·V, S+16). A delivered weight is round((m << s)·x, 16), x the
// source's output in Q16.16 (1.0 = 65536 for a spike, n·65536 for a
// Poisson count n): exact when x is a whole number.
//
// Nothing wraps. Every result that leaves int32 saturates at int32
// (MinInt32 or MaxInt32) and counts one saturation on the population
// that owns the result (Saturations): a product term is saturated on
// its own; the terms of one update equation are summed exactly in int64
// and the sum is saturated once; a sum that feeds a product (I_e + I,
// V - Rest, ...) is saturated before the product; a delivery is added
// to its ring accumulator with saturation (counted on the target).
//
// # The kinds
//
// LIF, ExpLIF, Izhikevich, SNNIF, SNNLIF and the generators compute what
// firmware/image documents for each kind, with the rules above:
//
//	LIF        y <- sat(P33·y + P30·sat(I_e + I) + W)           (not refractory)
//	ExpLIF     y <- sat(P22·y + Σ_r P21_r·I_r + P20·sat(I_e + I)); I_r <- sat(P11_r·I_r + W_r)
//	Izhikevich V <- sat(V + A·V² + B·V + C + H·sat(I_e + I - u) + W)
//	           u <- sat(u + HA·sat(Bu·V_old - u)); at a spike V <- Reset, u <- sat(u + D)
//	SNNIF      h <- sat(v + X)
//	SNNLIF     h <- sat(v + RTau·X - InvTau·sat(v - Rest))
//
// where X = sat(W + I) for the stepwise kinds. The threshold test (y >=
// Th) runs every step, refractory or not, as in the CPU engine. A hard
// reset sets the potential to Consts[Reset], a soft one (FlagSoftReset)
// subtracts it with saturation. A neuron's spike has the value 1.0.
//
// Generators: DC emits Amp in active steps; Bernoulli a spike iff
// (draw >> 2) < Prob; Spike (no window: its steps are its own) the sum
// of the values listed for the step; Custom row k - K0 of its rows in
// active steps; Input what the host gave for the step with SetInput,
// zeros otherwise. FlagBinary (spike generators only) makes a nonzero
// output 1.0.
//
// Poisson, per unit in an active step, inverts one draw d with
// u = d >> 2 in Q1.30, p = f = ExpNeg (Q1.30), lambda in Q16.16:
//
//	n = 0
//	while u >= f && 0 < p <= 2^30 && n < MaxPoisson:
//	    n = n + 1
//	    p = (p·lambda + n·2^15) / (n·2^16)    (round half up of p·lambda/n)
//	    f = f + p
//
// and emits n·1.0 (1.0 if FlagBinary and n > 0). The bound on p keeps
// every product inside int64 whatever the image says; ExpNeg rounds to
// 0 in Q1.30 for lambda above about 20.8, so the compiler must keep
// lambda well below that.
//
// # Random streams
//
// Population p draws from its own SplitMix64 stream: the state starts at
// mix(Seed ^ mix(p + 1)) where mix is SplitMix64's output function, each
// draw adds 0x9E3779B97F4A7C15 to the state and returns the upper 32 bits
// of mix(state). Poisson and Bernoulli draw exactly once per unit, in
// unit order, in every active step; no other kind draws. Reset restarts
// every stream.
//
// # Records
//
// Spikes of monitored units (every unit with a nonzero spike output,
// for generators too, but not current sources) and state rows are kept
// in buffers of fixed capacity: by default the initial rows and one
// step's worth of the worst case (every monitored unit spiking, every
// state monitor sampling), enough when the host drains after every
// step; Reserve makes room for more steps. Records that do not fit are
// dropped and counted (Dropped), never allocated. DrainSpikes and
// DrainRows append to the caller's slices, which allocate nothing once
// their capacity suffices.
//
// # Checksum, RAM and test vectors
//
// Checksum is the CRC-32C of the whole run-time state in a fixed order
// (checksum.go); RAM gives the bytes of run-time state an image needs
// (ram.go), and NewWithin refuses an image that needs more than a chip
// has. The test vectors in firmware/testdata/vectors (images, the
// host's calls, and per step the checksum and the spikes) are what
// another implementation of the firmware must reproduce; TestVectors
// replays them and go generate writes them again.
//
// This package is firmware: it imports only encoding/binary, hash/crc32,
// math/bits, errors and firmware/image; it has no maps, fmt, reflection,
// goroutines or floating point (TestNoFloat) and allocates nothing in
// Step after New.
package engine

//go:generate go test -run ^TestVectors$ -update

import "github.com/spikeloop/spikeloop/firmware/image"

// MaxPoisson bounds the count a Poisson unit emits in one step.
const MaxPoisson = 1024

// One is 1.0 in Q16.16: the value of a spike.
const One = 1 << 16

// Spike is one recorded spike: Unit of population Pop spiked in the step
// that ended at Stamp (step Stamp-1).
type Spike struct {
	Pop   uint32
	Unit  uint32
	Stamp int64
}

// Row is one recorded state row: the values of state State (an index in
// the kind's state list) of monitor Monitor's units at Stamp. Its N
// values follow the previous rows' values in the slice DrainRows fills.
type Row struct {
	Monitor uint32
	State   uint8
	N       uint32
	Stamp   int64
}

// Step advances every population by one step (see the package doc).
func (e *Engine) Step() { e.step() }

// Run performs n steps.
func (e *Engine) Run(n int) {
	for i := 0; i < n; i++ {
		e.step()
	}
}

// Now is the number of steps done since New or Reset.
func (e *Engine) Now() int64 { return e.now }

// SetInput gives an Input population's values (Q16.16, Size of them) for
// the next step, Now(). Without a call, the step's values are zeros.
func (e *Engine) SetInput(pop int, v []int32) error { return e.setInput(pop, v) }

// SetUnit replaces a parameter row of a population from the next step
// on: row is a Unit row index of the kind (LIF, ExpLIF and Izhikevich:
// I_e; DC: Amp; Poisson: Lambda or ExpNeg; Bernoulli: Prob), v holds one
// value for every unit or Size values. Reset restores the image's rows.
func (e *Engine) SetUnit(pop, row int, v []int32) error { return e.setUnit(pop, row, v) }

// SetRows replaces a Custom population's rows: rows holds rows of width
// values (1 or Size); row r is emitted in step Now()+r if that step is in
// the window. Reset restores the image's rows.
func (e *Engine) SetRows(pop, width int, rows []int32) error { return e.setRows(pop, width, rows) }

// State returns state idx of population pop (the kind's state list, as
// image.Monitor documents; for a generator, idx 0 is its output of the
// last step). The slice is the engine's own: read it, do not keep it
// across steps or change it. Nil when there is no such state.
func (e *Engine) State(pop, idx int) []int32 { return e.state(pop, idx) }

// Saturations is the number of results of population pop that
// saturated since New or Reset.
func (e *Engine) Saturations(pop int) uint64 {
	if pop < 0 || pop >= len(e.pops) {
		return 0
	}
	return e.pops[pop].sat
}

// DrainSpikes appends the recorded spikes to dst in the order they were
// recorded, forgets them and returns the extended slice.
func (e *Engine) DrainSpikes(dst []Spike) []Spike {
	dst = append(dst, e.spikes...)
	e.spikes = e.spikes[:0]
	return dst
}

// DrainRows appends the recorded state rows to rows and their values to
// vals, forgets them and returns the extended slices.
func (e *Engine) DrainRows(rows []Row, vals []int32) ([]Row, []int32) {
	rows = append(rows, e.rows...)
	vals = append(vals, e.vals...)
	e.rows, e.vals = e.rows[:0], e.vals[:0]
	return rows, vals
}

// Dropped is the number of records (spikes and rows) that did not fit in
// the record buffers since New or Reset.
func (e *Engine) Dropped() uint64 { return e.dropped }

// Reserve makes the record buffers hold the worst case of steps steps
// (plus the initial rows) so that the host may drain less often. It
// allocates; call it between runs, not in a loop.
func (e *Engine) Reserve(steps int) { e.reserve(steps) }

// Reset puts the engine back to step 0 as New left it: states, rings,
// counters, random streams, the image's parameter and Custom rows;
// undrained records are dropped and the monitors record their initial
// rows again. A run after Reset equals a run of a new engine bit for bit.
func (e *Engine) Reset() { e.reset() }

// Image is the image the engine runs.
func (e *Engine) Image() *image.Image { return e.img }
