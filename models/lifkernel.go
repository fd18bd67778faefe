package models

import "math"

// The exact (EXP_EULER) steps of LIF and ExpLIF are written without a
// branch per neuron: every neuron's new potential is computed, and the
// refractory counter selects between it and the held value. Each select
// is an if that assigns one integer (the bits of V, the counter), which
// compiles to a CMOV. A branch per neuron mispredicts wherever
// refractory and integrating neurons alternate. Neurons are taken in
// blocks of kernelBlock; the kernel also notes whether any potential
// reached V_th, and only then is the block run through the spike test
// (fire), which is the only loop with a branch per neuron.

// kernelBlock is the number of neurons a kernel updates before the spike
// test: small enough that the block is still in L1 for it.
const kernelBlock = 1024

// fire is the spike test V >= V_th with its reset (MODELS.md 3, 4) for
// neurons b0..b1-1, run on a block only when its kernel saw a potential
// at or above V_th; the indices of the neurons that spiked are appended.
func (c *lifCommon) fire(b0, b1 int, spiked []int32) []int32 {
	v, ref := c.v[b0:b1], c.ref[b0:b1]
	ref = ref[:len(v)]
	for i, x := range v {
		if x >= c.vTh {
			v[i] = c.afterSpike(x)
			ref[i] = c.refSteps
			spiked = append(spiked, int32(b0+i))
		}
	}
	return spiked
}

// lifBlock is LIF's EXP_EULER membrane update over one block (MODELS.md
// 3): V <- V_rest + (V - V_rest)*P33 + P30*I(k) + W_0(k) unless
// refractory, where the counter counts down instead. d is P30*I(k) per
// neuron, or nil for the constant d0; w0 is nil when no spike input
// arrives. The sum is formed in the order of the branchy loop it
// replaces, so the results are the same bit for bit. The result is
// nonzero when a neuron's V is at or above V_th after the update (a
// refractory neuron's too, whose held V can be there after a soft reset:
// the branchy loop tested it as well).
func lifBlock(v []float64, ref []int32, d []float64, d0 float64, w0 []float64, vRest, p33, vTh float64) (fired int32) {
	ref = ref[:len(v)]
	// One loop per input shape keeps the loop bodies free of tests on
	// the shape; they differ only in the line that forms nv.
	switch {
	case d == nil && w0 == nil:
		for i, vi := range v {
			ri := ref[i]
			ob := math.Float64bits(vi)
			nv := vRest + (vi-vRest)*p33 + d0
			nb, ro, f := math.Float64bits(nv), ri-1, int32(0)
			if ri != 0 {
				nb = ob
			}
			if ri == 0 {
				ro = 0
			}
			vn := math.Float64frombits(nb)
			if vn >= vTh {
				f = 1
			}
			v[i], ref[i] = vn, ro
			fired |= f
		}
	case d == nil:
		w0 = w0[:len(v)]
		for i, vi := range v {
			ri := ref[i]
			ob := math.Float64bits(vi)
			nv := vRest + (vi-vRest)*p33 + d0 + w0[i]
			nb, ro, f := math.Float64bits(nv), ri-1, int32(0)
			if ri != 0 {
				nb = ob
			}
			if ri == 0 {
				ro = 0
			}
			vn := math.Float64frombits(nb)
			if vn >= vTh {
				f = 1
			}
			v[i], ref[i] = vn, ro
			fired |= f
		}
	case w0 == nil:
		d = d[:len(v)]
		for i, vi := range v {
			ri := ref[i]
			ob := math.Float64bits(vi)
			nv := vRest + (vi-vRest)*p33 + d[i]
			nb, ro, f := math.Float64bits(nv), ri-1, int32(0)
			if ri != 0 {
				nb = ob
			}
			if ri == 0 {
				ro = 0
			}
			vn := math.Float64frombits(nb)
			if vn >= vTh {
				f = 1
			}
			v[i], ref[i] = vn, ro
			fired |= f
		}
	default:
		d = d[:len(v)]
		w0 = w0[:len(v)]
		for i, vi := range v {
			ri := ref[i]
			ob := math.Float64bits(vi)
			nv := vRest + (vi-vRest)*p33 + d[i] + w0[i]
			nb, ro, f := math.Float64bits(nv), ri-1, int32(0)
			if ri != 0 {
				nb = ob
			}
			if ri == 0 {
				ro = 0
			}
			vn := math.Float64frombits(nb)
			if vn >= vTh {
				f = 1
			}
			v[i], ref[i] = vn, ro
			fired |= f
		}
	}
	return fired
}

// uniform reports whether every entry of x is the same number.
func uniform(x []float64) bool {
	for _, a := range x {
		if a != x[0] {
			return false
		}
	}
	return true
}
