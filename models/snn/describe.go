package snn

// Desc is a read-only description of a layer's parameters and its current
// membrane, for compilers that translate a layer into another number
// format (apu/compile). Values are the float32 ones the layer computes
// with; slices are copies.
type Desc struct {
	Class string
	// VTh is the threshold; Soft the effective reset (SOFT: V = H -
	// V_th·S); VReset the hard reset's value (0 with a soft reset).
	VTh, VReset float32
	Soft        bool
	// SNNLIF: V_rest, R and tau of H = V + (R·X - (V - V_rest))/tau.
	VRest, R, Tau float32
	// BeforeResetMem: the recorded v is the charged value H.
	BeforeResetMem bool
	// V is the membrane now (len Size); before the first step it is the
	// initial state.
	V []float32
}

// Describe returns the layer's description.
func (l *Layer) Describe() Desc {
	return Desc{
		Class: l.Class(), VTh: l.vth, VReset: l.vreset, Soft: l.soft,
		VRest: l.vrest, R: l.r, Tau: l.tau, BeforeResetMem: l.beforeReset,
		V: append([]float32(nil), l.v...),
	}
}
