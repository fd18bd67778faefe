package models

import (
	"fmt"
	"github.com/spikeloop/spikeloop/internal/cputime"
	"strings"
	"testing"
)

// HH1000's cost with RKF45 (BenchmarkHH1000 in apu/cpu) is the number of
// right-hand-side evaluations per neuron and step, which GSL's step
// control fixes (NEST-exact results need the same sub-steps), times the
// cost of one evaluation, plus the solver's own arithmetic. The two
// benchmarks below measure the two factors apart:
//
//	go test -run XXX -bench 'HHCore|HHRKFEvals' ./models/

var hhSink float64

// BenchmarkHHCore: one evaluation of HH's right-hand side (hhRHS.core,
// the rates from one exponential, the currents and the gate
// derivatives) for 16 independent neurons with V from -80 to 40 mV, as
// the RKF45 kernel calls it per lane and stage. Reports wall and CPU
// nanoseconds per evaluation.
func BenchmarkHHCore(b *testing.B) {
	m := bioNeuron(b, 0.1, "HH", 1, "").(*HH)
	r := &m.rhs
	var v, out [odeBlock]float64
	for l := range v {
		v[l] = -80 + 120*float64(l)/(odeBlock-1)
	}
	c0 := cputime.Seconds()
	for b.Loop() {
		for l := range v {
			num, dm, dh, dn := r.core(500, v[l], 0.05, 0.6, 0.32)
			out[l] = num + dm + dh + dn
		}
	}
	hhSink = out[3]
	evals := float64(b.N * odeBlock)
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/evals, "ns/eval")
	b.ReportMetric((cputime.Seconds()-c0)*1e9/evals, "cpu-ns/eval")
}

// hhCountRHS counts the evaluations the generic solver makes.
type hhCountRHS struct {
	r     *hhRHS
	evals int
}

func (c *hhCountRHS) deriv(i int32, y, dy []float64) {
	c.evals++
	c.r.deriv(i, y, dy)
}

// BenchmarkHHRKFEvals: the right-hand-side evaluations per neuron and
// step of RKF45 in HH1000's setting (NEST hh_psc_alpha's defaults, I_e
// from 800 to 1200 pA, dt 0.1 ms, tau_ref 2 ms; HH, whose dynamics
// without input are HHPSC's), counted through the generic solver, which
// makes the kernel's sub-steps. 1 s simulated per iteration, 100
// neurons.
func BenchmarkHHRKFEvals(b *testing.B) {
	const size = 100
	ie := make([]string, size)
	for i := range ie {
		ie[i] = fmt.Sprint(800 + 400*float64(i)/(size-1))
	}
	m := bioNeuron(b, 0.1, "HH", size, "tau_ref: 2.0, I_e: ["+strings.Join(ie, ", ")+"]").(*HH)
	m.rkf, m.rkfCore = nil, nil // the generic odeSolver, whose evaluations can be counted
	c := &hhCountRHS{r: &m.rhs}
	m.sol.sys = c
	var spiked []int32
	var err error
	spikes := 0
	for b.Loop() {
		for range 10000 {
			if spiked, err = m.Step(nil, nil, spiked[:0]); err != nil {
				b.Fatal(err)
			}
			spikes += len(spiked)
		}
	}
	steps := float64(b.N) * 10000 * size
	b.ReportMetric(float64(c.evals)/steps, "evals/neuron-step")
	b.ReportMetric(float64(spikes)/float64(b.N*size), "spikes/neuron-simsec")
}
