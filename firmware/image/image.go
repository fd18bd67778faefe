// Package image is the APU's program image: a compiled, quantized
// network that the fixed-point engine (firmware/engine) runs. The host
// compiles a network file into an Image (apu/compile), encodes it
// (Encode) and sends it to the chip, which decodes and validates it
// (Decode) before anything runs. firmware/README.md gives the byte
// layout.
//
// Everything here is integer. The number formats:
//
//   - Q16.16: an int32 x stands for x/65536. Potentials (relative to the
//     model's offset, see each kind), currents (pA), thresholds, input
//     values and generator outputs.
//   - Coef: an int32 mantissa M and a shift S, standing for M·2^-S
//     (propagators and other factors; the compiler picks S per factor to
//     keep 31 significant bits).
//   - Weights: an int16 mantissa m per connection and one shift s per
//     synapse entry: the weight in Q16.16 is m·2^s (s in 0..MaxWeightShift).
//
// The meaning of each population's Coefs, Consts and Unit rows depends
// on its Kind and is fixed by the index constants below (LIFP33, ...);
// the engine and the compiler both use these names.
//
// This package is part of the firmware: it imports only the standard
// library's portable parts and has no maps, fmt, reflection or
// goroutines, so that it ports to a microcontroller.
package image

// Version is the image format version this firmware reads.
const Version = 1

// Limits of the format (checked by Decode).
const (
	MaxWeightShift = 16      // weight = mantissa << shift, shift in 0..16
	MaxCoefShift   = 62      // Coef.Shift in 0..62
	MaxPorts       = 8       // receptor ports of an ExpLIF population
	MaxDelay       = 1 << 15 // synaptic delay in steps, 0..MaxDelay
)

// Kind is a population's model.
type Kind uint8

// The kinds the APU runs. Neurons below 16, generators from 16.
const (
	KindLIF        Kind = 1 // NEST iaf_psc_delta, exact propagators
	KindExpLIF     Kind = 2 // NEST iaf_psc_exp, Ports receptor ports
	KindIzhikevich Kind = 3 // NEST izhikevich, forward Euler
	KindSNNIF      Kind = 4 // stepwise integrate-and-fire
	KindSNNLIF     Kind = 5 // stepwise leaky integrate-and-fire

	KindDC        Kind = 16 // constant current in the window (pA)
	KindPoisson   Kind = 17 // Poisson counts per step
	KindBernoulli Kind = 18 // at most one spike per step
	KindSpike     Kind = 19 // spikes at listed steps
	KindCustom    Kind = 20 // rows of values, one per step
	KindInput     Kind = 21 // values the host gives per step
)

// IsGenerator says whether populations of kind k only emit.
func (k Kind) IsGenerator() bool { return k >= KindDC }

// Flags are a population's switches.
type Flags uint8

const (
	// FlagSoftReset: at a spike the potential drops by Consts[Reset]
	// (LIF, ExpLIF: V_th - V_rest; SNNIF, SNNLIF: the threshold) instead
	// of being set to Consts[Reset].
	FlagSoftReset Flags = 1 << iota
	// FlagBinary: a generator's nonzero outputs become 1.0.
	FlagBinary
	// FlagCurrent: the population emits currents (pA) that its synapses
	// carry to the targets' current input, not spikes. Set for KindDC
	// and for a current-mode KindInput.
	FlagCurrent
)

// Coef is the real number M·2^-Shift.
type Coef struct {
	M     int32
	Shift uint8
}

// Window is a generator's activity window in steps: step k is active
// iff First <= k < End.
type Window struct {
	First, End int64
}

// Pop is one population. Size units; the rows of Unit have Size entries
// each.
//
// Index constants per kind (Coefs / Consts / Unit):
//
// LIF: the state y = V - V_rest (Q16.16, mV) and a refractory counter.
// Step: if ref = 0, y <- P33·y + P30·(I_e + I) + W; else ref <- ref-1 and
// y keeps its value (arriving W is dropped). Then if y >= Th: a spike,
// y <- Reset (or y - Reset with FlagSoftReset), ref <- RefSteps.
// I is the current input of the step (pA), W the summed delta weights.
//
// ExpLIF: y as for LIF, plus one current I_r per port (pA, Q16.16).
// Step: if ref = 0, y <- P22·y + sum_r P21_r·I_r + P20·(I_e + I); else
// ref <- ref-1. Then every port (also while refractory)
// I_r <- P11_r·I_r + W_r. Then the threshold test as for LIF.
// Coefs: P22, P20, then per port r: P11_r at ExpLIFPort+2r, P21_r at
// ExpLIFPort+2r+1. Unit: I_e, y0, then the ports' initial currents.
//
// Izhikevich: V and u absolute (Q16.16, mV). Step with the old values:
// V <- V + A·V² + B·V + C + H·(I_e + I - u) + W;
// u <- u + HA·(Bu·V_old - u). If V >= Th: V <- Reset, u <- u + D.
//
// SNNIF: v absolute (Q16.16). h = v + X (X the summed weighted input);
// a spike iff h >= Th; v <- Reset (hard) or h - Th (soft), else v <- h.
//
// SNNLIF: h = v + RTau·X - InvTau·(v - Rest); then as SNNIF.
//
// DC: emits Amp (pA) in active steps, 0 otherwise.
// Poisson: in an active step, a count n ~ Poisson(lambda) per unit by
// inversion with one 32-bit draw per unit (firmware/engine documents the
// loop); Lambda is Q16.16, ExpNeg = exp(-lambda) in Q1.30.
// Bernoulli: in an active step, a spike iff (draw >> 2) < Prob, Prob in
// Q1.30 (1.0 = 1<<30).
// Spike: unit u emits SpikeVal[j] in step SpikeStep[j] for j in
// SpikeOff[u]..SpikeOff[u+1]-1 (steps ascending per unit).
// Custom: in active step k with j = k - K0 in 0..rows-1, emits row j of
// Rows (RowWidth 1: one value for every unit; RowWidth Size: one each).
// Input: emits what the host gave for the step (zeros when nothing).
type Pop struct {
	Kind     Kind
	Flags    Flags
	Ports    uint8  // ExpLIF: receptor ports (1..MaxPorts); others 1 for neurons, 0 for generators
	Size     uint32 // units, >= 1
	RefSteps uint32 // LIF, ExpLIF: refractory steps after a spike
	Coefs    []Coef
	Consts   []int32   // Q16.16
	Unit     [][]int32 // per-unit rows, Q16.16 unless said otherwise

	Win Window // DC, Poisson, Bernoulli, Custom (Spike and Input: zero)

	SpikeOff  []uint32 // Spike: Size+1 offsets into SpikeStep/SpikeVal
	SpikeStep []int64  // Spike: steps, ascending per unit
	SpikeVal  []int32  // Spike: values (Q16.16)

	RowWidth uint32  // Custom: 1 or Size
	K0       int64   // Custom: the step of row 0
	Rows     []int32 // Custom: rows of RowWidth values (Q16.16)
}

