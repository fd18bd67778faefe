package compile

import (
	"errors"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/firmware/engine"
	"github.com/spikeloop/spikeloop/firmware/image"
	"github.com/spikeloop/spikeloop/models"
)

func load(t *testing.T, text string) *models.Network {
	t.Helper()
	net, err := models.Load([]byte(text), "net.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return net
}

func loadFile(t *testing.T, path string) *models.Network {
	t.Helper()
	net, err := models.LoadFile(path, models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return net
}

// Every refusal is reported at once, each with file:line, what, model
// and reason, and each is an apu.ErrUnsupported.
func TestRefusals(t *testing.T) {
	net := load(t, `version: 1
dt: 0.1
populations:
  hh:
    model: HH
    size: 1
  hhpsc:
    model: HHPSC
    size: 1
  glif:
    model: GLIF3
    size: 1
  glifpsc:
    model: GLIF3PSC
    size: 1
  klif:
    model: SNNKLIF
    size: 2
  rk:
    model: LIF
    size: 1
    params: {method: RK4}
  erk:
    model: ExpLIF
    size: 1
    params: {method: EULER}
  izh:
    model: Izhikevich
    size: 1
    params: {method: RK4}
  big:
    model: LIF
    size: 1
    params: {I_e: 40000.0}
  ports:
    model: ExpLIF
    size: 1
    params: {tau_syn: [1, 2, 3, 4, 5, 6, 7, 8, 9]}
  sif:
    model: SNNIF
    size: 2
  ok:
    model: LIF
    size: 2
    params: {stdp_tau: 20.0}
  src:
    model: SpikeGenerator
    size: 1
    params: {spike_times: [1.0]}
  fast:
    model: PoissonGenerator
    size: 2
    params: {rate: [1000.0, 200000.0]}
synapses:
  - {name: plastic, pre: src, post: ok, model: STDPSynapse, conn: {rule: all_to_all}, weight: 1.0}
  - {name: heavy, pre: src, post: ok, conn: {rule: all_to_all}, weight: 40000.0}
  - {name: slow, pre: src, post: ok, conn: {rule: all_to_all}, weight: 1.0, delay: 3276.9}
monitors:
  - {population: sif, record: [v_before_reset]}
  - {synapse: plastic, record: [weight]}
`)
	_, _, err := Compile(net)
	if err == nil {
		t.Fatal("compiled a network the APU cannot run")
	}
	if !errors.Is(err, apu.ErrUnsupported) {
		t.Errorf("error is not apu.ErrUnsupported: %v", err)
	}
	var list models.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("want a models.ErrorList, got %T: %v", err, err)
	}
	want := []string{
		`net.yaml:4: population "hh" (HH): Hodgkin-Huxley needs exponentials`,
		`net.yaml:7: population "hhpsc" (HHPSC): Hodgkin-Huxley`,
		`net.yaml:10: population "glif" (GLIF3): GLIF3's after-spike currents have no fixed-point kernel`,
		`net.yaml:13: population "glifpsc" (GLIF3PSC): GLIF3PSC's after-spike currents`,
		`net.yaml:16: population "klif" (SNNKLIF): the stepwise class SNNKLIF has no fixed-point kernel; the APU runs SNNIF and SNNLIF`,
		`net.yaml:19: population "rk" (LIF): method RK4: the APU runs only the exact propagators of the default method EXP_EULER`,
		`net.yaml:23: population "erk" (ExpLIF): method EULER: the APU runs only`,
		`net.yaml:27: population "izh" (Izhikevich): method is not EULER`,
		`net.yaml:31: population "big" (LIF): I_e (unit 0) = 40000 does not fit Q16.16`,
		`net.yaml:35: population "ports" (ExpLIF): tau_syn has 9 receptor ports; the APU runs at most 8`,
		`net.yaml:50: population "fast" (PoissonGenerator): unit 1: rate·dt/1000 = 20 spikes per step is more than the APU's 10`,
		`synapse "plastic" (STDPSynapse): plastic synapses change their weights`,
		`synapse "heavy" (StaticSynapse): largest |weight| 40000 mV is more than the APU holds (32767`,
		`synapse "slow" (StaticSynapse): connection 0: delay 32769 steps is more than the APU's 32768`,
		`monitors[0] (SNNIF): state "v_before_reset" of population "sif" is not kept by the APU (it keeps v)`,
		`monitors[1] (STDPSynapse): a weight monitor needs a plastic synapse`,
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("refusals lack %q\ngot:\n%s", w, msg)
		}
	}
	if len(list) != len(want) {
		t.Errorf("%d refusals, want %d:\n%s", len(list), len(want), msg)
	}
	for _, e := range list {
		var r *Refusal
		if !errors.As(e, &r) || r.Line == 0 || r.File != "net.yaml" {
			t.Errorf("not a located *Refusal: %#v", e)
		}
	}
}

