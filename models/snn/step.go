package snn

import "math"

// fire is Θ(x) (x = charged value minus threshold): a value exactly at
// the threshold fires. In the backward test's smooth mode it is the
// surrogate's smooth step instead.
func (l *Layer) fire(x float32) float32 {
	if l.smooth {
		return l.smoothFire(x)
	}
	// Without a branch: the comparison sets an integer (SETcc) that is
	// converted, so a layer where some elements spike and others not
	// costs no mispredictions. -0 fires, NaN does not.
	var s int32
	if x >= 0 {
		s = 1
	}
	return float32(s)
}

// smoothFire is fire in the smooth mode, out of line so that fire
// stays small enough to be inlined into the step loops.
//
//go:noinline
func (l *Layer) smoothFire(x float32) float32 {
	return float32(l.sur.Smooth(float64(x)))
}

// reset is docs/models/stepwise.md applied to a charged value h with spike s. Written
// as arithmetic rather than a branch so that it is also the smooth
// forward's reset (s between 0 and 1).
func (l *Layer) reset(h, s float32) float32 {
	if l.soft {
		return h - l.vth*s
	}
	return h*(1-s) + l.vreset*s
}

// step is one step of every element. rec, when not nil, receives the
// recorded membrane: the charged value H when pre is true, else the value
// after the reset. Each class has its own loop so that the per-element
// work is straight-line arithmetic.
func (l *Layer) step(x, spikes, rec []float32, pre bool) {
	v := l.v[:len(x)]
	spike := l.spike[:len(x)]
	spikes = spikes[:len(x)]
	// record stores what rec wants; inlined, it costs a predictable branch.
	record := func(i int, h, after float32) {
		if rec != nil {
			if pre {
				rec[i] = h
			} else {
				rec[i] = after
			}
		}
	}
	switch l.model {
	case modelIF:
		for i, xi := range x {
			h := v[i] + xi
			s := l.fire(h - l.vth)
			v[i] = l.reset(h, s)
			spike[i], spikes[i] = s, s
			record(i, h, v[i])
		}
	case modelLIF:
		for i, xi := range x {
			vp := v[i]
			h := vp + (l.r*xi-(vp-l.vrest))/l.tau
			s := l.fire(h - l.vth)
			v[i] = l.reset(h, s)
			spike[i], spikes[i] = s, s
			record(i, h, v[i])
		}
	case modelPLIF:
		for i, xi := range x {
			vp := v[i]
			h := vp + (xi-(vp-l.leakTo))*l.sigW
			s := l.fire(h - l.vth)
			v[i] = l.reset(h, s)
			spike[i], spikes[i] = s, s
			record(i, h, v[i])
		}
	case modelEIF:
		for i, xi := range x {
			vp := v[i]
			ex := float32(math.Exp(float64((vp - l.vT) / l.deltaT)))
			h := vp + (-(vp-l.vrest)+l.r*xi+l.deltaT*ex)/l.tau
			s := l.fire(h - l.vth)
			v[i] = l.reset(h, s)
			spike[i], spikes[i] = s, s
			record(i, h, v[i])
		}
	case modelQIF:
		for i, xi := range x {
			vp := v[i]
			h := vp + (l.a0*(vp-l.vrest)*(vp-l.vc)+l.r*xi)/l.tau
			s := l.fire(h - l.vth)
			v[i] = l.reset(h, s)
			spike[i], spikes[i] = s, s
			record(i, h, v[i])
		}
	case modelKLIF:
		for i, xi := range x {
			vp := v[i]
			var u float32
			if l.decayInput {
				u = vp + (l.r*xi-(vp-l.leakTo))/l.tau
			} else {
				u = vp - (vp-l.leakTo)/l.tau + l.r*xi
			}
			h := max(0, l.k*u)
			s := l.fire(h - l.vth)
			var after float32
			switch {
			case !l.scaleReset:
				after = l.reset(h, s)
			case l.soft:
				after = (h - l.vth*s) / l.k
			default:
				after = (h/l.k)*(1-s) + l.vreset*s
			}
			v[i] = after
			spike[i], spikes[i] = s, s
			record(i, h, after)
		}
	case modelALIF:
		n := len(l.alpha)
		for i, xi := range x {
			j := i % n
			sp := spike[i]
			b := l.rho[j]*l.b[i] + (1-l.rho[j])*sp
			theta := l.vth0 + l.beta*b
			vn := l.alpha[j]*v[i] + l.inGain[j]*xi - theta*sp*l.dt
			s := l.fire(vn - theta)
			l.b[i], l.theta[i], v[i] = b, theta, vn
			spike[i], spikes[i] = s, s
			record(i, vn, vn)
		}
	case modelSparseLIF:
		for i, xi := range x {
			vn := l.decay*v[i] + xi - l.vth*spike[i]
			s := l.fire(vn - l.vth)
			v[i] = vn
			spike[i], spikes[i] = s, s
			record(i, vn, vn)
		}
	case modelSRM:
		l.srmStep(x, spikes, rec)
	}
}