// LIF.
const (
	LIFP33, LIFP30, LIFCoefs   = 0, 1, 2
	LIFTh, LIFReset, LIFConsts = 0, 1, 2
	LIFIe, LIFY0, LIFUnits     = 0, 1, 2
)

// ExpLIF. Coefs: ExpLIFCoefs(ports); Unit rows: ExpLIFUnits(ports).
const (
	ExpLIFP22, ExpLIFP20, ExpLIFPort    = 0, 1, 2
	ExpLIFTh, ExpLIFReset, ExpLIFConsts = 0, 1, 2
	ExpLIFIe, ExpLIFY0, ExpLIFI0        = 0, 1, 2 // I0: port 0's initial current; port r at ExpLIFI0+r
)

// ExpLIFCoefs is the number of Coefs of an ExpLIF population.
func ExpLIFCoefs(ports int) int { return ExpLIFPort + 2*ports }

// ExpLIFUnits is the number of Unit rows of an ExpLIF population.
func ExpLIFUnits(ports int) int { return ExpLIFI0 + ports }

// Izhikevich. A = h·0.04, B = h·5, H = h, HA = h·a, Bu = b (Coefs);
// C = h·140, Th = V_th, Reset = c, D = d (Consts).
const (
	IzhA, IzhB, IzhH, IzhHA, IzhBu, IzhCoefs = 0, 1, 2, 3, 4, 5
	IzhC, IzhTh, IzhReset, IzhD, IzhConsts   = 0, 1, 2, 3, 4
	IzhIe, IzhV0, IzhU0, IzhUnits            = 0, 1, 2, 3
)

// SNNIF and SNNLIF.
const (
	SNNRTau, SNNInvTau, SNNLIFCoefs = 0, 1, 2 // SNNIF has no Coefs
	SNNTh, SNNReset, SNNIFConsts    = 0, 1, 2
	SNNRest, SNNLIFConsts           = 2, 3
	SNNV0, SNNUnits                 = 0, 1
)

// Generators.
const (
	DCAmp, DCUnits                             = 0, 1
	PoissonLambda, PoissonExpNeg, PoissonUnits = 0, 1, 2
	BernoulliProb, BernoulliUnits              = 0, 1
)

// Synapse is one synapse entry: the connections from population Pre to
// population Post, in CSR form by presynaptic unit. A spike (or
// current) of value x from pre unit i in step k adds (Weight[c]<<Shift)
// · x / 65536 (rounded as firmware/engine documents) to Post's input
// for step k + Delay[c] on Port, for c in Off[i]..Off[i+1]-1. Delay 0
// is allowed only into SNNIF and SNNLIF populations that come after Pre
// in the update order (docs of the engine). A current source's entries
// go to the target's current input; their Port is 0.
type Synapse struct {
	Pre, Post uint32
	Port      uint8
	Shift     uint8    // 0..MaxWeightShift
	Off       []uint32 // len Pops[Pre].Size+1, Off[0] = 0, ascending
	Target    []uint32 // per connection: unit of Post
	Weight    []int16  // per connection: mantissa
	Delay     []uint16 // per connection: steps
}

// Monitor records a population: its spikes, and every Every steps the
// states listed (by index in the kind's state list: LIF [y], ExpLIF
// [y, I_0, I_1, ...], Izhikevich [V, u], SNNIF and SNNLIF [v], DC [out])
// of Units (nil: every unit), sampled after step k with stamp k+1 when
// (k+1) % Every == 0.
type Monitor struct {
	Pop    uint32
	Spikes bool
	States []uint8
	Units  []uint32
	Every  uint32 // >= 1
}

// Image is a compiled network.
type Image struct {
	Version  uint16
	DtPicos  uint64 // the step in picoseconds (for the host's reports; the engine counts steps)
	Seed     uint64 // the random streams' seed: population p draws from stream (Seed, p)
	Pops     []Pop
	Synapses []Synapse
	Monitors []Monitor
}
