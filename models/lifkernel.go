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

// fire is the spike test V >= V_th with its reset (docs/models/lif.md) for
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

// refBias turns a refractory counter r (0 <= r <= MaxInt32) into the bit
// b = (r != 0) as (uint32(r) + refBias) >> 31: one LEA and one shift, no
// register copy (-r >> 31 needs one, as NEG overwrites its operand).
const refBias = 1<<31 - 1

// lifBlock is LIF's EXP_EULER membrane update over one block (docs/models/lif.md):
// V <- V_rest + (V - V_rest)*P33 + P30*I(k) + W_0(k) unless
// refractory, where the counter counts down instead. The update is
// formed as V*P33 + (k + P30*I(k)) + W_0(k) with k = V_rest*(1 - P33),
// one multiply and one add per neuron when the drive is a constant; it
// rounds differently from the form above by an ulp or so (1e-14 mV at
// -70 mV, far inside the 1e-6 mV of the NEST references). d is P30*I(k)
// per neuron, or nil for the constant d0; w0 is nil when no spike input
// arrives. The result is nonzero when a neuron's V is at or above V_th
// after the update (a refractory neuron's too, whose held V can be there
// after a soft reset: the branchy loop tested it as well). quiet says
// that no counter in ref is nonzero.
//
// Every product is rounded before it is added (the float64 conversions):
// Go may fuse x*y + z into one multiply-add that rounds once, and does on
// arm64 and on amd64 built with GOAMD64=v3, so without them a board and a
// desktop would compute V differently in the last bit, and the branchy
// reference in the tests would not match the kernel bit for bit. Where
// nothing fuses (amd64's default build) the conversions compile to
// nothing.
func lifBlock(v []float64, ref []int32, d []float64, d0 float64, w0 []float64, k, p33, vTh float64, quiet bool) (fired int32) {
	ref = ref[:len(v)]
	// One loop per input shape keeps the loop bodies free of tests on
	// the shape; they differ only in the line that forms nv.
	switch {
	case d == nil && w0 == nil && quiet:
		// No neuron of the block is refractory (the common case where
		// spikes are rare or clustered; the caller knows it from
		// LIF.refMax): the update alone, 7 instructions per neuron, and
		// no counter is stored.
		c := k + d0
		h := len(v) / 2
		va, vb := v[:h], v[h:2*h]
		vb = vb[:len(va)]
		for i, x0 := range va {
			x0 = float64(x0*p33) + c
			x1 := float64(vb[i]*p33) + c
			va[i], vb[i] = x0, x1
			if x0 >= vTh || x1 >= vTh {
				fired = 1
			}
		}
		if i := len(v) - 1; len(v)%2 == 1 {
			x := float64(v[i]*p33) + c
			v[i] = x
			if x >= vTh {
				fired = 1
			}
		}
	case d == nil && w0 == nil:
		// The hot case (LIF100k): no select at all. b is 1 for a
		// refractory neuron (counter > 0) and 0 otherwise; it picks the
		// factor and the addend from two-entry tables, so a refractory
		// neuron computes V*1 + (-0), which is V bit for bit, and its
		// counter drops by b. A CMOV on the bits (the loops below) needs
		// V moved to an integer register and back: 27 instructions per
		// neuron on amd64, against 13 for this loop (go tool objdump).
		pm := [2]float64{p33, 1}
		cm := [2]float64{k + d0, math.Copysign(0, -1)}
		// Two neurons per iteration, one from each half of the block,
		// halve the loop's own count, compare and jump; the halves are
		// re-sliced to one length so that no index is bounds-checked.
		// The test on V_th is a branch that is almost never taken (0.2%
		// of neurons per step in LIF100k).
		h := len(v) / 2
		va, vb, ra, rb := v[:h], v[h:2*h], ref[:h], ref[h:2*h]
		vb, ra, rb = vb[:len(va)], ra[:len(va)], rb[:len(va)]
		for i, x0 := range va {
			r0, r1 := ra[i], rb[i]
			b0, b1 := (uint32(r0)+refBias)>>31, (uint32(r1)+refBias)>>31
			x0 = float64(x0*pm[b0]) + cm[b0]
			x1 := float64(vb[i]*pm[b1]) + cm[b1]
			va[i], vb[i] = x0, x1
			ra[i], rb[i] = r0-int32(b0), r1-int32(b1)
			if x0 >= vTh || x1 >= vTh {
				fired = 1
			}
		}
		if i := len(v) - 1; len(v)%2 == 1 {
			ri := ref[i]
			b := (uint32(ri) + refBias) >> 31
			x := float64(v[i]*pm[b]) + cm[b]
			v[i], ref[i] = x, ri-int32(b)
			if x >= vTh {
				fired = 1
			}
		}
	case d == nil:
		w0 = w0[:len(v)]
		for i, vi := range v {
			ri := ref[i]
			ob := math.Float64bits(vi)
			nv := float64(vi*p33) + (k + d0) + w0[i]
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
			nv := float64(vi*p33) + (k + d[i])
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
			nv := float64(vi*p33) + (k + d[i]) + w0[i]
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
