package cpu

import "github.com/spikeloop/spikeloop/models"

// EstimateMemory is the engine's steady-state memory for net in bytes:
// state slices, input rings and connection lists. It is an estimate for
// `spikeloop check`; monitors' buffers depend on how often they are drained.
func EstimateMemory(net *models.Network) int64 {
	var b int64
	maxDelay := map[*models.PopulationSpec]int64{}
	for _, s := range net.Synapses {
		for _, d := range s.Delays {
			maxDelay[s.Post] = max(maxDelay[s.Post], int64(d))
		}
		// CSR: offsets, target, weight, and delays when they differ.
		b += int64(s.Pre.Size+1)*4 + int64(len(s.Conns))*(4+8+4)
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
	}
	return b
}
