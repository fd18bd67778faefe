package snn

import (
	"fmt"
	"math"
)

// Grads is what Backward returns for one population over T steps.
type Grads struct {
	// X is dL/dX[t]: the gradient with respect to the layer's input at
	// every step, [T][Size]. A synapse layer below turns it into weight
	// gradients (dL/dW[i][j] = Σ_t pre[t][i]·X[t][j]).
	X [][]float32
	// Params holds dL/dp for each learnable parameter of the class, by the
	// seed's name: "w" (SNNParamtricLIF, 1 value), "k" (SNNKLIF, 1 value),
	// "tau_m" and "tau_adp" (SNNALIF, one value per tau_shape entry). It
	// is empty for classes without learnable parameters.
	Params map[string][]float32
}

// trace is the forward record a backward pass reads, row-major [T][n].
type trace struct {
	n     int
	h     []float32 // the compared value: H[t] (charge/fire/reset classes), V[t] (ALIF, SparseLIF, SRM)
	s     []float32 // S[t], the spike indicator (SNNSRM: z[t], before the 1/Ts scaling)
	vPrev []float32 // membrane before the step, V[t-1]
	sPrev []float32 // S[t-1]
	bPrev []float32 // ALIF: b[t-1]
	theta []float32 // ALIF: theta[t]
}

// forward runs x from the initial state (as Multi does) and records what
// the backward pass needs.
func (l *Layer) forward(x [][]float32) *trace {
	T, n := len(x), l.size
	tr := &trace{n: n, h: make([]float32, T*n), s: make([]float32, T*n),
		vPrev: make([]float32, T*n), sPrev: make([]float32, T*n)}
	if l.model == modelALIF {
		tr.bPrev, tr.theta = make([]float32, T*n), make([]float32, T*n)
	}
	out := make([]float32, n)
	l.Reset()
	for t := range x {
		row := t * n
		copy(tr.vPrev[row:row+n], l.v)
		copy(tr.sPrev[row:row+n], l.spike)
		if tr.bPrev != nil {
			copy(tr.bPrev[row:row+n], l.b)
		}
		l.step(x[t], out, tr.h[row:row+n], true)
		copy(tr.s[row:row+n], l.spike)
		if tr.theta != nil {
			copy(tr.theta[row:row+n], l.theta)
		}
	}
	return tr
}

// gradAt is the layer's dS/dx at x: the surrogate derivative, masked to
// SparseLIF's window BV_th < V < 2·V_th - BV_th (docs/models/stepwise.md).
func (l *Layer) gradAt(x float64) float64 {
	if l.model == modelSparseLIF {
		v, vth, bv := x+float64(l.vth), float64(l.vth), float64(l.bvth)
		if !(bv < v && v < 2*vth-bv) {
			return 0
		}
	}
	return l.sur.Grad(x)
}

// Backward computes, by backpropagation through time, the gradients of a
// loss L with respect to the input of every step and to the learnable
// parameters, given dL/dS[t] for the layer's spike output at every step
// (dLdS, [T][Size]; for SNNSRM the output is z/time_step).
//
// It first reruns the forward from the initial state on x, as Multi does
// (so the state afterwards is Multi's), then walks back in time. The step
// Θ is the only operation whose derivative is replaced: by the layer's
// surrogate_grad_fn, at the same x the forward compared with 0 (docs/models/stepwise.md).
// Everything else, the reset included, keeps its exact derivative.
//
// This is the building block for fine-tuning a trained network on the
// board (a later issue): a loss over the output spikes, Backward on each
// layer from the top, weight gradients from Grads.X, and an optimiser step
// applied with SetLearnable and to the weights.
//
// Library API: the daemon and the CLI do not call it; Go programs that
// train or fine-tune with snn do (the tests check it against finite
// differences and the reference gradients).
func (l *Layer) Backward(x, dLdS [][]float32) (*Grads, error) {
	if len(dLdS) != len(x) {
		return nil, fmt.Errorf("%w: %s: %d input steps but %d gradient steps", ErrShape, l.Class(), len(x), len(dLdS))
	}
	for t := range x {
		if len(x[t]) != l.size || len(dLdS[t]) != l.size {
			return nil, fmt.Errorf("%w: %s of size %d: step %d has %d inputs and %d gradients", ErrShape, l.Class(), l.size, t, len(x[t]), len(dLdS[t]))
		}
	}
	tr := l.forward(x)
	g := &Grads{X: matrix(len(x), l.size), Params: map[string][]float32{}}
	switch l.model {
	case modelALIF:
		l.backwardALIF(tr, x, dLdS, g)
	case modelSparseLIF:
		l.backwardSparseLIF(tr, dLdS, g)
	case modelSRM:
		l.backwardSRM(tr, dLdS, g)
	default:
		l.backwardCFR(tr, x, dLdS, g)
	}
	return g, nil
}

