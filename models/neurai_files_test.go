package models_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/cpu"
	"github.com/spikeloop/spikeloop/models"
)

// expectation is the header of a file in testdata/neurai:
//
//	# expect: ok | error
//	# contains: TEXT   (error: in the message; ok: "spikes" = some spike recorded)
//	# lacks: TEXT      (not in the error message)
type expectation struct {
	ok       bool
	contains []string
	lacks    []string
}

func readExpectation(t *testing.T, path string) expectation {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var e expectation
	seen := false
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "# ")
		if !ok {
			continue
		}
		key, val, _ := strings.Cut(rest, ": ")
		switch key {
		case "expect":
			seen, e.ok = true, val == "ok"
		case "contains":
			e.contains = append(e.contains, val)
		case "lacks":
			e.lacks = append(e.lacks, val)
		}
	}
	if !seen {
		t.Fatalf("%s: no '# expect:' line", path)
	}
	return e
}

// TestNeuraiFiles loads (and, when valid, runs) every network file in
// testdata/neurai: the spellings, refusals and decisions of the model
// reference's porting page, each with its outcome asserted.
func TestNeuraiFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "neurai", "*.yaml"))
	if err != nil || len(files) < 20 {
		t.Fatalf("want at least 20 files in testdata/neurai, got %d (%v)", len(files), err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			e := readExpectation(t, path)
			net, err := models.LoadFile(path, models.NewRegistry(), models.DefaultLimits)
			if !e.ok {
				if err == nil {
					t.Fatalf("loaded; want an error containing %q", e.contains)
				}
				for _, c := range e.contains {
					if !strings.Contains(err.Error(), c) {
						t.Errorf("error lacks %q:\n%v", c, err)
					}
				}
				for _, c := range e.lacks {
					if strings.Contains(err.Error(), c) {
						t.Errorf("error has %q:\n%v", c, err)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			eng := cpu.New()
			if err := eng.Load(net); err != nil {
				t.Fatal(err)
			}
			if err := eng.Advance(int(net.Steps())); err != nil {
				t.Fatal(err)
			}
			var rec apu.Record
			eng.Drain(&rec)
			for _, c := range e.contains {
				if c == "spikes" && len(rec.Spikes) == 0 {
					t.Errorf("no spike recorded in %d steps", net.Steps())
				}
			}
		})
	}
}

// TestPortedModels: for each of neurai's 22 classes, a file written from
// neurai's constructor signature (every argument with its default, enums
// and surrogates as neurai spells them) loads and runs unedited.
func TestPortedModels(t *testing.T) {
	reg := models.NewRegistry()
	if n := len(reg.Classes()); n != 22 {
		t.Errorf("%d classes registered, neurai.nn.neuron has 22", n)
	}
	for _, c := range reg.Classes() {
		t.Run(c.Name, func(t *testing.T) {
			path := filepath.Join("testdata", "neurai", "ported", c.Name+".yaml")
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			// Every listed parameter is written out, so that none of
			// neurai's arguments goes untried.
			for _, p := range c.Params {
				if !strings.Contains(string(data), "\n      "+p.Name+": ") {
					t.Errorf("%s does not give %s", path, p.Name)
				}
			}
			net, err := models.LoadFile(path, reg, models.DefaultLimits)
			if err != nil {
				t.Fatal(err)
			}
			eng := cpu.New()
			if err := eng.Load(net); err != nil {
				t.Fatal(err)
			}
			if err := eng.Advance(int(net.Steps())); err != nil {
				t.Fatal(err)
			}
		})
	}
}