// A stepwise population recording its charged value as v cannot run.
func TestRefuseBeforeResetMem(t *testing.T) {
	net := load(t, `version: 1
populations:
  s:
    model: SNNLIF
    size: 1
    params: {before_reset_mem: true}
monitors:
  - {population: s, record: [v]}
`)
	_, _, err := Compile(net)
	if err == nil || !strings.Contains(err.Error(), "before_reset_mem: true") {
		t.Fatalf("want the before_reset_mem refusal, got %v", err)
	}
	// Without the monitor it runs: the chip's v is after the reset.
	net = load(t, `version: 1
populations:
  s:
    model: SNNLIF
    size: 1
    params: {before_reset_mem: true}
`)
	_, rep, err := Compile(net)
	if err != nil {
		t.Fatal(err)
	}
	// Nor can a host read it as v.
	if hp, _ := rep.Host.Pop("s"); len(hp.States) != 0 {
		t.Errorf("the host reads %+v of a before_reset_mem population", hp.States)
	}
}

// coefOf keeps 31 significant bits: the relative error is at most 2^-31
// (half a unit in the 31st bit, relative to a mantissa >= 2^30).
func TestCoefPrecision(t *testing.T) {
	for _, x := range []float64{math.Exp(-0.1 / 10), 0.04 * (1 - math.Exp(-0.1/10)), 1, 0.5, 0.999999999, 1e-9, -0.2, 140 * 0.1, 3e5, 2147483647} {
		c, ok := coefOf(x)
		if !ok {
			t.Fatalf("%g: refused", x)
		}
		rel := math.Abs(coefValue(c)-x) / math.Abs(x)
		if rel > math.Ldexp(1, -31) {
			t.Errorf("%g: M %d S %d, relative error %.3g > 2^-31", x, c.M, c.Shift, rel)
		}
		if m := math.Abs(float64(c.M)); m < 1<<30 || m >= 1<<31 {
			t.Errorf("%g: mantissa %d has not 31 significant bits", x, c.M)
		}
	}
	// P33 for tau 10, dt 0.1: its known shift and mantissa.
	c, _ := coefOf(math.Exp(-0.01))
	if c.Shift != 31 || c.M != int32(math.Round(math.Exp(-0.01)*(1<<31))) {
		t.Errorf("P33(tau 10, dt 0.1) = %d·2^-%d", c.M, c.Shift)
	}
	if _, ok := coefOf(math.Ldexp(1, 31)); ok {
		t.Error("2^31 fits a Coef")
	}
	if _, ok := coefOf(math.NaN()); ok {
		t.Error("NaN fits a Coef")
	}
	// A value below 2^-32 keeps fewer bits, at the largest shift.
	c, _ = coefOf(1e-12)
	if c.Shift != image.MaxCoefShift {
		t.Errorf("1e-12: shift %d, want %d", c.Shift, image.MaxCoefShift)
	}
}

