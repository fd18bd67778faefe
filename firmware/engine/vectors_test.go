package engine

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/firmware/image"
)

// The test vectors (firmware/testdata/vectors, firmware/README.md "Test
// vectors"): per vector an encoded image NAME.img and NAME.txt, the host's
// calls before each step and, after each step, the state checksum and
// the spikes recorded. TestVectors replays every committed vector on the
// engine; `go generate ./firmware/engine` (go test -run TestVectors
// -update) writes them again from the definitions below.

var update = flag.Bool("update", false, "rewrite firmware/testdata/vectors from the definitions in vectors_test.go")

const vectorDir = "../testdata/vectors"

// call is one host call before a step: SetInput (op "input"), SetUnit
// ("unit", arg the row) or SetRows ("rows", arg the width).
type call struct {
	op       string
	pop, arg int
	v        []int32
}

type vector struct {
	name, doc string
	img       *image.Image
	steps     int
	calls     func(k int64) []call // nil: none
}

// vectors are the definitions. Together they run every kind, both
// resets, every port count the tests need, currents and spikes, delays
// 0..31, binary outputs, host calls of every sort and saturation.
func vectors() []vector {
	const dt = 0.1
	always := image.Window{First: 0, End: math.MaxInt64}
	var vs []vector

	{ // LIF driven by Poisson, with recurrent inhibition.
		rng := rand.New(rand.NewPCG(11, 1))
		pois := image.Pop{Kind: image.KindPoisson, Size: 30, Win: image.Window{First: 10, End: 350},
			Unit: [][]int32{fill(30, q(0.2)), fill(30, q30(math.Exp(-0.2)))}}
		lif := lifPop(50, dt, 10, 0.04, 15, 0, 300, 20)
		for i := range lif.Unit[image.LIFY0] {
			lif.Unit[image.LIFY0][i] = q(float64(i) * 0.3)
		}
		vs = append(vs, vector{name: "lif_poisson", doc: "Poisson -> LIF (hard reset, 20 refractory steps), LIF -> LIF inhibition, delays 1..8",
			img: &image.Image{Version: image.Version, Seed: 101, Pops: []image.Pop{pois, lif},
				Synapses: []image.Synapse{randomSyn(rng, 0, 1, 30, 50, 6, 2000, 12000, 6, 1, 8), randomSyn(rng, 1, 1, 50, 50, 4, -9000, -1000, 6, 2, 5)},
				Monitors: []image.Monitor{{Pop: 1, Spikes: true, Every: 1}, {Pop: 0, Spikes: true, Every: 1}}},
			steps: 400})
	}
	{ // LIF with a soft reset on a DC current; the host changes both.
		rng := rand.New(rand.NewPCG(12, 1))
		dc := image.Pop{Kind: image.KindDC, Flags: image.FlagCurrent, Size: 4, Win: image.Window{First: 20, End: 300},
			Unit: [][]int32{{q(100.37), q(250.01), q(-80.5), q(399.99)}}}
		lif := lifPop(30, dt, 20, 0.08, 12, 12, 100, 0)
		lif.Flags = image.FlagSoftReset
		vs = append(vs, vector{name: "lif_soft_dc", doc: "DC currents (window 20..299) -> LIF with a soft reset, no refractory period; SetUnit of DC Amp and LIF I_e",
			img: &image.Image{Version: image.Version, Pops: []image.Pop{dc, lif},
				Synapses: []image.Synapse{randomSyn(rng, 0, 1, 4, 30, 10, 20000, 32767, 1, 1, 3)},
				Monitors: []image.Monitor{{Pop: 1, Spikes: true, Every: 1}}},
			steps: 350,
			calls: func(k int64) []call {
				switch k {
				case 150:
					return []call{{op: "unit", pop: 0, arg: image.DCAmp, v: []int32{q(-30.3)}}}
				case 200:
					return []call{{op: "unit", pop: 1, arg: image.LIFIe, v: fill(30, q(160))}}
				}
				return nil
			}})
	}
	{ // ExpLIF with three ports.
		rng := rand.New(rand.NewPCG(13, 1))
		bern := image.Pop{Kind: image.KindBernoulli, Size: 10, Win: always, Unit: [][]int32{fill(10, q30(0.05))}}
		spk := image.Pop{Kind: image.KindSpike, Size: 3, SpikeOff: []uint32{0, 3, 5, 8},
			SpikeStep: []int64{5, 50, 51, 7, 200, 0, 99, 100}, SpikeVal: []int32{One, 2 * One, q(0.3), 3 * One, q(1.7), One, One, One / 2}}
		pois := image.Pop{Kind: image.KindPoisson, Size: 10, Win: always, Unit: [][]int32{fill(10, q(0.3)), fill(10, q30(math.Exp(-0.3)))}}
		taus := []float64{2, 5, 8}
		coefs := []image.Coef{coef(math.Exp(-dt / 10)), coef(0.04 * (1 - math.Exp(-dt/10)))}
		for _, ts := range taus {
			p21 := ts * 10 / (10 - ts) / 250 * math.Exp(-dt/ts) * math.Expm1(dt*(10-ts)/(ts*10))
			coefs = append(coefs, coef(math.Exp(-dt/ts)), coef(p21))
		}
		ex := image.Pop{Kind: image.KindExpLIF, Ports: 3, Size: 20, RefSteps: 15, Coefs: coefs,
			Consts: []int32{q(15), q(0)},
			Unit:   [][]int32{fill(20, q(340)), fill(20, q(5)), fill(20, 0), fill(20, q(20)), fill(20, q(-10))}}
		s2 := randomSyn(rng, 2, 3, 3, 20, 8, 3000, 20000, 8, 1, 9)
		s2.Port = 1
		s3 := randomSyn(rng, 1, 3, 10, 20, 4, -12000, -2000, 8, 1, 4)
		s3.Port = 2
		s4 := randomSyn(rng, 3, 3, 20, 20, 3, -4000, 4000, 8, 1, 31)
		vs = append(vs, vector{name: "explif_ports", doc: "ExpLIF with 3 ports: Bernoulli on 0, Spike (values 0.5..3) on 1, Poisson (inhibitory) on 2, recurrent with delays up to 31",
			img: &image.Image{Version: image.Version, Seed: 103, Pops: []image.Pop{bern, pois, spk, ex},
				Synapses: []image.Synapse{randomSyn(rng, 0, 3, 10, 20, 5, 5000, 30000, 8, 1, 2), s2, s3, s4},
				Monitors: []image.Monitor{{Pop: 3, Spikes: true, Every: 1}, {Pop: 2, Spikes: true, Every: 1}}},
			steps: 400})
	}
	{ // Izhikevich: regular spiking and chattering, DC and spikes.
		rng := rand.New(rand.NewPCG(14, 1))
		izh := func(n int, c, d float64, ie float64) image.Pop {
			p := image.Pop{Kind: image.KindIzhikevich, Ports: 1, Size: uint32(n),
				Coefs:  []image.Coef{coef(dt * 0.04), coef(dt * 5), coef(dt), coef(dt * 0.02), coef(0.2)},
				Consts: []int32{q(dt * 140), q(30), q(c), q(d)},
				Unit:   [][]int32{fill(n, q(ie)), fill(n, q(-65)), fill(n, q(-13))}}
			for i := 0; i < n; i++ {
				p.Unit[image.IzhIe][i] = q(ie + float64(i%5))
			}
			return p
		}
		dc := image.Pop{Kind: image.KindDC, Flags: image.FlagCurrent, Size: 2, Win: image.Window{First: 100, End: 250}, Unit: [][]int32{{q(5.25), q(-3.1)}}}
		spk := image.Pop{Kind: image.KindSpike, Size: 1, SpikeOff: []uint32{0, 4}, SpikeStep: []int64{30, 31, 32, 300}, SpikeVal: []int32{One, One, One, One}}
		vs = append(vs, vector{name: "izhikevich", doc: "Izhikevich regular spiking and chattering populations, DC current (window 100..249), spikes, Izhikevich -> Izhikevich",
			img: &image.Image{Version: image.Version, Pops: []image.Pop{dc, spk, izh(12, -65, 8, 4), izh(8, -50, 2, 6)},
				Synapses: []image.Synapse{randomSyn(rng, 0, 2, 2, 12, 6, 1000, 20000, 0, 1, 2), randomSyn(rng, 1, 3, 1, 8, 8, 5000, 30000, 10, 1, 1),
					randomSyn(rng, 2, 3, 12, 8, 3, -3000, 9000, 10, 1, 12), randomSyn(rng, 3, 2, 8, 12, 3, -9000, 3000, 10, 2, 6)},
				Monitors: []image.Monitor{{Pop: 2, Spikes: true, Every: 1}, {Pop: 3, Spikes: true, Every: 1}}},
			steps: 600})
	}
	{ // Stepwise neurons in a zero-delay stack, fed by the host.
		rng := rand.New(rand.NewPCG(15, 1))
		in := image.Pop{Kind: image.KindInput, Flags: image.FlagBinary, Size: 8}
		snnIF := image.Pop{Kind: image.KindSNNIF, Ports: 1, Size: 6, Consts: []int32{One, 0}, Unit: [][]int32{fill(6, 0)}}
		snnLIF := image.Pop{Kind: image.KindSNNLIF, Flags: image.FlagSoftReset, Ports: 1, Size: 5,
			Coefs: []image.Coef{coef(1.0 / 3), coef(1.0 / 3)}, Consts: []int32{One, One, q(0.1)}, Unit: [][]int32{fill(5, 0)}}
		snnIF2 := image.Pop{Kind: image.KindSNNIF, Flags: image.FlagSoftReset, Ports: 1, Size: 3, Consts: []int32{q(1.5), q(1.5)}, Unit: [][]int32{fill(3, q(0.25))}}
		vs = append(vs, vector{name: "snn_stack", doc: "Input (binary) -> SNNIF -> SNNLIF (soft) with delay 0, SNNLIF -> SNNIF (soft) with delays 0..2; inputs from the host every step",
			img: &image.Image{Version: image.Version, Pops: []image.Pop{in, snnIF, snnLIF, snnIF2},
				Synapses: []image.Synapse{randomSyn(rng, 0, 1, 8, 6, 3, 2000, 20000, 3, 0, 0), randomSyn(rng, 1, 2, 6, 5, 3, -10000, 30000, 3, 0, 0),
					randomSyn(rng, 2, 3, 5, 3, 2, 5000, 30000, 3, 0, 2)},
				Monitors: []image.Monitor{{Pop: 1, Spikes: true, Every: 1}, {Pop: 2, Spikes: true, Every: 1}, {Pop: 3, Spikes: true, Every: 1}}},
			steps: 300,
			calls: func(k int64) []call {
				v := make([]int32, 8)
				for i := range v {
					if (k*7+int64(i)*3)%5 < 2 {
						v[i] = int32(k%4) * One / 2
					}
				}
				return []call{{op: "input", pop: 0, v: v}}
			}})
	}
	{ // A current-mode Input into LIF and Izhikevich.
		rng := rand.New(rand.NewPCG(16, 1))
		in := image.Pop{Kind: image.KindInput, Flags: image.FlagCurrent, Size: 3}
		lif := lifPop(10, dt, 10, 0.04, 15, 0, 200, 20)
		izh := image.Pop{Kind: image.KindIzhikevich, Ports: 1, Size: 5,
			Coefs:  []image.Coef{coef(dt * 0.04), coef(dt * 5), coef(dt), coef(dt * 0.1), coef(0.2)},
			Consts: []int32{q(dt * 140), q(30), q(-65), q(2)},
			Unit:   [][]int32{fill(5, 0), fill(5, q(-70)), fill(5, q(-14))}}
		vs = append(vs, vector{name: "input_current", doc: "current-mode Input -> LIF (delay 1) and Izhikevich (fast spiking, delay 2), values from the host in steps 0..249",
			img: &image.Image{Version: image.Version, Pops: []image.Pop{in, lif, izh},
				Synapses: []image.Synapse{randomSyn(rng, 0, 1, 3, 10, 6, 10000, 32767, 2, 1, 1), randomSyn(rng, 0, 2, 3, 5, 3, 2000, 10000, 0, 2, 2)},
				Monitors: []image.Monitor{{Pop: 1, Spikes: true, Every: 1}, {Pop: 2, Spikes: true, Every: 1}}},
			steps: 300,
			calls: func(k int64) []call {
				if k >= 250 {
					return nil
				}
				return []call{{op: "input", pop: 0, v: []int32{q(50.123 + float64(k%40)), q(-20.7), q(float64(k%7) * 30.31)}}}
			}})
	}
	{ // Custom rows of both widths, replaced by the host.
		rng := rand.New(rand.NewPCG(17, 1))
		rowsAll := []int32{One, 0, 0, q(2.2), q(0.9)}
		var rowsEach []int32
		for j := 0; j < 40*4; j++ {
			rowsEach = append(rowsEach, int32(rng.IntN(3))*One+int32(rng.IntN(One)))
		}
		c1 := image.Pop{Kind: image.KindCustom, Size: 4, Win: image.Window{First: 5, End: 500}, RowWidth: 1, K0: 5, Rows: rowsAll}
		c2 := image.Pop{Kind: image.KindCustom, Flags: image.FlagBinary, Size: 4, Win: image.Window{First: 0, End: 200}, RowWidth: 4, K0: 10, Rows: rowsEach}
		snn := image.Pop{Kind: image.KindSNNLIF, Ports: 1, Size: 6, Coefs: []image.Coef{coef(0.5), coef(0.1)},
			Consts: []int32{One, 0, 0}, Unit: [][]int32{fill(6, 0)}}
		lif := lifPop(6, dt, 10, 0.04, 15, 0, 350, 10)
		vs = append(vs, vector{name: "custom_rows", doc: "Custom generators (width 1 and width Size, binary), SetRows at step 100 -> SNNLIF and LIF",
			img: &image.Image{Version: image.Version, Pops: []image.Pop{c1, c2, snn, lif},
				Synapses: []image.Synapse{randomSyn(rng, 0, 2, 4, 6, 3, 3000, 20000, 4, 1, 3), randomSyn(rng, 1, 2, 4, 6, 3, 3000, 20000, 4, 1, 1),
					randomSyn(rng, 1, 3, 4, 6, 3, 3000, 30000, 6, 1, 2)},
				Monitors: []image.Monitor{{Pop: 0, Spikes: true, Every: 1}, {Pop: 1, Spikes: true, Every: 1}, {Pop: 2, Spikes: true, Every: 1}, {Pop: 3, Spikes: true, Every: 1}}},
			steps: 250,
			calls: func(k int64) []call {
				if k == 100 {
					return []call{{op: "rows", pop: 0, arg: 4, v: []int32{One, 0, One, 0, 0, 3 * One, 0, 0, 2 * One, 2 * One, 2 * One, 2 * One}}}
				}
				return nil
			}})
	}
	{ // Saturation everywhere.
		spk := image.Pop{Kind: image.KindSpike, Size: 4, SpikeOff: []uint32{0, 2, 4, 6, 8},
			SpikeStep: []int64{0, 10, 0, 10, 0, 11, 5, 11}, SpikeVal: []int32{math.MaxInt32, One, math.MaxInt32, One, -One, One, One, math.MinInt32}}
		lif := lifPop(2, dt, 10, 0.04, 15, 0, 0, 2)
		lif.Consts[image.LIFTh] = math.MaxInt32
		lif.Unit[image.LIFY0] = []int32{math.MaxInt32 - 5, math.MinInt32 + 5}
		lif.Unit[image.LIFIe] = []int32{math.MaxInt32, math.MinInt32}
		snn := image.Pop{Kind: image.KindSNNIF, Flags: image.FlagSoftReset, Ports: 1, Size: 2, Consts: []int32{math.MaxInt32, math.MaxInt32}, Unit: [][]int32{{math.MaxInt32, math.MinInt32}}}
		all := func(pre, post uint32, nPost int, m int16) image.Synapse {
			s := image.Synapse{Pre: pre, Post: post, Shift: 16, Off: []uint32{0}}
			for i := 0; i < 4; i++ {
				for j := 0; j < nPost; j++ {
					s.Target = append(s.Target, uint32(j))
					s.Weight = append(s.Weight, m)
					s.Delay = append(s.Delay, 1)
				}
				s.Off = append(s.Off, uint32(len(s.Target)))
			}
			return s
		}
		vs = append(vs, vector{name: "saturation", doc: "values and weights at the int32 limits: deliveries, accumulators, LIF and SNNIF sums saturate (counted)",
			img: &image.Image{Version: image.Version, Pops: []image.Pop{spk, lif, snn},
				Synapses: []image.Synapse{all(0, 1, 2, 32767), all(0, 2, 2, -32768)},
				Monitors: []image.Monitor{{Pop: 1, Spikes: true, Every: 1}, {Pop: 2, Spikes: true, Every: 1}}},
			steps: 30})
	}
	{ // Every kind at once.
		vs = append(vs, vector{name: "zoo", doc: "every kind, currents and spikes, ports, delays 0..9, state monitors of every sort; Input driven every step",
			img: zoo(), steps: 500,
			calls: func(k int64) []call {
				v := make([]int32, 4)
				for i := range v {
					if (k+int64(i))%3 == 0 {
						v[i] = One
					}
				}
				return []call{{op: "input", pop: 5, v: v}}
			}})
	}
	return vs
}

