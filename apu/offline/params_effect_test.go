package offline_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/models"
)

// probe is how one class is exercised: its base parameters and inputs,
// and for each parameter the listing shows, another value. A parameter
// without NoEffect must change the run's output (spikes, every state,
// plastic weights) or be refused with an error naming it; one with
// NoEffect must not change the output when an alternative is given.
type probe struct {
	base string            // YAML flow-map entries of x's params
	w    float64           // weight of the spike drive into x (its units)
	dc   float64           // weight of the DC drive (amplitude 1 pA or 1)
	alt  map[string]string // parameter -> YAML value
	drop map[string]string // parameter -> a base key the alternative replaces
}

var bioSTDP = map[string]string{"stdp_tau": "10.0", "tau_triplet": "40.0", "dendritic_delay": "4"}

func withSTDP(m map[string]string) map[string]string {
	for k, v := range bioSTDP {
		m[k] = v
	}
	return m
}

var lifAlt = withSTDP(map[string]string{"V_th": "-56.0", "V_reset": "-65.0", "V_rest": "-69.0", "R": "0.05",
	"tau": "12.0", "tau_ref": "3.0", "I_e": "350.0", "v_init": "-60.0", "method": "RK4"})

func glifAlt(extra map[string]string) map[string]string {
	m := withSTDP(map[string]string{"V_th": "1.0", "th_inf": "-53.0", "spike_th": "1.0", "V_reset": "-75.0",
		"V_rest": "-77.0", "G": "10.0", "C_m": "60.0", "asc_amps_init": "[-5.0, -100.0]", "asc_decay_init": "[0.01, 0.2]",
		"asc_r_init": "[0.5, 0.5]", "tau_ref": "2.0", "I_e": "400.0", "v_init": "-70.0", "method": "RK4"})
	for k, v := range extra {
		m[k] = v
	}
	return m
}