// backwardCFR is the backward of the charge/fire/reset classes (IF, LIF,
// PLIF, EIF, QIF, KLIF). With H = f(V[t-1], X[t]), S = Θ(H - V_th) and
// V[t] = reset(H, S), the adjoint gV of V[t] arriving from step t+1 gives
//
//	gS = dL/dS[t] + gV·∂V/∂S      gH = gS·g'(H - V_th) + gV·∂V/∂H
//	dL/dX[t] = gH·∂f/∂X           gV(t-1) = gH·∂f/∂V[t-1]
func (l *Layer) backwardCFR(tr *trace, x, dLdS [][]float32, g *Grads) {
	n := l.size
	vth, vr := float64(l.vth), float64(l.vreset)
	tau, r := float64(l.tau), float64(l.r)
	k := float64(l.k)
	sig := float64(l.sigW)
	gV := make([]float64, n)
	var gParam float64 // dL/dw (PLIF) or dL/dk (KLIF)
	for t := len(x) - 1; t >= 0; t-- {
		for i := range n {
			idx := t*n + i
			h, s, vp, xi := float64(tr.h[idx]), float64(tr.s[idx]), float64(tr.vPrev[idx]), float64(x[t][i])
			dSdH := l.sur.Grad(float64(tr.h[idx] - l.vth))

			// The reset: V[t] as a function of H and S.
			var dVdH, dVdS float64
			switch {
			case l.model == modelKLIF && l.scaleReset && l.soft:
				dVdH, dVdS = 1/k, -vth/k
				gParam += gV[i] * -(h - vth*s) / (k * k)
			case l.model == modelKLIF && l.scaleReset:
				dVdH, dVdS = (1-s)/k, vr-h/k
				gParam += gV[i] * -(h / (k * k)) * (1 - s)
			case l.soft:
				dVdH, dVdS = 1, -vth
			default:
				dVdH, dVdS = 1-s, vr-h
			}
			gS := float64(dLdS[t][i]) + gV[i]*dVdS
			gH := gS*dSdH + gV[i]*dVdH

			// The charge: H as a function of V[t-1] and X[t].
			var dHdV, dHdX float64
			switch l.model {
			case modelIF:
				dHdV, dHdX = 1, 1
			case modelLIF:
				dHdV, dHdX = 1-1/tau, r/tau
			case modelPLIF:
				dHdV, dHdX = 1-sig, sig
				gParam += gH * (xi - vp + float64(l.leakTo)) * sig * (1 - sig)
			case modelEIF:
				ex := math.Exp((vp - float64(l.vT)) / float64(l.deltaT))
				dHdV, dHdX = 1+(ex-1)/tau, r/tau
			case modelQIF:
				a0, vc, vrest := float64(l.a0), float64(l.vc), float64(l.vrest)
				dHdV, dHdX = 1+a0*((vp-vc)+(vp-vrest))/tau, r/tau
			case modelKLIF:
				// H = max(0, k·U): no gradient where the ReLU clips.
				if h > 0 {
					gParam += gH * h / k // dH/dk = U = H/k
					dUdX := r / tau
					if !l.decayInput {
						dUdX = r
					}
					dHdV, dHdX = k*(1-1/tau), k*dUdX
				}
			}
			g.X[t][i] = float32(gH * dHdX)
			gV[i] = gH * dHdV
		}
	}
	switch l.model {
	case modelPLIF:
		g.Params["w"] = []float32{float32(gParam)}
	case modelKLIF:
		g.Params["k"] = []float32{float32(gParam)}
	}
}

