package cpu

import "github.com/spikeloop/spikeloop/models"

// Bytes per connection of a loaded engine (engine.go, plastic.go):
//
//   - the network it keeps (models.SynapseSpec): Conns 8 (pre, post
//     int32), Weights 8, Delays 4;
//   - the CSR projection (projRT): target 4, weight 8, and delay 4 when
//     the entry's delays are not all equal;
//   - a plastic synapse (plasticRT) adds kplus 8, kplusT 8, tpre 8, pre 4
//     and inIdx 4.
//
// So 32 bytes for a static connection with one delay per entry, 36 with
// per-connection delays, 68 plastic; `spikeloop check` alone (no engine)
// holds the first 20. The CSR arrays are allocated at their final length
// (buildProj counts first), so loading peaks at the steady state
// (TestLoadPeakMatchesEstimate).
const (
	specBytesPerConn    = 8 + 8 + 4
	csrBytesPerConn     = 4 + 8
	csrDelayBytes       = 4
	plasticBytesPerConn = 8 + 8 + 8 + 4 + 4
	spikeTimeBytes      = 16 // SpikeGenerator: step int64 + value float64
)

// storedTimer is a generator that holds a list of times (SpikeGenerator).
type storedTimer interface{ StoredTimes() int64 }

// EstimateMemory is the engine's steady-state memory for net in bytes:
// connections (the network's lists and the engine's CSR, plastic state),
// state slices, input rings, spike times and STDP post histories. It is an
// estimate for `spikeloop check`; monitors' buffers depend on how often
// they are drained, and Go's collector may hold up to twice the live heap
// (GOGC=100) while it loads.
func EstimateMemory(net *models.Network) int64 {
	var b int64
	maxDelay := map[*models.PopulationSpec]int64{}
	traced := map[*models.PopulationSpec]bool{} // targets of plastic synapses
	for _, s := range net.Synapses {
		n := int64(len(s.Conns))
		zero, varied := false, false
		for _, d := range s.Delays {
			maxDelay[s.Post] = max(maxDelay[s.Post], int64(d))
			zero = zero || d == 0
			varied = varied || d != s.Delays[0]
		}
		per := int64(specBytesPerConn + csrBytesPerConn)
		if varied {
			per += csrDelayBytes
		}
		if s.STDP != nil {
			per += plasticBytesPerConn
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
		states := int64(len(p.Model.StateNames()) + 2) // + refractory counter, output/spike list
		b += states * int64(p.Size) * 8
		if nm, ok := p.Model.(models.NeuronModel); ok {
			ports := nm.Ports()
			if sp, ok := nm.(models.SignSplitter); ok && sp.SplitsBySign() {
				ports = 2 // one ring row per sign (engine.go)
			}
			b += (maxDelay[p] + 1) * int64(ports+1) * int64(p.Size) * 8
		}
		if st, ok := p.Model.(storedTimer); ok {
			b += st.StoredTimes() * spikeTimeBytes
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