// The weight shift is the smallest that holds the entry's largest |w|.
func TestWeightShift(t *testing.T) {
	for _, c := range []struct {
		weights []float64
		shift   uint8
		err     float64 // the largest |weight error|
	}{
		{[]float64{0.49}, 0, math.Abs(math.Round(0.49*One)/One - 0.49)},
		{[]float64{0.5, 0.25}, 1, 0},        // 0.5 is 32768 in Q16.16, one more than int16 holds
		{[]float64{1.0}, 2, 0},              // 65536 = 16384·4
		{[]float64{20.25, 1}, 6, 0},         // CUBA's excitatory weight, 20736·64
		{[]float64{-112.5, 3}, 8, 0},        // CUBA's inhibitory weight, -28800·256
		{[]float64{1.2, 1.5}, 2, 0.8 / One}, // 78643.2 -> 19661·4 = 78644
		{[]float64{32767}, 16, 0},
		{[]float64{0, 0}, 0, 0},
	} {
		var ws string
		for i, w := range c.weights {
			if i > 0 {
				ws += ", "
			}
			ws += formatG(w)
		}
		net := load(t, `version: 1
populations:
  src: {model: SpikeGenerator, size: `+itoa(len(c.weights))+`, params: {spike_times: [1.0]}}
  n: {model: LIF, size: 1}
synapses:
  - {name: e, pre: src, post: n, conn: {rule: all_to_all}, weight: [`+ws+`]}
`)
		img, rep, err := Compile(net)
		if err != nil {
			t.Fatalf("%v: %v", c.weights, err)
		}
		sr := rep.Synapses[0]
		if sr.Shift != c.shift || img.Synapses[0].Shift != c.shift {
			t.Errorf("%v: shift %d, want %d", c.weights, sr.Shift, c.shift)
		}
		if math.Abs(sr.MaxErr-c.err) > 1e-12 {
			t.Errorf("%v: max weight error %g, want %g", c.weights, sr.MaxErr, c.err)
		}
		if bound := math.Ldexp(0.5, int(sr.Shift)) / One; sr.MaxErr > bound {
			t.Errorf("%v: max weight error %g above half a mantissa step %g", c.weights, sr.MaxErr, bound)
		}
		for k, m := range img.Synapses[0].Weight {
			if got := weightValue(m, sr.Shift); math.Abs(got-c.weights[k]) > sr.MaxErr {
				t.Errorf("%v: weight %d is %g, error above the reported %g", c.weights, k, got, sr.MaxErr)
			}
		}
	}
}

// A LIF population's image rows follow image.go's LIF doc, and the host
// converts y back to V with V_rest.
func TestLIFImage(t *testing.T) {
	net := load(t, `version: 1
dt: 0.1
populations:
  n:
    model: LIF
    size: 2
    params: {V_th: -55.0, V_reset: -65.0, V_rest: -70.0, tau: 10.0, R: 0.04, tau_ref: 2.0, I_e: [450.0, 0.5]}
    init: {V: [-70.0, -60.25]}
  s:
    model: LIF
    size: 1
    params: {V_reset: null, tau_ref: 0.15}
monitors:
  - {population: n, record: [spikes, V], neurons: [1], every: 10}
`)
	img, rep, err := Compile(net)
	if err != nil {
		t.Fatal(err)
	}
	p := img.Pops[0]
	if p.Kind != image.KindLIF || p.RefSteps != 20 || p.Flags != 0 {
		t.Errorf("pop: kind %d, refsteps %d, flags %b", p.Kind, p.RefSteps, p.Flags)
	}
	if p.Consts[image.LIFTh] != 15*One || p.Consts[image.LIFReset] != 5*One {
		t.Errorf("consts %v, want Th 15 mV and Reset 5 mV above rest", p.Consts)
	}
	if p.Unit[image.LIFIe][0] != 450*One || p.Unit[image.LIFIe][1] != One/2 || p.Unit[image.LIFY0][1] != int32(9.75*One) {
		t.Errorf("unit rows %v", p.Unit)
	}
	if got := coefValue(p.Coefs[image.LIFP33]); math.Abs(got-math.Exp(-0.01)) > math.Ldexp(math.Exp(-0.01), -31) {
		t.Errorf("P33 %v", got)
	}
	s := img.Pops[1]
	if s.Flags&image.FlagSoftReset == 0 || s.Consts[image.LIFReset] != 15*One || s.RefSteps != 2 {
		t.Errorf("soft pop: flags %b, reset %d, refsteps %d", s.Flags, s.Consts[image.LIFReset], s.RefSteps)
	}
	hp, _ := rep.Host.Pop("n")
	st, ok := hp.State("V")
	if !ok || st.Offset != -70 || st.Scale != LSB || len(st.Index) != 1 || st.Index[0] != 0 {
		t.Errorf("host state V: %+v", st)
	}
	if len(img.Monitors) != 2 || img.Monitors[0].Every != 10 || len(img.Monitors[0].States) != 1 || img.Monitors[0].Units[0] != 1 || !img.Monitors[1].Spikes {
		t.Errorf("monitors %+v", img.Monitors)
	}
	if tr := rep.Host.Traces; len(tr) != 1 || tr[0].State != "V" || tr[0].ImageMonitor != 0 || tr[0].Every != 10 {
		t.Errorf("traces %+v", rep.Host.Traces)
	}
	pr, _ := rep.Pop("n")
	if pr.Threshold.AbsErr != 0 || pr.Bound <= 0 || pr.Bound > 1e-2 {
		t.Errorf("report: threshold error %g, bound %g", pr.Threshold.AbsErr, pr.Bound)
	}
}

