package cpu

import (
	"math"

	"github.com/spikeloop/spikeloop/models"
)

// Bytes per connection of a loaded engine (engine.go, plastic.go):
//
//   - the network it keeps (models.SynapseSpec): Conns 8 (pre, post
//     int32), Weights 8, Delays 4;
//   - the CSR projection (projRT): target 2 into a population of at most
//     65,536 units, else 4; weight 8 unless the entry's weights are all
//     equal (then one for the entry); delay 4 when the entry's delays are
//     not all equal;
//   - a plastic synapse keeps target 4 and weight 8, and its state
//     (plasticRT) adds kplus 8, kplusT 8, tpre 8, pre 4 and inIdx 4.
//
// So 22 bytes for a static connection with one weight and one delay per
// entry into a population of up to 65,536, 30 with weights of their own,
// 72 plastic; `spikeloop check` alone (no engine) holds the first 20. The
// CSR arrays are allocated at their final length (buildProj counts
// first), so loading peaks at the steady state
// (TestLoadPeakMatchesEstimate).
const (
	specBytesPerConn    = 8 + 8 + 4
	csrWeightBytes      = 8
	csrDelayBytes       = 4
	plasticBytesPerConn = 4 + 8 + 8 + 8 + 8 + 4 + 4
	spikeTimeBytes      = 16 // SpikeGenerator: step int64 + value float64
)

// storedTimer is a generator that holds a list of times (SpikeGenerator).
type storedTimer interface{ StoredTimes() int64 }

// estimateMemory is the engine's steady-state memory for net in bytes,
// what Probe reports (the one count: `spikeloop check` prints it, the
// daemon compares it with the memory available before a load or reload):
// connections (the network's lists and the engine's CSR, plastic state),
// state slices (the description's populations at their initial state and
// the engine's own, PopulationSpec.NewModel), input rings, spike times
// and STDP post histories. The rings are models.Network.RingBytes, the
// count Limits.MaxRingBytes bounds while the file loads: the engine
// allocates no more (TestRingBytesBoundsTheEngine); their spike rows'
// lists of written neurons (queued.go) add a 32nd of those rows. Monitors' buffers
// depend on how often they are drained, and Go's collector may hold up to
// twice the live heap (GOGC=100) while it loads.
func estimateMemory(net *models.Network) int64 {
	b := net.RingBytes()
	for p, rows := range net.SpikeRows() {
		b += rows * int64(queueCap(p.Size)) * 4 // the rows' lists of written neurons (queued.go)
	}
	traced := map[*models.PopulationSpec]bool{} // targets of plastic synapses
	for _, s := range net.Synapses {
		n := int64(len(s.Conns))
		zero, varied, weights := false, false, false
		for c, d := range s.Delays {
			zero = zero || d == 0
			varied = varied || d != s.Delays[0]
			weights = weights || math.Float64bits(s.Weights[c]) != math.Float64bits(s.Weights[0])
		}
		per := int64(specBytesPerConn + 4)
		if s.Post.Size <= maxNarrow {
			per = specBytesPerConn + 2
		}
		if weights {
			per += csrWeightBytes
		}
		if varied {
			per += csrDelayBytes
		}
		if s.STDP != nil {
			per = specBytesPerConn + plasticBytesPerConn
			if varied {
				per += csrDelayBytes
			}
			traced[s.Post] = true
			b += int64(s.Post.Size+1) * 4 // inOff
		}
		b += n * per
		projs := int64(1)
		if zero {
			projs = 2 // zero-delay connections get a projection of their own
		}
		b += projs * int64(s.Pre.Size+1) * 4 // CSR offsets
	}
	for _, p := range net.Populations {
		names := int64(len(p.Model.StateNames()))
		// The engine's own states + refractory counter and output/spike
		// list, and the description's states.
		b += (2*names + 2) * int64(p.Size) * 8
		if st, ok := p.Model.(storedTimer); ok {
			b += 2 * st.StoredTimes() * spikeTimeBytes // the description's and the engine's
		}
		if p.Trace != nil && traced[p] {
			maxD := int64(1)
			for _, d := range p.Trace.DendriticDelay {
				maxD = max(maxD, int64(d))
			}
			// kminus, kminT, tlast, histN, histHead, and the history
			// (maxD+2 entries of stamp and K-) per neuron.
			b += int64(p.Size) * (8 + 8 + 8 + 4 + 4 + (maxD+2)*16)
		}
	}
	return b
}