func hhAlt(extra map[string]string) map[string]string {
	m := withSTDP(map[string]string{"V_th": "60.0", "V_reset": "1.0", "c_m": "110.0", "g_L": "35.0", "E_L": "-60.0",
		"g_Na": "11000.0", "E_Na": "55.0", "g_K": "3000.0", "E_K": "-80.0", "I_e": "1200.0", "tau_ref": "15.0",
		"v_init": "-60.0", "method": "EXP_EULER"})
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// Parameters every stepwise class shares and their alternatives;
// NoEffect ones are given to prove they change nothing.
func snnAlt(extra map[string]string) map[string]string {
	m := map[string]string{"V_th": "0.8", "V_reset": "-0.2", "reset_type": "SOFT", "before_reset_mem": "true",
		"step_mode": "SINGLE", "time_recurrent": "true", "record_v": "true", "surrogate_grad_fn": "ATan",
		"pid": "3", "stdp_tau": "5.0"}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

var probes = map[string]probe{
	"LIF":      {base: "I_e: 300.0", w: 2, dc: 100, alt: lifAlt},
	"ExpLIF":   {base: "I_e: 300.0", w: 150, dc: 100, alt: withSTDP(mergeAlt(lifAlt, map[string]string{"tau_syn": "3.0"}))},
	"GLIF3":    {base: "I_e: 300.0", w: 2, dc: 100, alt: glifAlt(nil)},
	"GLIF3PSC": {base: "I_e: 300.0", w: 150, dc: 100, alt: glifAlt(map[string]string{"tau_syn": "3.0"})},
	"HH":       {base: "I_e: 1000.0", w: 2, dc: 100, alt: hhAlt(nil)},
	"HHPSC":    {base: "I_e: 1000.0", w: 150, dc: 100, alt: hhAlt(map[string]string{"tau_syn_e": "0.5", "tau_syn_i": "3.0"})},
	"Izhikevich": {base: "I_e: 10.0", w: 2, dc: 1, alt: withSTDP(map[string]string{"a": "0.03", "b": "0.25", "c": "-60.0",
		"d": "6.0", "V_th": "25.0", "V_reset": "1.0", "I_e": "12.0", "v_init": "-60.0", "method": "RK4"})},

	"SNNIF":           {w: 0.6, dc: 0.05, alt: snnAlt(nil)},
	"SNNLIF":          {w: 3, dc: 0.2, alt: snnAlt(map[string]string{"V_rest": "0.1", "R": "1.5", "tau": "5.0"})},
	"SNNParamtricLIF": {w: 3, dc: 0.2, alt: snnAlt(map[string]string{"init_tau": "5.0", "w": "0.0"})},
	"SNNEIF":          {w: 0.6, dc: 0.05, alt: snnAlt(map[string]string{"R": "1.5", "tau": "3.0", "delta_T": "0.5", "v_T": "0.6", "V_rest": "0.05"})},
	"SNNQIF":          {w: 0.6, dc: 0.05, alt: snnAlt(map[string]string{"R": "1.5", "tau": "3.0", "a0": "0.5", "v_c": "0.6", "V_rest": "0.05"})},
	"SNNKLIF": {base: "k: 1.2", w: 1.5, dc: 0.05, alt: snnAlt(map[string]string{"R": "1.5", "tau": "3.0", "scale_reset": "true",
		"decay_input": "false", "k": "1.5"})},
	"SNNALIF": {w: 20, dc: 1, alt: snnAlt(map[string]string{"V_th": "2.0", "V_reset": "-1.0", "reset_type": "SOFT",
		"tau_shape": "[2]", "v_th0": "0.1", "R": "2.0", "Eta": "0.5", "beta": "1.0", "time_step": "0.5",
		"tau_m": "[10.0]", "tau_adp": "[100.0]", "tau_m_initializer": "{name: Normal, mean: 30.0, std: 5.0}",
		"tau_adp_initializer": "{name: Normal, mean: 100.0, std: 10.0}", "before_reset_mem": "true"})},
	"SparseLIF": {w: 0.6, dc: 0.05, alt: snnAlt(map[string]string{"V_th": "0.9", "V_reset": "0.5", "BV_th": "0.5",
		"time_step": "0.002", "tau_m": "0.02", "readout": "true", "target_neuronNum": "4", "tau": "5.0", "R": "2.0"})},
	"SNNSRM": {w: 2, dc: 0.3, alt: map[string]string{"V_th": "8.0", "V_rest": "0.5", "tau_res": "4.0", "tau_ref": "3.0",
		"time_step": "0.5", "time_window": "10.0", "kernel_window": "5", "V_reset": "1.0", "record_v": "true",
		"surrogate_grad_fn": "Sigmoid"}},

	"DCGenerator":        {base: "amplitude: 400.0", w: 1, alt: map[string]string{"amplitude": "300.0", "start": "5.0", "stop": "30.0", "is_spike_binary": "false"}},
	"PoissonGenerator":   {base: "rate: 20000.0", w: 1, alt: map[string]string{"rate": "10000.0", "start": "5.0", "stop": "30.0", "is_spike_binary": "true"}},
	"BernoulliGenerator": {base: "prob: 0.5", w: 3, alt: map[string]string{"prob": "0.3", "start": "5.0", "stop": "30.0", "is_spike_binary": "false"}},
	"SpikeGenerator": {base: "spike_times: [1.0, 2.0, 2.0, 5.5]", w: 3,
		alt: map[string]string{"spike_times": "[1.5, 3.0]", "multiplicities": "3", "is_spike_binary": "true"}},
	"CustomGenerator": {base: "data: [0.0, 2.0, 1.0, 0.0, 3.0]", w: 3,
		alt:  map[string]string{"data": "[1.0, 1.0, 1.0]", "datapath": "c.dat", "start": "0.2", "stop": "0.4", "is_spike_binary": "true"},
		drop: map[string]string{"datapath": "data"}},
	"InputTransmitter": {w: 3, alt: map[string]string{"inputs_type": "current", "batch_first": "true", "is_spike_binary": "true"}},
}

func mergeAlt(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// probeFile is the network of one probe: x of the class, driven (neurons)
// or driving a LIF (generators), everything recorded.
func probeFile(c *models.Class, pr probe, params string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "version: 1\ndt: 0.1\nduration: 60\nseed: 3\npopulations:\n")
	fmt.Fprintf(&b, "  x: {model: %s, size: 2, params: {%s}}\n", c.Name, params)
	var states []string
	for _, s := range c.States {
		if !strings.Contains(s, "<") {
			states = append(states, s)
		}
	}
	rec := strings.Join(append([]string{"spikes"}, states...), ", ")
	if c.Kind == models.NeuronClass {
		fmt.Fprintf(&b, "  drive: {model: PoissonGenerator, size: 2, params: {rate: 800.0}}\n")
		fmt.Fprintf(&b, "  inh: {model: PoissonGenerator, size: 2, params: {rate: 400.0}}\n")
		fmt.Fprintf(&b, "  dc: {model: DCGenerator, size: 1, params: {amplitude: 1.0}}\n")
		fmt.Fprintf(&b, "synapses:\n")
		fmt.Fprintf(&b, "  - {pre: drive, post: x, conn: {rule: all_to_all}, weight: %g}\n", pr.w)
		fmt.Fprintf(&b, "  - {pre: inh, post: x, conn: {rule: all_to_all}, weight: %g}\n", -pr.w/2)
		fmt.Fprintf(&b, "  - {pre: dc, post: x, conn: {rule: all_to_all}, weight: %g}\n", pr.dc)
		if !c.Stepwise {
			fmt.Fprintf(&b, "  - {name: plastic, pre: drive, post: x, model: TripletSTDPSynapse, params: {Wmax: %g}, conn: {rule: one_to_one}, weight: %g}\n", 10*pr.w, pr.w)
		}
		fmt.Fprintf(&b, "monitors:\n  - {population: x, record: [%s]}\n", rec)
		if !c.Stepwise {
			fmt.Fprintf(&b, "  - {synapse: plastic, record: [weight]}\n")
		}
		return b.String()
	}
	fmt.Fprintf(&b, "  post: {model: LIF, size: 2, params: {I_e: 300.0}}\n")
	fmt.Fprintf(&b, "synapses:\n  - {pre: x, post: post, conn: {rule: one_to_one}, weight: %g}\n", pr.w)
	fmt.Fprintf(&b, "monitors:\n  - {population: post, record: [spikes, V]}\n")
	switch c.Kind {
	case models.SpikeSourceClass:
		if c.Name != "InputTransmitter" { // its states depend on inputs_type
			fmt.Fprintf(&b, "  - {population: x, record: [%s]}\n", rec)
		}
	case models.CurrentSourceClass:
		fmt.Fprintf(&b, "  - {population: x, record: [%s]}\n", strings.Join(states, ", "))
	}
	return b.String()
}

// outcome runs one probe file and returns everything it recorded, or
// "error: ..." when loading or installing the input fails.
func outcome(t *testing.T, dir, text string) string {
	t.Helper()
	path := filepath.Join(dir, "net.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	net, err := models.LoadFile(path, models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		return "error: " + err.Error()
	}
	e := cpu.New()
	if err := e.Load(net); err != nil {
		return "error: " + err.Error()
	}
	// The engine's own object (the network is a description the engine
	// does not step).
	if m, _ := e.Model("x"); m != nil {
		if tr, ok := m.(*models.InputTransmitter); ok {
			// (T, B, F) = (6, 1, 2), or (B, T, F) with batch_first.
			data := []float64{0, 2, 1, 0, 3, 1, 0, 0, 2, 2, 1, 3}
			if err := tr.SetArray([]int{6, 1, 2}, data, 0); err != nil {
				return "error: " + err.Error()
			}
		}
	}
	if err := e.Advance(int(net.Steps())); err != nil {
		return "error: " + err.Error()
	}
	var rec apu.Record
	e.Drain(&rec)
	var b strings.Builder
	for _, s := range rec.Spikes {
		fmt.Fprintf(&b, "s%d,%d,%d;", s.Pop, s.Neuron, s.Stamp)
	}
	for _, tr := range rec.Traces {
		fmt.Fprintf(&b, "\n%s:%v", tr.State, tr.Values)
	}
	return b.String()
}

// TestParamEffect walks every class `spikeloop models` lists and every
// parameter of it: a parameter changes the output, is refused with an
// error naming it, or is listed as accepted with no effect (and then, if
// the probe gives it another value, that value changes nothing).
func TestParamEffect(t *testing.T) {
	reg := models.NewRegistry()
	for _, c := range reg.Classes() {
		t.Run(c.Name, func(t *testing.T) {
			pr, ok := probes[c.Name]
			if !ok {
				t.Fatalf("no probe for class %s: add one", c.Name)
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "c.dat"), []byte("1\n0\n2\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			base := outcome(t, dir, probeFile(c, pr, pr.base))
			if strings.HasPrefix(base, "error") {
				t.Fatalf("base probe fails: %s", base)
			}
			if !strings.HasPrefix(base, "s") {
				t.Fatalf("base probe: nothing spikes, so a parameter's effect could hide:\n%.500s", base)
			}
			names := make([]string, 0, len(c.Params))
			for _, p := range c.Params {
				names = append(names, p.Name)
			}
			sort.Strings(names)
			for _, name := range names {
				p, _ := c.Param(name)
				alt, hasAlt := pr.alt[name]
				if !hasAlt {
					if p.NoEffect == "" {
						t.Errorf("%s: listed as having an effect, but the probe has no other value for it: add one", name)
					}
					continue
				}
				params := pr.base
				if d := pr.drop[name]; d != "" {
					params = ""
				}
				if params != "" {
					params += ", "
				}
				params += name + ": " + alt
				got := outcome(t, dir, probeFile(c, pr, params))
				switch {
				case p.NoEffect != "":
					if got != base {
						t.Errorf("%s: %s changed the output, but the listing says \"no effect: %s\"\n got %.300s", name, alt, p.NoEffect, got)
					}
				case strings.HasPrefix(got, "error"):
					if !strings.Contains(got, name) {
						t.Errorf("%s: %s is refused by an error that does not name it: %s", name, alt, got)
					}
				case got == base:
					t.Errorf("%s: %s changes nothing, and the listing does not mark it \"accepted, no effect\"", name, alt)
				}
			}
		})
	}
}