// A zero-delay synapse pointing backward in the file puts the image's
// populations in update order; the host maps the indices back.
func TestUpdateOrder(t *testing.T) {
	net := load(t, `version: 1
populations:
  b: {model: SNNIF, size: 1}
  a: {model: SNNIF, size: 1}
  g: {model: SpikeGenerator, size: 1, params: {spike_times: [1.0]}}
synapses:
  - {pre: a, post: b, conn: {rule: all_to_all}, delay: 0}
  - {pre: g, post: a, conn: {rule: all_to_all}, delay: 0}
`)
	img, rep, err := Compile(net)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range img.Synapses {
		if s.Delay[0] == 0 && s.Pre >= s.Post {
			t.Errorf("zero-delay synapse %d -> %d points backward", s.Pre, s.Post)
		}
	}
	for fi, hp := range rep.Host.Pops {
		if rep.Host.FileIndex[hp.Image] != fi || net.Populations[fi].Name != hp.Name {
			t.Errorf("host pop %d: %+v", fi, hp)
		}
	}
}

// lifStep is one step of image.go's LIF in integers, rounding each
// product half up as firmware/engine documents: the reference the bound
// is checked against (independent of the engine).
func mulRound(c image.Coef, x int64) int64 {
	p := int64(c.M) * x
	if c.Shift == 0 {
		return p
	}
	return (p + 1<<(c.Shift-1)) >> c.Shift
}

// The LIF bound holds: a LIF neuron stepped in fixed point as the image
// says and in float64 stays within the report's bound while their spikes
// agree, for drives that fire and that stay below threshold.
func TestLIFBoundHolds(t *testing.T) {
	for _, ie := range []float64{450, 374.9, 1234.567, -200} {
		net := load(t, `version: 1
dt: 0.1
duration: 1000
populations:
  n: {model: LIF, size: 1, params: {I_e: `+formatG(ie)+`, tau: 7.3}}
`)
		img, rep, err := Compile(net)
		if err != nil {
			t.Fatal(err)
		}
		p, pr := img.Pops[0], rep.Pops[0]
		d := net.Populations[0].Model.(*models.LIF).Describe()
		y := int64(p.Unit[image.LIFY0][0])
		ieq := int64(p.Unit[image.LIFIe][0])
		v := d.V[0]
		ref, fref := 0, 0
		worst, spikes := 0.0, 0
		for k := range 10000 {
			if ref == 0 {
				y = mulRound(p.Coefs[image.LIFP33], y) + mulRound(p.Coefs[image.LIFP30], ieq)
			} else {
				ref--
			}
			if fref == 0 {
				v = d.VRest + (v-d.VRest)*d.P33 + d.P30*d.IE[0]
			} else {
				fref--
			}
			fs, qs := v >= d.VTh, y >= int64(p.Consts[image.LIFTh])
			if fs != qs {
				t.Fatalf("I_e %g: step %d: spikes differ (float %v, fixed %v)", ie, k, fs, qs)
			}
			if fs {
				spikes++
				v, fref = d.VReset, d.RefSteps
				y, ref = int64(p.Consts[image.LIFReset]), int(p.RefSteps)
			}
			worst = max(worst, math.Abs(float64(y)*LSB+d.VRest-v))
		}
		if worst > pr.Bound {
			t.Errorf("I_e %g: |V error| %g mV above the bound %g mV", ie, worst, pr.Bound)
		}
		t.Logf("I_e %g pA: %d spikes, largest |V error| %.3g mV, bound %.3g mV", ie, spikes, worst, pr.Bound)
	}
}

