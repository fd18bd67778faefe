package compile

import "github.com/spikeloop/spikeloop/firmware/image"

// Host is what the host side of an APU run (apu/fixed, a remote chip's
// driver) needs besides the image: which image population a file
// population became, how each model state is read from the chip's
// Q16.16 states, and how each monitor's traces are assembled.
type Host struct {
	// Pops by file index (the network file's order, the index apu.Spike
	// and apu.Trace use).
	Pops []HostPop
	// FileIndex maps an image population index to its file index.
	FileIndex []int
	// Traces has one entry per (monitor, recorded state but spikes), in
	// file order, as apu.Record.Traces has.
	Traces []HostTrace
}

// HostPop is one population.
type HostPop struct {
	Name    string
	Image   int // index in Image.Pops
	File    int // index in the network file
	Model   string
	Kind    image.Kind
	Size    int
	States  []HostState // the model's states the host can read
	Feed    bool        // an InputTransmitter: the host gives its values (apu.Feed)
	Current bool        // emits currents (pA)

	beforeReset bool // stepwise: before_reset_mem
}

// HostState converts one model state from the chip's: the model value of
// a unit is Scale·(sum over Index of the chip's state idx of that unit) +
// Offset. LIF and ExpLIF's V is y·2^-16 + V_rest; ExpLIF's I_syn is the
// sum of its ports' currents.
type HostState struct {
	Name          string
	Index         []uint8 // the chip's state indices (firmware/image's Monitor doc), summed
	Scale, Offset float64
}

// HostTrace is one trace of apu.Record: monitor Monitor's state State of
// file population Pop, columns Neurons (nil: every unit). It comes from
// image monitor ImageMonitor: value = Scale·(sum of the record's columns
// Cols, positions in that monitor's States) + Offset.
type HostTrace struct {
	Monitor       int
	Pop           int
	State         string
	Neurons       []int
	Every         int
	ImageMonitor  int
	Cols          []int
	Scale, Offset float64
}

// Pop finds a population by name.
func (h *Host) Pop(name string) (*HostPop, bool) {
	for i := range h.Pops {
		if h.Pops[i].Name == name {
			return &h.Pops[i], true
		}
	}
	return nil, false
}

// State finds a state of the population by name.
func (p *HostPop) State(name string) (HostState, bool) {
	for _, s := range p.States {
		if s.Name == name {
			return s, true
		}
	}
	return HostState{}, false
}