// backwardALIF follows docs/models/stepwise.md step by step; the comments name the
// forward line each term differentiates.
func (l *Layer) backwardALIF(tr *trace, x, dLdS [][]float32, g *Grads) {
	n, m := l.size, len(l.tauM)
	dt, beta, r := float64(l.dt), float64(l.beta), float64(l.r)
	carryV := make([]float64, n) // α·gV(t+1): V[t] feeds V[t+1]
	carryB := make([]float64, n) // ρ·gb(t+1): b[t] feeds b[t+1]
	carryS := make([]float64, n) // S[t] feeds b[t+1] and the reset term of V[t+1]
	gAlpha, gRho := make([]float64, m), make([]float64, m)
	for t := len(x) - 1; t >= 0; t-- {
		for i := range n {
			j, idx := i%m, t*n+i
			alpha, rho := float64(l.alpha[j]), float64(l.rho[j])
			theta := float64(tr.theta[idx])
			vp, sp, bp := float64(tr.vPrev[idx]), float64(tr.sPrev[idx]), float64(tr.bPrev[idx])

			gS := float64(dLdS[t][i]) + carryS[i]
			gx := gS * l.sur.Grad(float64(tr.h[idx]-tr.theta[idx])) // 4: S = Θ(V - theta)
			gV := carryV[i] + gx
			gTheta := -gx - sp*dt*gV // 3: - theta·S[t-1]·dt, and 4
			gB := carryB[i] + beta*gTheta

			g.X[t][i] = float32((1 - alpha) * r * gV)
			gAlpha[j] += gV * (vp - r*float64(x[t][i])) // 3: alpha·V + (1-alpha)·R·X
			gRho[j] += gB * (bp - sp)                   // 1: rho·b + (1-rho)·S

			carryV[i] = alpha * gV
			carryB[i] = rho * gB
			carryS[i] = (1-rho)*gB - theta*dt*gV
		}
	}
	// alpha = exp(-dt/tau_m): dalpha/dtau_m = alpha·dt/tau_m²; rho likewise.
	dTauM, dTauAdp := make([]float32, m), make([]float32, m)
	for j := range m {
		tm, ta := float64(l.tauM[j]), float64(l.tauAdp[j])
		dTauM[j] = float32(gAlpha[j] * float64(l.alpha[j]) * dt / (tm * tm))
		dTauAdp[j] = float32(gRho[j] * float64(l.rho[j]) * dt / (ta * ta))
	}
	g.Params["tau_m"], g.Params["tau_adp"] = dTauM, dTauAdp
}

// backwardSparseLIF: V[t] = beta·V[t-1] + X[t] - V_th·S[t-1], with the
// surrogate masked to the window.
func (l *Layer) backwardSparseLIF(tr *trace, dLdS [][]float32, g *Grads) {
	n := l.size
	decay, vth := float64(l.decay), float64(l.vth)
	carryV, carryS := make([]float64, n), make([]float64, n)
	for t := len(dLdS) - 1; t >= 0; t-- {
		for i := range n {
			idx := t*n + i
			gS := float64(dLdS[t][i]) + carryS[i]
			gV := carryV[i] + gS*l.gradAt(float64(tr.h[idx]-l.vth))
			g.X[t][i] = float32(gV)
			carryV[i] = decay * gV
			carryS[i] = -vth * gV
		}
	}
}

// backwardSRM: v[t] = V_rest + Ts·Σ eps[j]·X[t-j] + Σ nu[j]·z[t-j] and
// output z[t]/Ts, so v[t] reaches the loss through z[t] and through the
// membranes of the next M-1 steps, and X[t] through the next K membranes.
func (l *Layer) backwardSRM(tr *trace, dLdS [][]float32, g *Grads) {
	n, T := l.size, len(dLdS)
	s := l.srm
	ts := float64(s.ts)
	gv := make([]float64, T*n) // dL/dv[t]
	for t := T - 1; t >= 0; t-- {
		for i := range n {
			gz := float64(dLdS[t][i]) / ts
			for j := 1; j < len(s.nu) && t+j < T; j++ {
				gz += float64(s.nu[j]) * gv[(t+j)*n+i]
			}
			idx := t*n + i
			gv[idx] = gz * l.sur.Grad(float64(tr.h[idx]-l.vth))
			var gx float64
			for j := 0; j < len(s.eps) && t+j < T; j++ {
				gx += float64(s.eps[j]) * gv[(t+j)*n+i]
			}
			g.X[t][i] = float32(ts * gx)
		}
	}
}