// apply performs a host call.
func apply(e *Engine, c call) error {
	switch c.op {
	case "input":
		return e.SetInput(c.pop, c.v)
	case "unit":
		return e.SetUnit(c.pop, c.arg, c.v)
	case "rows":
		return e.SetRows(c.pop, c.arg, c.v)
	}
	return fmt.Errorf("unknown call %q", c.op)
}

// record runs a vector and writes its text.
func record(t *testing.T, v vector, imgFile string, sum [32]byte) []byte {
	e := mustNew(t, v.img)
	var b bytes.Buffer
	fmt.Fprintf(&b, "# spikeloop firmware test vector %s: %s\n", v.name, v.doc)
	fmt.Fprintf(&b, "# regenerate: go generate ./firmware/engine; format: firmware/README.md, \"Test vectors\"\n")
	fmt.Fprintf(&b, "image %s %s\nsteps %d\ninit %08x\n", imgFile, hex.EncodeToString(sum[:]), v.steps, e.Checksum())
	var sp []Spike
	var rows []Row
	var vals []int32
	for k := int64(0); k < int64(v.steps); k++ {
		if v.calls != nil {
			for _, c := range v.calls(k) {
				if err := apply(e, c); err != nil {
					t.Fatalf("%s: step %d: %v", v.name, k, err)
				}
				fmt.Fprintf(&b, "%s %d %d", c.op, k, c.pop)
				if c.op != "input" {
					fmt.Fprintf(&b, " %d", c.arg)
				}
				for _, x := range c.v {
					fmt.Fprintf(&b, " %d", x)
				}
				b.WriteByte('\n')
			}
		}
		e.Step()
		sp = e.DrainSpikes(sp[:0])
		rows, vals = e.DrainRows(rows[:0], vals[:0])
		fmt.Fprintf(&b, "step %d %08x", k, e.Checksum())
		for _, s := range sp {
			fmt.Fprintf(&b, " %d:%d", s.Pop, s.Unit)
		}
		b.WriteByte('\n')
	}
	if e.Dropped() != 0 {
		t.Fatalf("%s: %d records dropped", v.name, e.Dropped())
	}
	for p := range v.img.Pops {
		if n := e.Saturations(p); n != 0 {
			fmt.Fprintf(&b, "saturations %d %d\n", p, n)
		}
	}
	return b.Bytes()
}

