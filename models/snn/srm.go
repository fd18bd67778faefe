package snn

import "math"

// srmState is SNNSRM's kernels and input/spike history (docs/models/stepwise.md). The
// membrane is a convolution of the last K inputs with the response kernel
// plus the last M-1 own spikes with the refractory kernel, so the state is
// two ring buffers of whole rows (one row = one step of every element).
type srmState struct {
	eps   []float32 // response kernel, K taps, eps[0] = 0
	nu    []float32 // refractory kernel, M taps, nu[0] = 0
	ts    float32   // Ts
	vrest float32   // V_rest

	in    []float32 // K rows: the last K inputs; row inPos is the newest
	inPos int
	z     []float32 // M-1 rows: the last M-1 spike indicators; row zPos is the newest
	zPos  int
	// zAny[row] is false when that row of z is all zero. Spikes are rare,
	// so most refractory rows are skipped without being read.
	zAny []bool

	psp []float32 // scratch, one row
}

func buildSRM(l *Layer, p *params) error {
	l.soft = true // no reset stage; the refractory kernel is the reset
	ts, tauRes, tauRef := p.num("time_step"), p.num("tau_res"), p.num("tau_ref")
	window, kw := p.num("time_window"), p.num("kernel_window")
	switch {
	case !(ts > 0):
		return p.errorf("time_step", "must be > 0, got %g", ts)
	case !(tauRes > 0):
		return p.errorf("tau_res", "must be > 0, got %g", tauRes)
	case !(tauRef > 0):
		return p.errorf("tau_ref", "must be > 0, got %g", tauRef)
	case kw < 1:
		return p.errorf("kernel_window", "must be >= 1, got %g", kw)
	case window < ts:
		return p.errorf("time_window", "must be >= time_step (%g), got %g", ts, window)
	}
	theta := p.num("V_th")
	s := &srmState{
		eps:   srmKernel(tauRes, ts, window, 1, 0.01, int(kw)),
		nu:    srmKernel(tauRef, ts, window, -2*theta, 0.001, 0),
		ts:    float32(ts),
		vrest: float32(p.num("V_rest")),
	}
	s.in = make([]float32, len(s.eps)*l.size)
	s.z = make([]float32, (len(s.nu)-1)*l.size)
	s.zAny = make([]bool, len(s.nu)-1)
	s.psp = make([]float32, l.size)
	l.srm = s
	return nil
}

// srmKernel samples scale·(t/tau)·exp(1 - t/tau) at t = j·ts, j = 0, 1, ...
// and stops before the first tap past the peak (t > tau) whose magnitude
// is below eps, before t reaches window, and after maxTaps taps (0 = no
// cap). The values are computed in float64 and rounded once.
func srmKernel(tau, ts, window, scale, eps float64, maxTaps int) []float32 {
	var taps []float32
	for j := 0; ; j++ {
		t := float64(j) * ts
		if t >= window || (maxTaps > 0 && len(taps) == maxTaps) {
			break
		}
		val := scale * (t / tau) * math.Exp(1-t/tau)
		if t > tau && math.Abs(val) < eps {
			break
		}
		taps = append(taps, float32(val))
	}
	return taps
}

// Kernels returns copies of SNNSRM's response and refractory kernels (nil
// for other classes).
func (l *Layer) Kernels() (response, refractory []float32) {
	if l.srm == nil {
		return nil, nil
	}
	return append([]float32(nil), l.srm.eps...), append([]float32(nil), l.srm.nu...)
}

func (s *srmState) reset() {
	clear(s.in)
	clear(s.z)
	clear(s.zAny)
	s.inPos, s.zPos = 0, 0
}

// srmStep is one step of docs/models/stepwise.md: v = V_rest + Ts·Σ eps[j]·X[t-j] +
// Σ nu[j]·z[t-j], z = Θ(v - θ), output z/Ts.
func (l *Layer) srmStep(x, spikes, rec []float32) {
	s, n := l.srm, l.size
	k := len(s.eps)
	s.inPos = (s.inPos + 1) % k
	copy(s.in[s.inPos*n:(s.inPos+1)*n], x)

	psp := s.psp
	clear(psp)
	for j, e := range s.eps {
		if e == 0 {
			continue
		}
		row := (s.inPos - j + k) % k
		past := s.in[row*n : (row+1)*n]
		for i := range psp {
			psp[i] += e * past[i]
		}
	}
	// The refractory sum goes into v directly; psp is scaled by Ts first.
	v := l.v
	for i := range v {
		v[i] = s.vrest + s.ts*psp[i]
	}
	if m := len(s.nu) - 1; m > 0 {
		for j := 1; j <= m; j++ {
			row := (s.zPos - (j - 1) + m) % m
			if !s.zAny[row] {
				continue
			}
			past := s.z[row*n : (row+1)*n]
			nu := s.nu[j]
			for i := range v {
				v[i] += nu * past[i]
			}
		}
		s.zPos = (s.zPos + 1) % m
	}
	fired := false
	for i := range v {
		z := l.fire(v[i] - l.vth)
		fired = fired || z != 0
		l.spike[i] = z
		spikes[i] = z / s.ts
		if rec != nil {
			rec[i] = v[i]
		}
	}
	if m := len(s.nu) - 1; m > 0 {
		copy(s.z[s.zPos*n:(s.zPos+1)*n], l.spike)
		s.zAny[s.zPos] = fired
	}
}