// The examples the README reports on compile, with the report's numbers
// printed (go test -v -run TestExamplesReport).
func TestExamplesReport(t *testing.T) {
	for _, path := range []string{"../../examples/cuba.yaml", "../../daemon/braitenberg.yaml"} {
		net := loadFile(t, path)
		img, rep, err := Compile(net)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var b strings.Builder
		if err := rep.Write(&b); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s:\n%s", path, b.String())
		if len(img.Pops) != len(net.Populations) || len(img.Synapses) != len(net.Synapses) {
			t.Errorf("%s: %d pops, %d synapses", path, len(img.Pops), len(img.Synapses))
		}
		for _, p := range rep.Pops {
			for _, c := range p.Coefs {
				if math.Abs(c.RelErr) > math.Ldexp(1, -31) {
					t.Errorf("%s: %s %s relative error %g", path, p.Name, c.Name, c.RelErr)
				}
			}
			if p.Threshold != nil && !(p.Bound > 0 && p.Bound < 0.01) {
				t.Errorf("%s: %s bound %g mV", path, p.Name, p.Bound)
			}
		}
	}
	// CUBA's weights are exact at their shifts.
	_, rep, _ := Compile(loadFile(t, "../../examples/cuba.yaml"))
	for _, s := range rep.Synapses {
		want := uint8(6)
		if s.Pre == "inh" {
			want = 8
		}
		if s.Shift != want || s.MaxErr != 0 {
			t.Errorf("cuba %s: shift %d, error %g", s.Name, s.Shift, s.MaxErr)
		}
	}
}

