package models_test

// Tests of the network file loader (the README's network file section, Errors; docs/models/README.md):
// every invalid file is rejected with a
// *models.FileError that names the line, the field and what was expected,
// and valid files load into the Network the spec describes.

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/models"
)

// badNetwork is one invalid network file and the error it must give.
type badNetwork struct {
	name  string
	yaml  string
	line  int            // FileError.Line
	field string         // FileError.Field
	words []string       // substrings of the message: the offending value and what was expected
	lim   *models.Limits // nil: models.DefaultLimits
}

// Small limits for the limit cases.
var smallLimits = models.Limits{MaxUnits: 10, MaxConnections: 50, MaxPairs: 1000}

// badNetworks is shared with FuzzLoad (fuzz_test.go) as seed corpus.
var badNetworks = []badNetwork{
	// --- the file as a whole -------------------------------------------
	{name: "not YAML", yaml: `version: 1
populations: [
`, line: 2, field: "", words: []string{"not valid YAML"}},
	{name: "tab indentation", yaml: `version: 1
populations:
	cells: {model: LIF, size: 1}
`, line: 3, field: "", words: []string{"not valid YAML", "cannot start any token"}},
	{name: "empty file", yaml: ``, line: 1, field: "", words: []string{"empty file", "version", "populations"}},
	{name: "comments only", yaml: "# nothing here\n", line: 1, field: "", words: []string{"empty file"}},
	{name: "two documents", yaml: `version: 1
populations: {cells: {model: LIF, size: 1}}
---
version: 1
`, line: 3, field: "", words: []string{"one YAML document", "second"}},
	{name: "second document not YAML", yaml: `version: 1
populations: {cells: {model: LIF, size: 1}}
---
populations: [
`, line: 4, field: "", words: []string{"not valid YAML"}},
	{name: "top level is a list", yaml: `- version: 1
`, line: 1, field: "", words: []string{"must be a mapping", "got a list"}},
	{name: "unknown top-level field", yaml: `version: 1
duratoin: 100
populations: {cells: {model: LIF, size: 1}}
`, line: 2, field: "duratoin", words: []string{"unknown field", "duration", "populations"}},
	{name: "duplicate top-level key", yaml: `version: 1
dt: 0.1
dt: 0.2
populations: {cells: {model: LIF, size: 1}}
`, line: 3, field: "dt", words: []string{"given twice"}},
	{name: "alias", yaml: `version: 1
dt: &h 0.1
duration: *h
populations: {cells: {model: LIF, size: 1}}
`, line: 3, field: "duration", words: []string{"aliases are not supported"}},
	{name: "version missing", yaml: `dt: 0.1
populations: {cells: {model: LIF, size: 1}}
`, line: 1, field: "version", words: []string{"must be 1", "got nothing"}},
	{name: "version 2", yaml: `version: 2
populations: {cells: {model: LIF, size: 1}}
`, line: 1, field: "version", words: []string{"got 2", "version 1"}},
	{name: "version string", yaml: `version: "1"
populations: {cells: {model: LIF, size: 1}}
`, line: 1, field: "version", words: []string{"must be an integer", `got "1"`}},
	{name: "dt 0", yaml: `version: 1
dt: 0
populations: {cells: {model: LIF, size: 1}}
`, line: 2, field: "dt", words: []string{"got 0", "> 0"}},
	{name: "dt negative", yaml: `version: 1
dt: -0.1
populations: {cells: {model: LIF, size: 1}}
`, line: 2, field: "dt", words: []string{"got -0.1", "> 0"}},
	{name: "dt NaN", yaml: `version: 1
dt: .nan
populations: {cells: {model: LIF, size: 1}}
`, line: 2, field: "dt", words: []string{".nan", "finite number"}},
	{name: "dt string", yaml: `version: 1
dt: fast
populations: {cells: {model: LIF, size: 1}}
`, line: 2, field: "dt", words: []string{"must be a number", `got "fast"`}},
	{name: "dt out of float range", yaml: `version: 1
dt: 1e999
populations: {cells: {model: LIF, size: 1}}
`, line: 2, field: "dt", words: []string{"must be a number", `got "1e999"`}},
	{name: "dt tagged float out of range", yaml: `version: 1
dt: !!float 1e999
populations: {cells: {model: LIF, size: 1}}
`, line: 2, field: "dt", words: []string{"1e999", "range", "finite number"}},
	{name: "duration off the grid", yaml: `version: 1
dt: 0.1
duration: 100.05
populations: {cells: {model: LIF, size: 1}}
`, line: 3, field: "duration", words: []string{"100.05", "multiple of dt"}},
	{name: "duration negative", yaml: `version: 1
duration: -10
populations: {cells: {model: LIF, size: 1}}
`, line: 2, field: "duration", words: []string{"-10", ">= 0"}},
	{name: "duration too many steps", yaml: `version: 1
duration: 1e300
populations: {cells: {model: LIF, size: 1}}
`, line: 2, field: "duration", words: []string{"1e300", "steps"}},
	{name: "seed negative", yaml: `version: 1
seed: -1
populations: {cells: {model: LIF, size: 1}}
`, line: 2, field: "seed", words: []string{"-1", "unsigned"}},
	{name: "populations missing", yaml: `version: 1
`, line: 1, field: "populations", words: []string{"must be a mapping of at least one population", "got nothing"}},
	{name: "populations empty value", yaml: `version: 1
populations:
`, line: 2, field: "populations", words: []string{"must be a mapping", "got null"}},
	{name: "populations empty mapping", yaml: `version: 1
populations: {}
`, line: 2, field: "populations", words: []string{"empty", "at least one population"}},

	// --- populations -----------------------------------------------------
	{name: "unknown model", yaml: `version: 1
populations:
  cells: {model: LIFF, size: 1}
`, line: 3, field: "populations.cells.model", words: []string{"must be one of", "LIF", "ExpLIF", "Izhikevich", `got "LIFF" (did you mean "LIF"?)`}},
	{name: "model missing", yaml: `version: 1
populations:
  cells: {size: 1}
`, line: 3, field: "populations.cells.model", words: []string{"must be one of", "LIF", "got nothing"}},
	{name: "unknown population field", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    parmas: {tau: 5}
`, line: 6, field: "populations.cells.parmas", words: []string{"unknown field", "params", "init"}},
	{name: "bad population name", yaml: `version: 1
populations:
  my cells: {model: LIF, size: 1}
`, line: 3, field: "populations.my cells", words: []string{"population names must match"}},
	{name: "population name with a dot", yaml: `version: 1
populations:
  cells.V: {model: LIF, size: 1}
`, line: 3, field: "populations.cells.V", words: []string{"population names must match"}},
	{name: "duplicate population", yaml: `version: 1
populations:
  cells: {model: LIF, size: 1}
  cells: {model: ExpLIF, size: 2}
`, line: 4, field: "populations.cells", words: []string{"given twice"}},
	{name: "size missing", yaml: `version: 1
populations:
  cells: {model: LIF}
`, line: 3, field: "populations.cells.size", words: []string{"must be the number of units (integer >= 1)", "got nothing"}},
	{name: "size negative", yaml: `version: 1
populations:
  cells: {model: LIF, size: -3}
`, line: 3, field: "populations.cells.size", words: []string{"got -3", "integer in [1, "}},
	{name: "size 0", yaml: `version: 1
populations:
  cells: {model: LIF, size: 0}
`, line: 3, field: "populations.cells.size", words: []string{"got 0", "integer in [1, "}},
	{name: "size 1.5", yaml: `version: 1
populations:
  cells: {model: LIF, size: 1.5}
`, line: 3, field: "populations.cells.size", words: []string{"must be an integer", "got 1.5"}},
	{name: "size string", yaml: `version: 1
populations:
  cells: {model: LIF, size: ten}
`, line: 3, field: "populations.cells.size", words: []string{"must be an integer", `got "ten"`}},
	{name: "unknown param", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      tau_m: 10.0
`, line: 7, field: "populations.cells.params.tau_m", words: []string{"unknown parameter of LIF", "V_th", "V_reset", "tau", "tau_ref", "I_e"}},
	{name: "Python-only argument", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params: {surrogate_grad_fn: sigmoid}
`, line: 6, field: "populations.cells.params.surrogate_grad_fn", words: []string{"Python-only"}},
	{name: "param name on LIF", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      name: cells
`, line: 7, field: "populations.cells.params.name", words: []string{"Python-only"}},
	{name: "param string for a number", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      tau: "10"
`, line: 7, field: "populations.cells.params.tau", words: []string{"must be a number", `got "10"`}},
	{name: "param list for a scalar", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 2
    params:
      tau: [10, 20]
`, line: 7, field: "populations.cells.params.tau", words: []string{"must be a number", "got a list"}},
	{name: "param NaN", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      V_th: .nan
`, line: 7, field: "populations.cells.params.V_th", words: []string{".nan", "finite number"}},
	{name: "param +inf", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      tau: .inf
`, line: 7, field: "populations.cells.params.tau", words: []string{".inf", "finite number"}},
	{name: "param -inf in a list", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 2
    params:
      I_e: [0, -.inf]
`, line: 7, field: "populations.cells.params.I_e[1]", words: []string{"-.inf", "finite number"}},
	{name: "per-neuron list of the wrong length", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 2
    params:
      I_e: [1, 2, 3]
`, line: 7, field: "populations.cells.params.I_e", words: []string{"3", "size 2"}},
	{name: "duplicate param", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      tau: 10
      tau: 20
`, line: 8, field: "populations.cells.params.tau", words: []string{"given twice"}},
	{name: "LIF V_th below V_reset", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      V_reset: -60.0
      V_th: -65.0
`, line: 8, field: "populations.cells.params.V_th", words: []string{"-65", "> V_reset", "-60"}},
	{name: "LIF V_th equal to V_reset", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params: {V_th: -70.0}
`, line: 6, field: "populations.cells.params.V_th", words: []string{"-70", "> V_reset"}},
	{name: "LIF tau 0", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      tau: 0
`, line: 7, field: "populations.cells.params.tau", words: []string{"got 0", "> 0"}},
	{name: "LIF R negative", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      R: -0.04
`, line: 7, field: "populations.cells.params.R", words: []string{"-0.04", "> 0"}},
	{name: "LIF tau_ref negative", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      tau_ref: -1
`, line: 7, field: "populations.cells.params.tau_ref", words: []string{"-1", ">= 0 or null"}},
	{name: "LIF V_reset null", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      V_reset: null
      V_rest: -50.0
`, line: 7, field: "populations.cells.params.V_th", words: []string{"V_rest (-50)", "soft reset"}},
	{name: "LIF unknown method", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      method: RK5
`, line: 7, field: "populations.cells.params.method", words: []string{"must be one of", "EXP_EULER", `got "RK5"`}},
	{name: "LIF stdp_tau 0", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      stdp_tau: 0
`, line: 7, field: "populations.cells.params.stdp_tau", words: []string{"> 0", "got 0"}},
	{name: "LIF dendritic_delay 0.5", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      dendritic_delay: 0.5
`, line: 7, field: "populations.cells.params.dendritic_delay", words: []string{"0.5", "integer >= 1"}},
	{name: "LIF dendritic_delay too long", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 2
    params:
      dendritic_delay: [1, 1e12]
`, line: 7, field: "populations.cells.params.dendritic_delay", words: []string{"entry 1", "1e+12 steps", "1048576"}},
	{name: "LIF negative pid", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      pid: -1
`, line: 7, field: "populations.cells.params.pid", words: []string{"-1", ">= 0"}},
	{name: "LIF is_spike_binary not a bool", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      is_spike_binary: yes
`, line: 7, field: "populations.cells.params.is_spike_binary", words: []string{`"yes"`, "true or false"}},
	{name: "explicit !!bool tag with a non-bool value", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params:
      is_spike_binary: !!bool yes
`, line: 7, field: "populations.cells.params.is_spike_binary", words: []string{"yes", "true or false"}},
	{name: "ExpLIF n_receptor differs", yaml: `version: 1
populations:
  cells:
    model: ExpLIF
    size: 1
    params:
      tau_syn: [2.0, 5.0]
      n_receptor: 1
`, line: 8, field: "populations.cells.params.n_receptor", words: []string{"must be 2 for ExpLIF", "derived", "got 1"}},
	{name: "ExpLIF tau_syn empty", yaml: `version: 1
populations:
  cells:
    model: ExpLIF
    size: 1
    params:
      tau_syn: []
`, line: 7, field: "populations.cells.params.tau_syn", words: []string{"must be a list of at least one number", "got []"}},
	{name: "ExpLIF tau_syn entry 0", yaml: `version: 1
populations:
  cells:
    model: ExpLIF
    size: 1
    params:
      tau_syn: [2.0, 0]
`, line: 7, field: "populations.cells.params.tau_syn", words: []string{"entry 1", "> 0", "got 0"}},
	{name: "Izhikevich V_reset not 0", yaml: `version: 1
populations:
  cells:
    model: Izhikevich
    size: 1
    params:
      V_reset: -65.0
`, line: 7, field: "populations.cells.params.V_reset", words: []string{"must be left out", "resets V to c", "neurai", "got -65"}},
	{name: "Izhikevich has no tau_ref", yaml: `version: 1
populations:
  cells:
    model: Izhikevich
    size: 1
    params:
      tau_ref: 2.0
`, line: 7, field: "populations.cells.params.tau_ref", words: []string{"unknown parameter of Izhikevich", "a, b, c, d"}},
	{name: "v_init and init V", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    params: {v_init: -60.0}
    init: {V: -65.0}
`, line: 7, field: "populations.cells.init.V", words: []string{"v_init", "once"}},
	{name: "init of an unknown state", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    init:
      U: -65.0
`, line: 7, field: "populations.cells.init.U", words: []string{"unknown state of LIF", "expected one of V"}},
	{name: "init of derived I_syn", yaml: `version: 1
populations:
  cells:
    model: ExpLIF
    size: 1
    init:
      I_syn: 1.0
`, line: 7, field: "populations.cells.init.I_syn", words: []string{"unknown state of ExpLIF", "V", "I_syn_0"}},
	{name: "init list of the wrong length", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 3
    init:
      V: [-65.0, -60.0]
`, line: 7, field: "populations.cells.init.V", words: []string{"2 values", "size 3"}},
	{name: "init NaN", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 1
    init:
      V: .nan
`, line: 7, field: "populations.cells.init.V", words: []string{".nan", "finite"}},
	{name: "init distribution overflowing", yaml: `version: 1
populations:
  cells:
    model: LIF
    size: 4
    init:
      V: {dist: uniform, low: -1e308, high: 1e308}
`, line: 7, field: "populations.cells.init.V", words: []string{"finite"}},
	{name: "init on a generator", yaml: `version: 1
populations:
  drive:
    model: DCGenerator
    size: 1
    init: {I: 1.0}
`, line: 6, field: "populations.drive.init", words: []string{"DCGenerator", "no initial state"}},

	// --- generators ------------------------------------------------------
	{name: "SpikeGenerator time off the grid", yaml: `version: 1
populations:
  drive:
    model: SpikeGenerator
    size: 1
    params:
      spike_times: [1.0, 2.05]
`, line: 7, field: "populations.drive.params.spike_times", words: []string{"2.05", "grid"}},
	{name: "SpikeGenerator times unsorted", yaml: `version: 1
populations:
  drive:
    model: SpikeGenerator
    size: 1
    params:
      spike_times: [2.0, 1.0]
`, line: 7, field: "populations.drive.params.spike_times", words: []string{"must be sorted", "got 1 after 2"}},
	{name: "SpikeGenerator time below dt", yaml: `version: 1
populations:
  drive:
    model: SpikeGenerator
    size: 1
    params:
      spike_times: [0.0, 1.0]
`, line: 7, field: "populations.drive.params.spike_times", words: []string{"must be >= dt (0.1 ms", "got 0 ms"}},
	{name: "SpikeGenerator lists per unit of the wrong count", yaml: `version: 1
populations:
  drive:
    model: SpikeGenerator
    size: 3
    params:
      spike_times: [[1.0], [2.0]]
`, line: 7, field: "populations.drive.params.spike_times", words: []string{"2 lists", "size 3"}},
	{name: "SpikeGenerator multiplicity 0", yaml: `version: 1
populations:
  drive:
    model: SpikeGenerator
    size: 1
    params:
      spike_times: [1.0]
      multiplicities: 0
`, line: 8, field: "populations.drive.params.multiplicities", words: []string{"integer >= 1", "got 0"}},
	{name: "SpikeGenerator has no start", yaml: `version: 1
populations:
  drive:
    model: SpikeGenerator
    size: 1
    params:
      start: 1.0
`, line: 7, field: "populations.drive.params.start", words: []string{"unknown parameter of SpikeGenerator", "spike_times"}},
	{name: "DCGenerator start off the grid", yaml: `version: 1
populations:
  drive:
    model: DCGenerator
    size: 1
    params:
      start: 0.05
`, line: 7, field: "populations.drive.params.start", words: []string{"0.05", "multiple of dt"}},
	{name: "DCGenerator stop before start", yaml: `version: 1
populations:
  drive:
    model: DCGenerator
    size: 1
    params:
      start: 10.0
      stop: 5.0
`, line: 8, field: "populations.drive.params.stop", words: []string{">= start", "got 5"}},
	{name: "DCGenerator stop as a string", yaml: `version: 1
populations:
  drive:
    model: DCGenerator
    size: 1
    params:
      stop: never
`, line: 7, field: "populations.drive.params.stop", words: []string{`"never"`, "number or inf"}},
	{name: "PoissonGenerator negative rate", yaml: `version: 1
populations:
  drive:
    model: PoissonGenerator
    size: 1
    params:
      rate: -5.0
`, line: 7, field: "populations.drive.params.rate", words: []string{"-5", ">= 0"}},
	{name: "BernoulliGenerator prob above 1", yaml: `version: 1
populations:
  drive:
    model: BernoulliGenerator
    size: 1
    params:
      prob: 1.5
`, line: 7, field: "populations.drive.params.prob", words: []string{"1.5", "in [0, 1]"}},
	{name: "CustomGenerator missing .dat file", yaml: `version: 1
populations:
  drive:
    model: CustomGenerator
    size: 1
    params:
      datapath: no_such_file.dat
`, line: 7, field: "populations.drive.params.datapath", words: []string{"no_such_file.dat", "no such file"}},
	{name: "CustomGenerator datapath not .dat", yaml: `version: 1
populations:
  drive:
    model: CustomGenerator
    size: 1
    params:
      datapath: spikes.csv
`, line: 7, field: "populations.drive.params.datapath", words: []string{"spikes.csv", ".dat"}},
	{name: "CustomGenerator data and datapath", yaml: `version: 1
populations:
  drive:
    model: CustomGenerator
    size: 1
    params:
      data: [1, 0, 1]
      datapath: spikes.dat
`, line: 7, field: "populations.drive.params.data", words: []string{"exactly one of data and datapath"}},
	{name: "CustomGenerator neither data nor datapath", yaml: `version: 1
populations:
  drive:
    model: CustomGenerator
    size: 1
    params:
      start: 0.0
`, line: 7, field: "populations.drive.params.data", words: []string{"exactly one of data and datapath"}},
	{name: "CustomGenerator negative value", yaml: `version: 1
populations:
  drive:
    model: CustomGenerator
    size: 2
    params:
      data: [[1, 0], [0, -1]]
`, line: 7, field: "populations.drive.params.data", words: []string{"row 1", "column 1", ">= 0", "-1"}},
	{name: "CustomGenerator rows of the wrong width", yaml: `version: 1
populations:
  drive:
    model: CustomGenerator
    size: 2
    params:
      data: [[1, 0, 1], [0, 1, 0]]
`, line: 7, field: "populations.drive.params.data", words: []string{"one per unit (2)", "got 3"}},
	{name: "InputTransmitter unknown inputs_type", yaml: `version: 1
populations:
  in:
    model: InputTransmitter
    size: 1
    params:
      inputs_type: voltage
`, line: 7, field: "populations.in.params.inputs_type", words: []string{`"voltage"`, "spike", "current"}},
	{name: "InputTransmitter current with is_spike_binary", yaml: `version: 1
populations:
  in:
    model: InputTransmitter
    size: 1
    params:
      inputs_type: current
      is_spike_binary: true
`, line: 8, field: "populations.in.params.is_spike_binary", words: []string{"spike only"}},

	// --- synapses --------------------------------------------------------
	{name: "synapses not a list", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses: {pre: cells, post: cells}
`, line: 4, field: "synapses", words: []string{"got a mapping", "list of synapse entries"}},
	{name: "unknown synapse field", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - pre: cells
    post: cells
    conn: {rule: all_to_all}
    wieght: 1.0
`, line: 8, field: "synapses[0].wieght", words: []string{"unknown field", "weight", "delay"}},
	{name: "synapse unknown pre", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - pre: drive
    post: cells
    conn: {rule: all_to_all}
`, line: 5, field: "synapses[0].pre", words: []string{"must be one of cells", `got "drive"`}},
	{name: "synapse unknown post", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
  other: {model: LIF, size: 2}
synapses:
  - name: c2o
    pre: cells
    post: otehr
    conn: {rule: all_to_all}
`, line: 8, field: "synapses[0] (c2o).post", words: []string{"must be one of cells, other", `got "otehr"`}},
	{name: "synapse post missing", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - pre: cells
    conn: {rule: all_to_all}
`, line: 5, field: "synapses[0].post", words: []string{"must be a population name (one of cells)", "got nothing"}},
	{name: "generator as post", yaml: `version: 1
populations:
  drive: {model: PoissonGenerator, size: 2}
  cells: {model: LIF, size: 2}
synapses:
  - pre: cells
    post: drive
    conn: {rule: one_to_one}
`, line: 7, field: "synapses[0].post", words: []string{`"drive"`, "PoissonGenerator", "must be a neuron population"}},
	{name: "duplicate synapse name", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - {name: rec, pre: cells, post: cells, conn: {rule: all_to_all}}
  - {name: rec, pre: cells, post: cells, conn: {rule: one_to_one}}
`, line: 6, field: "synapses[1].name", words: []string{`"rec"`, "earlier synapse"}},
	{name: "bad synapse name", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - {name: "a/b", pre: cells, post: cells, conn: {rule: all_to_all}}
`, line: 5, field: "synapses[0].name", words: []string{"synapse names must match"}},
	{name: "plastic synapse onto a stepwise population", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
  snn: {model: SNNIF, size: 2}
synapses:
  - pre: cells
    post: snn
    model: STDPSynapse
    conn: {rule: all_to_all}
`, line: 8, field: "synapses[0].model", words: []string{"STDPSynapse", "biophysical neuron population", "SNNIF"}},
	{name: "plastic synapse from a current source", yaml: `version: 1
populations:
  dc: {model: DCGenerator, size: 2}
  cells: {model: LIF, size: 2}
synapses:
  - pre: dc
    post: cells
    model: STDPSynapse
    conn: {rule: all_to_all}
`, line: 8, field: "synapses[0].model", words: []string{"STDPSynapse", "current source"}},
	{name: "unknown synapse model", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - pre: cells
    post: cells
    model: static
    conn: {rule: all_to_all}
`, line: 7, field: "synapses[0].model", words: []string{`"static"`, "StaticSynapse"}},
	{name: "params on StaticSynapse", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - pre: cells
    post: cells
    conn: {rule: all_to_all}
    params: {lambda: 0.1}
`, line: 8, field: "synapses[0].params", words: []string{"StaticSynapse", "no parameters"}},
	{name: "conn missing", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - pre: cells
    post: cells
`, line: 5, field: "synapses[0].conn", words: []string{"must be {rule: one_to_one", "fixed_prob", "got nothing"}},
	{name: "unknown rule", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - pre: cells
    post: cells
    conn: {rule: pairwise_bernoulli, p: 0.1}
`, line: 7, field: "synapses[0].conn.rule", words: []string{`"pairwise_bernoulli"`, "fixed_prob"}},
	{name: "p above 1", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - pre: cells
    post: cells
    conn:
      rule: fixed_prob
      p: 1.5
`, line: 9, field: "synapses[0].conn.p", words: []string{"1.5", "[0, 1]"}},
	{name: "p negative", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - {pre: cells, post: cells, conn: {rule: fixed_prob, p: -0.1}}
`, line: 5, field: "synapses[0].conn.p", words: []string{"-0.1", "[0, 1]"}},
	{name: "p missing", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - {pre: cells, post: cells, conn: {rule: fixed_prob}}
`, line: 5, field: "synapses[0].conn.p", words: []string{"must be given (rule fixed_prob needs p)", "got nothing"}},
	{name: "rule field of another rule", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - pre: cells
    post: cells
    conn:
      rule: fixed_prob
      p: 0.5
      n: 3
`, line: 10, field: "synapses[0].conn.n", words: []string{"not a field of rule fixed_prob", "p", "allow_autapses"}},
	{name: "allow_autapses on one_to_one", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - {pre: cells, post: cells, conn: {rule: one_to_one, allow_autapses: false}}
`, line: 5, field: "synapses[0].conn.allow_autapses", words: []string{"not a field of rule one_to_one"}},
	{name: "one_to_one size mismatch", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
  b: {model: LIF, size: 3}
synapses:
  - pre: a
    post: b
    conn: {rule: one_to_one}
`, line: 8, field: "synapses[0].conn.rule", words: []string{"must fit", "equal sizes", `pre "a" of 2`, `post "b" of 3`, "got one_to_one"}},
	{name: "fixed_indegree n above N_pre", yaml: `version: 1
populations:
  a: {model: PoissonGenerator, size: 3}
  b: {model: LIF, size: 2}
synapses:
  - pre: a
    post: b
    conn:
      rule: fixed_indegree
      n: 4
`, line: 10, field: "synapses[0].conn.n", words: []string{"got 4", "at most 3"}},
	{name: "fixed_indegree n above N_pre-1 without autapses", yaml: `version: 1
populations:
  a: {model: LIF, size: 3}
synapses:
  - pre: a
    post: a
    conn: {rule: fixed_indegree, n: 3, allow_autapses: false}
`, line: 7, field: "synapses[0].conn.n", words: []string{"got 3", "at most 2", "without autapses"}},
	{name: "fixed_indegree n negative", yaml: `version: 1
populations:
  a: {model: LIF, size: 3}
synapses:
  - {pre: a, post: a, conn: {rule: fixed_indegree, n: -1}}
`, line: 5, field: "synapses[0].conn.n", words: []string{"got -1", "integer in [0, "}},
	{name: "fixed_total_num n above distinct pairs", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - pre: a
    post: a
    conn: {rule: fixed_total_num, n: 5}
`, line: 7, field: "synapses[0].conn.n", words: []string{"got 5", "4 distinct", "multi_conn"}},
	{name: "fixed_total_num on one neuron without autapses", yaml: `version: 1
populations:
  a: {model: LIF, size: 1}
synapses:
  - pre: a
    post: a
    conn: {rule: fixed_total_num, n: 3, multi_conn: true, allow_autapses: false}
`, line: 7, field: "synapses[0].conn.n", words: []string{"got 3", "no (pre, post) pair"}},
	{name: "multi_conn not a bool", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - {pre: a, post: a, conn: {rule: fixed_total_num, n: 1, multi_conn: 1}}
`, line: 5, field: "synapses[0].conn.multi_conn", words: []string{"got 1", "true or false"}},
	{name: "explicit pair out of range", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
  b: {model: LIF, size: 3}
synapses:
  - pre: a
    post: b
    conn:
      rule: explicit
      pairs:
        - [0, 0]
        - [1, 3]
`, line: 12, field: "synapses[0].conn.pairs[1]", words: []string{"post: must be 0..2", `"b" has 3`, "got 3"}},
	{name: "explicit pair not a pair", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - pre: a
    post: a
    conn:
      rule: explicit
      pairs: [[0, 1, 1]]
`, line: 9, field: "synapses[0].conn.pairs[0]", words: []string{"got a list", "pair [pre, post]"}},
	{name: "weight list of the wrong length", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - pre: a
    post: a
    conn: {rule: all_to_all}
    weight: [1.0, 2.0, 3.0]
`, line: 8, field: "synapses[0].weight", words: []string{"3 weights", "4 connections"}},
	{name: "weight string", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - {pre: a, post: a, conn: {rule: all_to_all}, weight: heavy}
`, line: 5, field: "synapses[0].weight", words: []string{"must be a number", `got "heavy"`}},
	{name: "weight NaN", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - {pre: a, post: a, conn: {rule: all_to_all}, weight: .NaN}
`, line: 5, field: "synapses[0].weight", words: []string{".NaN", "finite"}},
	{name: "weight dist unknown", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - pre: a
    post: a
    conn: {rule: all_to_all}
    weight: {dist: gauss, mean: 1.0, std: 0.1}
`, line: 8, field: "synapses[0].weight.dist", words: []string{"must be {dist: normal", "uniform", `got "gauss"`}},
	{name: "weight dist ramp", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - {pre: a, post: a, conn: {rule: all_to_all}, weight: {dist: ramp, low: 0, high: 1}}
`, line: 5, field: "synapses[0].weight.dist", words: []string{`"ramp"`, "normal", "uniform"}},
	{name: "weight dist field of another dist", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - pre: a
    post: a
    conn: {rule: all_to_all}
    weight: {dist: normal, mean: 1.0, high: 2.0}
`, line: 8, field: "synapses[0].weight.high", words: []string{"not a field of dist normal", "mean", "std"}},
	{name: "weight dist negative std", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - pre: a
    post: a
    conn: {rule: all_to_all}
    weight:
      dist: normal
      mean: 1.0
      std: -0.5
`, line: 11, field: "synapses[0].weight.std", words: []string{"-0.5", ">= 0"}},
	{name: "weight dist overflowing", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - pre: a
    post: a
    conn: {rule: all_to_all}
    weight: {dist: uniform, low: -1.7e308, high: 1.7e308}
`, line: 8, field: "synapses[0].weight", words: []string{"finite"}},
	{name: "delay below dt", yaml: `version: 1
dt: 0.1
populations:
  a: {model: LIF, size: 2}
synapses:
  - pre: a
    post: a
    conn: {rule: all_to_all}
    delay: 0.05
`, line: 9, field: "synapses[0].delay", words: []string{"must be at least dt (0.1 ms", "got 0.05 ms"}},
	{name: "delay 0 into a biophysical neuron", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - {pre: a, post: a, conn: {rule: one_to_one}, delay: 0}
`, line: 5, field: "synapses[0].delay", words: []string{"delay 0", "stepwise", "at least dt"}},
	{name: "delay list of the wrong length", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - pre: a
    post: a
    conn: {rule: one_to_one}
    delay: [1.0, 2.0, 3.0]
`, line: 8, field: "synapses[0].delay", words: []string{"3 delays", "2 connections"}},
	{name: "delay list entry below dt", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - pre: a
    post: a
    conn: {rule: one_to_one}
    delay:
      - 1.0
      - 0.01
`, line: 10, field: "synapses[0].delay[1]", words: []string{"must be at least dt", "got 0.01 ms"}},
	{name: "delay too long", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - {pre: a, post: a, conn: {rule: one_to_one}, delay: 1e9}
`, line: 5, field: "synapses[0].delay", words: []string{"1e+09", "steps", "supported"}},
	{name: "receptor beyond the ports", yaml: `version: 1
populations:
  drive: {model: SpikeGenerator, size: 1, params: {spike_times: [1.0]}}
  cells:
    model: ExpLIF
    size: 1
    params: {tau_syn: [2.0, 5.0]}
synapses:
  - pre: drive
    post: cells
    conn: {rule: all_to_all}
    receptor: 2
`, line: 12, field: "synapses[0].receptor", words: []string{"got 2", "2 port(s)", "0..1"}},
	{name: "receptor on a current connection", yaml: `version: 1
populations:
  dc: {model: DCGenerator, size: 1}
  cells:
    model: ExpLIF
    size: 1
    params: {tau_syn: [2.0, 5.0]}
synapses:
  - pre: dc
    post: cells
    conn: {rule: all_to_all}
    receptor: 1
`, line: 12, field: "synapses[0].receptor", words: []string{"got 1", "current connection", "must be 0"}},
	{name: "receptor negative", yaml: `version: 1
populations:
  a: {model: LIF, size: 1}
synapses:
  - {pre: a, post: a, conn: {rule: all_to_all}, receptor: -1}
`, line: 5, field: "synapses[0].receptor", words: []string{"got -1", "integer in [0, "}},

	// --- monitors --------------------------------------------------------
	{name: "monitor unknown population", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
monitors:
  - population: cels
    record: [spikes]
`, line: 5, field: "monitors[0].population", words: []string{"must be one of cells", `got "cels"`}},
	{name: "monitor unknown field", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
monitors:
  - population: cells
    record: [spikes]
    interval: 10
`, line: 7, field: "monitors[0].interval", words: []string{"unknown field", "every", "neurons"}},
	{name: "monitor both population and synapse", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
monitors:
  - {population: cells, synapse: s, record: [spikes]}
`, line: 5, field: "monitors[0]", words: []string{"exactly one of population and synapse"}},
	{name: "monitor of a static synapse", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
synapses:
  - {name: rec, pre: cells, post: cells, conn: {rule: all_to_all}}
monitors:
  - synapse: rec
    record: [weight]
`, line: 7, field: "monitors[0].synapse", words: []string{`"rec"`, "StaticSynapse", "plastic"}},
	{name: "monitor record missing", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
monitors:
  - population: cells
`, line: 5, field: "monitors[0].record", words: []string{"must be a list such as [spikes, V]", "got nothing"}},
	{name: "monitor record of an unknown state", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
monitors:
  - population: cells
    record: [spikes, v]
`, line: 6, field: "monitors[0].record[1]", words: []string{"must be one of spikes, V", "LIF", `got "v"`}},
	{name: "monitor spikes of a DCGenerator", yaml: `version: 1
populations:
  dc: {model: DCGenerator, size: 1}
monitors:
  - population: dc
    record: [spikes]
`, line: 6, field: "monitors[0].record[0]", words: []string{"must be one of I", "DCGenerator", `got "spikes"`}},
	{name: "monitor record listed twice", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
monitors:
  - population: cells
    record: [V, V]
`, line: 6, field: "monitors[0].record[1]", words: []string{`"V"`, "twice"}},
	{name: "two monitors record the same state", yaml: `version: 1
populations:
  cells: {model: LIF, size: 4}
monitors:
  - population: cells
    record: [spikes, V]
    neurons: [0, 1]
  - population: cells
    record: [spikes, V]
    neurons: [2, 3]
`, line: 9, field: "monitors[1].record[1]", words: []string{`"V"`, `"cells"`, "monitors[0]", "cells.V.csv"}},
	{name: "monitor neuron out of range", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
monitors:
  - population: cells
    record: [V]
    neurons: [0, 2]
`, line: 7, field: "monitors[0].neurons[1]", words: []string{"got 2", "[0, 1]"}},
	{name: "monitor neuron listed twice", yaml: `version: 1
populations:
  cells: {model: LIF, size: 3}
monitors:
  - population: cells
    record: [V]
    neurons: [1, 1]
`, line: 7, field: "monitors[0].neurons[1]", words: []string{"neuron 1", "twice"}},
	{name: "monitor every 0", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
monitors:
  - population: cells
    record: [V]
    every: 0
`, line: 7, field: "monitors[0].every", words: []string{"got 0", "integer in [1, "}},
	{name: "monitor every 2.5", yaml: `version: 1
populations:
  cells: {model: LIF, size: 2}
monitors:
  - population: cells
    record: [V]
    every: 2.5
`, line: 7, field: "monitors[0].every", words: []string{"got 2.5", "integer"}},

	// --- limits ----------------------------------------------------------
	{name: "units above the limit", yaml: `version: 1
populations:
  a: {model: LIF, size: 6}
  b: {model: LIF, size: 6}
`, line: 4, field: "populations.b.size", words: []string{"12 units", "limit of 10"}, lim: &smallLimits},
	{name: "size above int32 after others (32-bit wrap)", yaml: `version: 1
populations:
  a: {model: LIF, size: 10}
  b: {model: LIF, size: 2147483647}
`, line: 4, field: "populations.b.size", words: []string{"2147483657 units", "limit of 10000000"}},
	{name: "connections above the limit", yaml: `version: 1
populations:
  a: {model: LIF, size: 5}
  b: {model: LIF, size: 5}
synapses:
  - {pre: a, post: b, conn: {rule: all_to_all}}
  - {pre: b, post: a, conn: {rule: all_to_all}}
  - {pre: a, post: a, conn: {rule: all_to_all}}
`, line: 8, field: "synapses[2].conn", words: []string{"75 connections", "limit is 50"}, lim: &smallLimits},
	{name: "all_to_all above the limit on 32-bit too", yaml: `version: 1
populations:
  a: {model: SpikeGenerator, size: 70000}
  b: {model: LIF, size: 70000}
synapses:
  - {pre: a, post: b, conn: {rule: all_to_all}}
`, line: 6, field: "synapses[0].conn", words: []string{"4900000000 connections", "limit is 100000000"}},
	{name: "fixed_prob looking at too many pairs", yaml: `version: 1
populations:
  a: {model: SpikeGenerator, size: 200000}
  b: {model: LIF, size: 200000}
synapses:
  - {pre: a, post: b, conn: {rule: fixed_prob, p: 0}}
`, line: 6, field: "synapses[0].conn", words: []string{"40000000000 (pre, post) pairs", "limit of 2000000000"}},
	{name: "fixed_indegree 0 looking at too many pairs", yaml: `version: 1
populations:
  a: {model: LIF, size: 40}
synapses:
  - {pre: a, post: a, conn: {rule: fixed_indegree, n: 0}}
`, line: 5, field: "synapses[0].conn", words: []string{"1600 (pre, post) pairs", "limit of 1000"}, lim: &models.Limits{MaxUnits: 100, MaxConnections: 100, MaxPairs: 1000}},
	{name: "fixed_total_num above the limit", yaml: `version: 1
populations:
  a: {model: LIF, size: 2}
synapses:
  - {pre: a, post: a, conn: {rule: fixed_total_num, n: 1000000000, multi_conn: true}}
`, line: 5, field: "synapses[0].conn", words: []string{"1000000000 connections", "limit is 50"}, lim: &smallLimits},
	// --- robustness limits: refractory length, spike-time copies,
	// fixed_total_num draws, delay rings ------------------------------
	{name: "LIF tau_ref overflowing the refractory counter", yaml: `version: 1
dt: 0.001
populations:
  a: {model: LIF, size: 1, params: {tau_ref: 1.0e12}}
`, line: 4, field: "populations.a.params.tau_ref", words: []string{"must be at most 2147483647 steps", "got 1e+12 ms", "1e+15 steps"}},
	{name: "ExpLIF tau_ref overflowing the refractory counter", yaml: `version: 1
dt: 0.001
populations:
  a:
    model: ExpLIF
    size: 1
    params:
      tau_ref: 3.0e6
`, line: 8, field: "populations.a.params.tau_ref", words: []string{"got 3e+06 ms", "3e+09 steps", "2147483647"}},
	{name: "HH tau_ref overflowing the refractory counter", yaml: `version: 1
dt: 0.001
populations:
  a: {model: HH, size: 1, params: {tau_ref: 1.0e12}}
`, line: 4, field: "populations.a.params.tau_ref", words: []string{"got 1e+12 ms", "2147483647"}},
	{name: "GLIF3 tau_ref overflowing the refractory counter", yaml: `version: 1
dt: 0.001
populations:
  a: {model: GLIF3, size: 1, params: {tau_ref: 1.0e12}}
`, line: 4, field: "populations.a.params.tau_ref", words: []string{"got 1e+12 ms", "2147483647"}},
	{name: "SpikeGenerator list copied to too many units", yaml: `version: 1
populations:
  g:
    model: SpikeGenerator
    size: 1000000
    params:
      spike_times: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
`, line: 7, field: "populations.g.params.spike_times", words: []string{"20000000 spike times", "one list of 20 copied to each of 1000000 units", "limit of 10000000"}},
	{name: "SpikeGenerators over the network's spike-time limit", yaml: `version: 1
populations:
  g: {model: SpikeGenerator, size: 2, params: {spike_times: [[1, 2], [3]]}}
  h: {model: SpikeGenerator, size: 1, params: {spike_times: [1, 2, 3]}}
`, line: 4, field: "populations.h.params.spike_times", words: []string{"3 spike times", "would hold 6", "limit of 5"},
		lim: &models.Limits{MaxUnits: 10, MaxConnections: 50, MaxPairs: 1000, MaxSpikeTimes: 5}},
	{name: "fixed_total_num drawing too many pairs", yaml: `version: 1
populations:
  a: {model: LIF, size: 100}
synapses:
  - conn:
      rule: fixed_total_num
      n: 10000
    pre: a
    post: a
`, line: 7, field: "synapses[0].conn.n", words: []string{"got 10000", "about 97876", "limit of 50000"},
		lim: &models.Limits{MaxUnits: 1000, MaxConnections: 100000, MaxPairs: 50000}},
	{name: "delay rings over the limit", yaml: `version: 1
populations:
  g: {model: SpikeGenerator, size: 1}
  a: {model: LIF, size: 1000000}
synapses:
  - name: slow
    pre: g
    post: a
    conn: {rule: explicit, pairs: [[0, 0]]}
    delay: 200.0
`, line: 10, field: "synapses[0] (slow).delay", words: []string{"delay 200 ms (2000 steps)", `into "a"`, "2000 slots x 1000000 neurons x 1 input rows = 16000000000 bytes", "limit of 1073741824"}},
	{name: "delay rings over the limit, per-connection delays and two rows", yaml: `version: 1
populations:
  g: {model: SpikeGenerator, size: 1}
  dc: {model: DCGenerator, size: 1}
  a: {model: LIF, size: 10}
synapses:
  - {pre: g, post: a, conn: {rule: explicit, pairs: [[0, 0], [0, 1]]}, delay: [0.1, 0.4]}
  - {pre: dc, post: a, conn: {rule: explicit, pairs: [[0, 0]]}, delay: 0.1}
`, line: 8, field: "synapses[1].delay", words: []string{"delay 0.1 ms (1 steps)", "4 slots x 10 neurons x 2 input rows = 640 bytes", "limit of 500"},
		lim: &models.Limits{MaxUnits: 100, MaxConnections: 100, MaxPairs: 1000, MaxRingBytes: 500}},
	{name: "delay rings over the limit, default delay", yaml: `version: 1
populations:
  g: {model: SpikeGenerator, size: 1}
  a: {model: LIF, size: 40}
synapses:
  - {pre: g, post: a, conn: {rule: all_to_all}}
`, line: 6, field: "synapses[0].delay", words: []string{"delay 0.1 ms (1 steps)", "1 slots x 40 neurons x 1 input rows = 320 bytes", "limit of 300"},
		lim: &models.Limits{MaxUnits: 100, MaxConnections: 100, MaxPairs: 1000, MaxRingBytes: 300}},
}

func loadString(t testing.TB, src string, lim models.Limits) (*models.Network, error) {
	t.Helper()
	return models.Load([]byte(src), "test.yaml", models.NewRegistry(), lim)
}

func TestLoadInvalid(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range badNetworks {
		if seen[c.name] {
			t.Fatalf("case name %q used twice", c.name)
		}
		seen[c.name] = true
		t.Run(c.name, func(t *testing.T) {
			lim := models.DefaultLimits
			if c.lim != nil {
				lim = *c.lim
			}
			net, err := loadString(t, c.yaml, lim)
			if err == nil {
				t.Fatalf("loaded (%d populations), want an error\n%s", len(net.Populations), c.yaml)
			}
			var fe *models.FileError
			if !errors.As(err, &fe) {
				t.Fatalf("error %q (%T) is not a *models.FileError", err, err)
			}
			if fe.File != "test.yaml" {
				t.Errorf("File = %q, want test.yaml", fe.File)
			}
			if fe.Line != c.line || fe.Field != c.field {
				t.Errorf("line %d field %q, want line %d field %q\n  %v", fe.Line, fe.Field, c.line, c.field, err)
			}
			for _, w := range c.words {
				if !strings.Contains(fe.Msg, w) {
					t.Errorf("message %q lacks %q", fe.Msg, w)
				}
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "test.yaml") || (c.field != "" && !strings.Contains(msg, c.field)) {
				t.Errorf("Error() = %q does not name the file and the field", msg)
			}
		})
	}
	if len(badNetworks) < 30 {
		t.Errorf("only %d invalid cases", len(badNetworks))
	}
}

// LoadFile names the file when it cannot be read; Load names it in
// FileError.Error.
func TestLoadFileMissing(t *testing.T) {
	_, err := models.LoadFile(filepath.Join(t.TempDir(), "nope.yaml"), models.NewRegistry(), models.DefaultLimits)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v, want one naming nope.yaml", err)
	}
}

func TestFileErrorFormat(t *testing.T) {
	for _, c := range []struct {
		e    models.FileError
		want string
	}{
		{models.FileError{File: "n.yaml", Line: 3, Field: "dt", Msg: "got 0"}, "n.yaml:3: dt: got 0"},
		{models.FileError{File: "n.yaml", Line: 3, Msg: "not valid YAML: x"}, "n.yaml:3: not valid YAML: x"},
		{models.FileError{File: "n.yaml", Msg: "not valid YAML: x"}, "n.yaml: not valid YAML: x"},
	} {
		if got := c.e.Error(); got != c.want {
			t.Errorf("Error() = %q, want %q", got, c.want)
		}
	}
}

func mustLoad(t *testing.T, src string) *models.Network {
	t.Helper()
	net, err := loadString(t, src, models.DefaultLimits)
	if err != nil {
		t.Fatalf("load: %v\n%s", err, src)
	}
	return net
}

// Defaults of the README's network file section: dt 0.1, seed 0, duration 0, delay one
// step, weight 1.0, StaticSynapse, receptor 0, every 1, all neurons.
func TestLoadDefaults(t *testing.T) {
	net := mustLoad(t, `version: 1
populations:
  zeta: {model: SpikeGenerator, size: 2, params: {spike_times: [1.0]}}
  alpha: {model: LIF, size: 3}
  mid: {model: Izhikevich, size: 1}
synapses:
  - {pre: zeta, post: alpha, conn: {rule: all_to_all}}
monitors:
  - {population: alpha, record: [spikes, V]}
`)
	if net.Dt != 0.1 || net.Seed != 0 || net.Duration != 0 || net.File != "test.yaml" {
		t.Errorf("dt %g seed %d duration %g file %q, want 0.1, 0, 0, test.yaml", net.Dt, net.Seed, net.Duration, net.File)
	}
	// Populations keep the file's order, not an alphabetical one.
	var names []string
	for _, p := range net.Populations {
		names = append(names, p.Name)
	}
	if got := strings.Join(names, ","); got != "zeta,alpha,mid" {
		t.Errorf("population order %s, want zeta,alpha,mid", got)
	}
	if p := net.Population("alpha"); p == nil || p.Size != 3 || p.Class.Name != "LIF" || !p.IsNeuron() || p.Line != 4 {
		t.Errorf("alpha = %+v", p)
	}
	if p := net.Population("zeta"); p.IsNeuron() || p.IsCurrentSource() {
		t.Errorf("zeta: a spike generator, got neuron %v current %v", p.IsNeuron(), p.IsCurrentSource())
	}
	if net.Population("nope") != nil {
		t.Error("Population(nope) != nil")
	}
	s := net.Synapses[0]
	if s.Model != "StaticSynapse" || s.Receptor != 0 || s.Pre.Name != "zeta" || s.Post.Name != "alpha" || s.Line != 7 || s.Name != "" {
		t.Errorf("synapse = %+v", s)
	}
	if len(s.Conns) != 6 {
		t.Fatalf("%d conns, want 6", len(s.Conns))
	}
	for i := range s.Conns {
		if s.Weights[i] != 1.0 || s.Delays[i] != 1 {
			t.Errorf("conn %d: weight %g delay %d, want 1.0 and 1 step", i, s.Weights[i], s.Delays[i])
		}
	}
	m := net.Monitors[0]
	if m.Every != 1 || m.Neurons != nil || m.Population.Name != "alpha" || strings.Join(m.Record, ",") != "spikes,V" {
		t.Errorf("monitor = %+v", m)
	}
	// Default initial states: LIF v_init -70; Izhikevich V -65, u = b*V.
	if v := net.Population("alpha").Model.State("V"); v[0] != -70 || v[2] != -70 {
		t.Errorf("LIF V = %v, want -70", v)
	}
	iz := net.Population("mid").Model
	if v, u := iz.State("V")[0], iz.State("u")[0]; v != -65 || u != 0.2*-65 {
		t.Errorf("Izhikevich V %g u %g, want -65 and -13", v, u)
	}
}

func TestLoadValid(t *testing.T) {
	net := mustLoad(t, `# a comment line
version: 1
dt: 0.05
duration: 100
seed: 7
populations:
  drive:
    model: SpikeGenerator
    size: 2
    params: {spike_times: [10.0, 20.0, 30.5]}
  cells:
    model: ExpLIF
    size: 2
    params: {V_th: -55.0, I_e: 300.0, tau_syn: [2.0, 5.0]}
    init: {V: [-65.0, -60.0]}
  dc:
    model: DCGenerator
    size: 1
    params: {amplitude: 2.5, start: 1.0, stop: .inf}
synapses:
  - name: drive_to_cells
    pre: drive
    post: cells
    conn: {rule: one_to_one}
    weight: [250.0, -100.0]
    delay: 1.0
    receptor: 1
  - pre: cells
    post: cells
    conn: {rule: explicit, pairs: [[1, 0], [0, 1], [0, 0]]}
    weight: [1.0, 2.0, 3.0]
    delay: [0.05, 0.1, 0.124]
  - pre: dc
    post: cells
    conn: {rule: all_to_all}
    weight: 0.5
monitors:
  - population: cells
    record: [spikes, V, I_syn_1]
    neurons: [1]
    every: 10
  - population: cells
    record: [I_syn]
  - population: dc
    record: [I]
`)
	if net.Dt != 0.05 || net.Duration != 100 || net.Seed != 7 || net.Steps() != 2000 {
		t.Errorf("dt %g duration %g seed %d steps %d", net.Dt, net.Duration, net.Seed, net.Steps())
	}
	cells := net.Population("cells")
	if n, ok := cells.Model.(models.NeuronModel); !ok || n.Ports() != 2 {
		t.Fatalf("cells: %T, want an ExpLIF with 2 ports", cells.Model)
	}
	if v := cells.Model.State("V"); v[0] != -65 || v[1] != -60 {
		t.Errorf("init V = %v, want [-65 -60]", v)
	}
	if !net.Population("dc").IsCurrentSource() {
		t.Error("dc is not a current source")
	}
	s0 := net.Synapses[0]
	if s0.Name != "drive_to_cells" || s0.Receptor != 1 || s0.Rule.Rule != "one_to_one" || s0.Index != 0 {
		t.Errorf("synapse 0 = %+v", s0)
	}
	if want := []models.Conn{{Pre: 0, Post: 0}, {Pre: 1, Post: 1}}; !equalConns(s0.Conns, want) {
		t.Errorf("synapse 0 conns %v, want %v", s0.Conns, want)
	}
	if s0.Weights[0] != 250 || s0.Weights[1] != -100 || s0.Delays[0] != 20 || s0.Delays[1] != 20 {
		t.Errorf("synapse 0 weights %v delays %v, want [250 -100] [20 20]", s0.Weights, s0.Delays)
	}
	// Explicit pairs are put in canonical order; the lists follow it.
	s1 := net.Synapses[1]
	if want := []models.Conn{{Pre: 0, Post: 0}, {Pre: 0, Post: 1}, {Pre: 1, Post: 0}}; !equalConns(s1.Conns, want) {
		t.Errorf("synapse 1 conns %v, want %v", s1.Conns, want)
	}
	// D = floor(d/h + 0.5): 0.05 -> 1, 0.1 -> 2, 0.124 -> 2 (2.48 rounds down).
	if s1.Delays[0] != 1 || s1.Delays[1] != 2 || s1.Delays[2] != 2 {
		t.Errorf("synapse 1 delays %v, want [1 2 2]", s1.Delays)
	}
	s2 := net.Synapses[2]
	if len(s2.Conns) != 2 || s2.Weights[0] != 0.5 || s2.Weights[1] != 0.5 || s2.Delays[0] != 1 {
		t.Errorf("synapse 2 = conns %v weights %v delays %v", s2.Conns, s2.Weights, s2.Delays)
	}
	m := net.Monitors[0]
	if m.Every != 10 || len(m.Neurons) != 1 || m.Neurons[0] != 1 || strings.Join(m.Record, ",") != "spikes,V,I_syn_1" {
		t.Errorf("monitor 0 = %+v", m)
	}
	if len(net.Monitors) != 3 || net.Monitors[2].Population.Name != "dc" {
		t.Errorf("monitors = %d", len(net.Monitors))
	}
}

func equalConns(a, b []models.Conn) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// docs/models/izhikevich.md: u starts at b*V when init gives V only; an init of u wins.
func TestLoadIzhikevichInit(t *testing.T) {
	net := mustLoad(t, `version: 1
populations:
  a:
    model: Izhikevich
    size: 2
    params: {b: 0.25}
    init: {V: [-70.0, -50.0]}
  b:
    model: Izhikevich
    size: 2
    params: {b: 0.25, v_init: -60.0}
  c:
    model: Izhikevich
    size: 2
    init: {V: -70.0, u: -3.0}
`)
	for _, c := range []struct {
		pop  string
		v, u []float64
	}{
		{"a", []float64{-70, -50}, []float64{-17.5, -12.5}},
		{"b", []float64{-60, -60}, []float64{-15, -15}},
		{"c", []float64{-70, -70}, []float64{-3, -3}},
	} {
		m := net.Population(c.pop).Model
		v, u := m.State("V"), m.State("u")
		for i := range c.v {
			if v[i] != c.v[i] || u[i] != c.u[i] {
				t.Errorf("%s[%d]: V %g u %g, want %g %g", c.pop, i, v[i], u[i], c.v[i], c.u[i])
			}
		}
	}
}

// Random rules, distributions and init draws are reproducible from the
// seed and separate: changing the weight distribution keeps the
// connections.
func TestLoadRandomReproducible(t *testing.T) {
	src := func(weight string) string {
		return `version: 1
seed: 42
populations:
  a:
    model: LIF
    size: 20
    init: {V: {dist: uniform, low: -70.0, high: -55.0}}
synapses:
  - pre: a
    post: a
    conn: {rule: fixed_prob, p: 0.3, allow_autapses: false}
    weight: ` + weight + `
    delay: 1.5
`
	}
	n1 := mustLoad(t, src("{dist: normal, mean: 1.0, std: 0.5}"))
	n2 := mustLoad(t, src("{dist: normal, mean: 1.0, std: 0.5}"))
	n3 := mustLoad(t, src("{dist: uniform, low: 0.0, high: 1.0}"))
	s1, s2, s3 := n1.Synapses[0], n2.Synapses[0], n3.Synapses[0]
	if len(s1.Conns) == 0 || len(s1.Conns) == 380 {
		t.Fatalf("%d conns from fixed_prob 0.3 on 20x20", len(s1.Conns))
	}
	if !equalConns(s1.Conns, s2.Conns) || !equalConns(s1.Conns, s3.Conns) {
		t.Error("connections depend on the run or on the weight distribution")
	}
	for i, c := range s1.Conns {
		if c.Pre == c.Post {
			t.Errorf("autapse %v with allow_autapses: false", c)
		}
		if s1.Weights[i] != s2.Weights[i] {
			t.Errorf("weight %d differs between two loads", i)
		}
		if s3.Weights[i] < 0 || s3.Weights[i] >= 1 {
			t.Errorf("uniform weight %g outside [0, 1)", s3.Weights[i])
		}
		if s1.Delays[i] != 15 {
			t.Errorf("delay %d steps, want 15", s1.Delays[i])
		}
	}
	v1, v2 := n1.Population("a").Model.State("V"), n2.Population("a").Model.State("V")
	for i := range v1 {
		if v1[i] != v2[i] || v1[i] < -70 || v1[i] >= -55 {
			t.Errorf("init V[%d] = %g / %g", i, v1[i], v2[i])
		}
	}
}

// A CustomGenerator reads its .dat file relative to the network file.
func TestLoadCustomGeneratorDat(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "in.dat"), []byte("# rows\n1 0\n0, 2\n\n0\t0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := `version: 1
populations:
  drive:
    model: CustomGenerator
    size: 2
    params: {datapath: in.dat}
`
	net, err := models.Load([]byte(src), filepath.Join(dir, "net.yaml"), models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	g := net.Population("drive").Model.(models.Generator)
	out := make([]float64, 2)
	want := [][]float64{{1, 0}, {0, 2}, {0, 0}, {0, 0}}
	for k, w := range want {
		g.Emit(int64(k), out)
		if out[0] != w[0] || out[1] != w[1] {
			t.Errorf("step %d: %v, want %v", k, out, w)
		}
	}
}

// A stop of inf is accepted written as .inf or as inf; seeds take the
// whole uint64 range.
func TestLoadNumberForms(t *testing.T) {
	for _, stop := range []string{".inf", "inf", "+.inf", "100"} {
		mustLoad(t, `version: 1
populations:
  dc: {model: DCGenerator, size: 1, params: {stop: `+stop+`}}
`)
	}
	net := mustLoad(t, `version: 1
seed: 18446744073709551615
dt: 0.025
populations:
  a: {model: LIF, size: 0x10}
`)
	if net.Seed != math.MaxUint64 || net.Population("a").Size != 16 || net.Dt != 0.025 {
		t.Errorf("seed %d size %d dt %g", net.Seed, net.Population("a").Size, net.Dt)
	}
}

// Several monitors may ask for spikes of one population (they share
// spikes.csv) and record different states.
func TestLoadMonitorsShareSpikes(t *testing.T) {
	net := mustLoad(t, `version: 1
populations:
  cells: {model: ExpLIF, size: 4}
monitors:
  - {population: cells, record: [spikes, V], neurons: [0, 1]}
  - {population: cells, record: [spikes, I_syn], neurons: [2, 3]}
`)
	if len(net.Monitors) != 2 {
		t.Fatalf("%d monitors", len(net.Monitors))
	}
}