func writeVectors(t *testing.T) {
	if err := os.MkdirAll(vectorDir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, v := range vectors() {
		enc := image.Encode(v.img)
		img, err := image.Decode(enc)
		if err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		v.img = img // run what a chip would decode
		imgFile := v.name + ".img"
		txt := record(t, v, imgFile, sha256.Sum256(enc))
		if err := os.WriteFile(filepath.Join(vectorDir, imgFile), enc, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(vectorDir, v.name+".txt"), txt, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s: image %d bytes, %d steps", v.name, len(enc), v.steps)
	}
}

// TestVectors replays every committed vector: the image decoded from its
// file (its SHA-256 as recorded), the host's calls, and after every step
// the checksum and the spikes exactly as recorded.
func TestVectors(t *testing.T) {
	if *update {
		writeVectors(t)
	}
	files, err := filepath.Glob(filepath.Join(vectorDir, "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 8 {
		t.Fatalf("%d vectors in %s, want at least 8", len(files), vectorDir)
	}
	kinds := map[image.Kind]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".txt")
		t.Run(name, func(t *testing.T) {
			for _, k := range replay(t, f) {
				kinds[k] = true
			}
		})
	}
	for _, k := range []image.Kind{image.KindLIF, image.KindExpLIF, image.KindIzhikevich, image.KindSNNIF, image.KindSNNLIF,
		image.KindDC, image.KindPoisson, image.KindBernoulli, image.KindSpike, image.KindCustom, image.KindInput} {
		if !kinds[k] {
			t.Errorf("no vector runs kind %s", image.KindName(k))
		}
	}
}

// replay checks one vector file and returns the kinds its image runs.
func replay(t *testing.T, file string) []image.Kind {
	fh, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var e *Engine
	var kinds []image.Kind
	var sp []Spike
	var rows []Row
	var vals []int32
	steps, done := -1, 0
	line := 0
	num := func(s string) int64 {
		x, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			t.Fatalf("%s:%d: %v", file, line, err)
		}
		return x
	}
	for sc.Scan() {
		line++
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		switch f[0] {
		case "image":
			b, err := os.ReadFile(filepath.Join(filepath.Dir(file), f[1]))
			if err != nil {
				t.Fatal(err)
			}
			if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f[2] {
				t.Fatalf("%s: SHA-256 %x, recorded %s", f[1], sum, f[2])
			}
			img, err := image.Decode(b)
			if err != nil {
				t.Fatalf("%s: %v", f[1], err)
			}
			for _, p := range img.Pops {
				kinds = append(kinds, p.Kind)
			}
			e = mustNew(t, img)
		case "steps":
			steps = int(num(f[1]))
		case "init":
			if got := fmt.Sprintf("%08x", e.Checksum()); got != f[1] {
				t.Fatalf("%s:%d: initial checksum %s, recorded %s", file, line, got, f[1])
			}
		case "input", "unit", "rows":
			c := call{op: f[0], pop: int(num(f[2]))}
			if k := num(f[1]); k != e.Now() {
				t.Fatalf("%s:%d: a call for step %d at step %d", file, line, k, e.Now())
			}
			vals := f[3:]
			if c.op != "input" {
				c.arg, vals = int(num(f[3])), f[4:]
			}
			for _, s := range vals {
				c.v = append(c.v, int32(num(s)))
			}
			if err := apply(e, c); err != nil {
				t.Fatalf("%s:%d: %v", file, line, err)
			}
		case "step":
			if k := num(f[1]); k != e.Now() {
				t.Fatalf("%s:%d: step %d recorded, engine at %d", file, line, k, e.Now())
			}
			e.Step()
			done++
			sp = e.DrainSpikes(sp[:0])
			rows, vals = e.DrainRows(rows[:0], vals[:0])
			if got := fmt.Sprintf("%08x", e.Checksum()); got != f[2] {
				t.Fatalf("%s:%d: step %s: checksum %s, recorded %s", file, line, f[1], got, f[2])
			}
			if len(sp) != len(f)-3 {
				t.Fatalf("%s:%d: step %s: %d spikes, recorded %d", file, line, f[1], len(sp), len(f)-3)
			}
			for i, s := range sp {
				if got := fmt.Sprintf("%d:%d", s.Pop, s.Unit); got != f[3+i] {
					t.Fatalf("%s:%d: step %s: spike %d is %s, recorded %s", file, line, f[1], i, got, f[3+i])
				}
			}
		case "saturations":
			if got := e.Saturations(int(num(f[1]))); got != uint64(num(f[2])) {
				t.Fatalf("%s:%d: %d saturations in population %s, recorded %s", file, line, got, f[1], f[2])
			}
		default:
			t.Fatalf("%s:%d: unknown line %q", file, line, f[0])
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if e == nil || done != steps || steps <= 0 {
		t.Fatalf("%s: %d steps replayed, %d declared", file, done, steps)
	}
	return kinds
}