func formatG(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func itoa(n int) string { return strconv.Itoa(n) }

// A network with every kind the APU runs compiles into an image the
// engine loads and runs, and its report covers every population.
func TestEveryKind(t *testing.T) {
	net := load(t, `version: 1
dt: 0.1
duration: 20
seed: 7
populations:
  lif: {model: LIF, size: 3, params: {I_e: 400.0}}
  exp: {model: ExpLIF, size: 2, params: {tau_syn: [2.0, 8.0], I_e: 300.0, V_reset: null}}
  izh: {model: Izhikevich, size: 2, params: {I_e: 10.0}}
  sif: {model: SNNIF, size: 2, params: {V_reset: null}}
  slif: {model: SNNLIF, size: 2, params: {tau: 4.0, V_rest: 0.1}}
  dc: {model: DCGenerator, size: 1, params: {amplitude: 100.0, start: 1.0, stop: 15.0}}
  poi: {model: PoissonGenerator, size: 2, params: {rate: 500.0}}
  ber: {model: BernoulliGenerator, size: 2, params: {prob: 0.25}}
  spk: {model: SpikeGenerator, size: 2, params: {spike_times: [[1.0, 2.0, 2.0], [3.0]]}}
  cus: {model: CustomGenerator, size: 2, params: {data: [[0, 1], [2.5, 0]], start: 0.5}}
  ins: {model: InputTransmitter, size: 2}
  inc: {model: InputTransmitter, size: 1, params: {inputs_type: current}}
synapses:
  - {pre: poi, post: lif, conn: {rule: all_to_all}, weight: 0.7}
  - {pre: ber, post: exp, conn: {rule: all_to_all}, weight: 50.0, receptor: 1}
  - {pre: spk, post: izh, conn: {rule: one_to_one}, weight: 6.0, delay: 0.3}
  - {pre: cus, post: sif, conn: {rule: one_to_one}, weight: 0.4, delay: 0}
  - {pre: sif, post: slif, conn: {rule: one_to_one}, weight: 0.8, delay: 0}
  - {pre: ins, post: slif, conn: {rule: one_to_one}, weight: 0.3}
  - {pre: dc, post: lif, conn: {rule: all_to_all}, weight: 2.0}
  - {pre: inc, post: exp, conn: {rule: all_to_all}, weight: 1.5}
  - {pre: lif, post: exp, conn: {rule: all_to_all}, weight: 20.0, delay: 0.5}
monitors:
  - {population: lif, record: [spikes, V]}
  - {population: exp, record: [V, I_syn, I_syn_1], neurons: [1]}
  - {population: exp, record: [spikes], neurons: [0]}
  - {population: izh, record: [spikes, V, u]}
  - {population: sif, record: [v]}
  - {population: slif, record: [spikes, v]}
  - {population: dc, record: [I]}
  - {population: inc, record: [I]}
`)
	img, rep, err := Compile(net)
	if err != nil {
		t.Fatal(err)
	}
	eng, err := engine.New(img)
	if err != nil {
		t.Fatalf("engine refuses the image: %v", err)
	}
	eng.Run(int(net.Steps()))
	if rep.ImageBytes != int64(len(image.Encode(img))) || rep.RAM != engine.RAM(img) || rep.RAM <= 0 {
		t.Errorf("sizes: image %d, RAM %d", rep.ImageBytes, rep.RAM)
	}
	if len(rep.Host.Traces) != 10 {
		t.Errorf("%d traces, want 10", len(rep.Host.Traces))
	}
	for _, tr := range rep.Host.Traces {
		m := img.Monitors[tr.ImageMonitor]
		if int(m.Pop) != rep.Host.Pops[tr.Pop].Image || len(tr.Cols) == 0 {
			t.Errorf("trace %+v: monitor %+v", tr, m)
		}
	}
	isyn := rep.Host.Traces[2]
	if isyn.State != "I_syn" || len(isyn.Cols) != 2 {
		t.Errorf("I_syn trace sums %d columns: %+v", len(isyn.Cols), isyn)
	}
	for _, p := range rep.Pops {
		if p.Threshold != nil && !(p.Bound > 0 && p.PerStep > 0 && p.BoundHow != "") {
			t.Errorf("%s: bound %g, per step %g", p.Name, p.Bound, p.PerStep)
		}
	}
	// One spike monitor per population: exp's spikes of unit 0 only.
	for _, m := range img.Monitors {
		if m.Spikes && rep.Host.Pops[rep.Host.FileIndex[m.Pop]].Name == "exp" && (len(m.Units) != 1 || m.Units[0] != 0) {
			t.Errorf("exp spike monitor %+v", m)
		}
	}
}

// Every network file of the repository that loads either compiles into
// an image the engine runs, or is refused with located refusals only
// (never a compiler error or a panic).
func TestCompileEveryFile(t *testing.T) {
	var paths []string
	for _, pat := range []string{"../../examples/*.yaml", "../../examples/demo/braitenberg.yaml", "../../testdata/reference/*/*.yaml",
		"../../models/testdata/neurai/*.yaml", "../../models/testdata/neurai/*/*.yaml", "../../recording/testdata/*/braitenberg*.yaml"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	compiled, refused := 0, 0
	for _, path := range paths {
		net, err := models.LoadFile(path, models.NewRegistry(), models.DefaultLimits)
		if err != nil {
			continue // not a network file, or one the loader refuses on purpose
		}
		img, rep, err := Compile(net)
		if err != nil {
			var list models.ErrorList
			errs := []error{err}
			if errors.As(err, &list) {
				errs = list
			}
			for _, e := range errs {
				var r *Refusal
				if !errors.As(e, &r) || r.Line == 0 || !strings.HasPrefix(e.Error(), path+":") {
					t.Errorf("%s: not a located refusal: %v", path, e)
				}
			}
			refused++
			continue
		}
		eng, err := engine.New(img)
		if err != nil {
			t.Errorf("%s: the engine refuses the image: %v", path, err)
			continue
		}
		for range 20 {
			eng.Step()
			eng.DrainSpikes(nil)
			eng.DrainRows(nil, nil)
		}
		if eng.Dropped() != 0 || rep.ImageBytes <= 0 {
			t.Errorf("%s: %d records dropped, image %d bytes", path, eng.Dropped(), rep.ImageBytes)
		}
		compiled++
	}
	t.Logf("%d files compiled, %d refused", compiled, refused)
	if compiled < 8 || refused < 4 {
		t.Errorf("%d compiled and %d refused: the globs found too few files", compiled, refused)
	}
}
