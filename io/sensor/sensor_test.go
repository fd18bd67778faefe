package sensor

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/spikeloop/spikeloop/hal/haltest"
	"github.com/spikeloop/spikeloop/models"
)

// The generators the encoders drive, and the shared fake source, have
// the method sets the encoders and inputs take.
var (
	_ AmplitudeSetter = (*models.DCGenerator)(nil)
	_ DataSetter      = (*models.CustomGenerator)(nil)
	_ Source          = (*haltest.Source)(nil)
)

// recorder is an InputSetter that keeps the last values per step.
type recorder struct {
	pop   string
	steps [][]float64
}

func (r *recorder) SetInput(pop string, v []float64) error {
	r.pop = pop
	r.steps = append(r.steps, append([]float64(nil), v...))
	return nil
}

// sink is an InputSetter that does nothing (for allocation tests).
type sink struct{}

func (sink) SetInput(string, []float64) error { return nil }

func TestCurrent(t *testing.T) {
	cases := []struct {
		name string
		lin  Linear
		in   float64
		want float64
	}{
		{"gain and offset", Linear{Gain: 100, Offset: 10, Min: -1000, Max: 1000}, 2, 210},
		{"clamped high", Linear{Gain: 100, Min: 0, Max: 150}, 2, 150},
		{"clamped low", Linear{Gain: 100, Min: 50, Max: 150}, -2, 50},
		{"negative gain", Linear{Gain: -1, Min: -10, Max: 10}, 3, -3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{}
			enc, err := NewCurrent(r, "eye", 3, c.lin)
			if err != nil {
				t.Fatal(err)
			}
			enc.Encode(c.in)
			for s := 0; s < 4; s++ {
				if err := enc.Step(s); err != nil {
					t.Fatal(err)
				}
			}
			if r.pop != "eye" || len(r.steps) != 4 {
				t.Fatalf("got pop %q, %d steps; want eye, 4 (the value is given on every step)", r.pop, len(r.steps))
			}
			for _, row := range r.steps {
				for _, x := range row {
					if x != c.want {
						t.Fatalf("got %v, want %v", row, c.want)
					}
				}
			}
		})
	}
}

func TestConstructorErrors(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"current size", second(NewCurrent(sink{}, "p", 0, Linear{Max: 1})), "size: must be > 0, got 0"},
		{"current clamp", second(NewCurrent(sink{}, "p", 1, Linear{Min: 2, Max: 1})), "clamp: must be finite min <= max, got [2, 1]"},
		{"current gain", second(NewCurrent(sink{}, "p", 1, Linear{Gain: math.NaN(), Max: 1})), "gain: must be a finite number, got NaN"},
		{"rate max", second(NewRate(sink{}, "p", 1, 1, 20000, 0.1, 1)), "max_hz: must be in (0, 10000] (one spike per step of 0.1 ms), got 20000"},
		{"rate dt", second(NewRate(sink{}, "p", 1, 1, 100, 0, 1)), "dt: must be > 0 ms, got 0 ms"},
		{"delta step", second(NewDelta(sink{}, "p", 0, 10)), "step: must be a finite number > 0, got 0"},
		{"dc nil", second(NewDC(nil, Linear{})), "no generator"},
		{"input safe", second(NewInput("x", haltest.NewSource(0), nil, math.Inf(1))), `sensor "x": safe: must be a finite number, got +Inf`},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, c.err, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestRate(t *testing.T) {
	cases := []struct {
		name   string
		value  float64
		gain   float64
		wantHz float64
	}{
		{"zero", 0, 100, 0},
		{"100 Hz", 1, 100, 100},
		{"capped", 100, 100, 500},
		{"negative is zero", -1, 100, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{}
			enc, err := NewRate(r, "eye", 10, c.gain, 500, 0.1, 42)
			if err != nil {
				t.Fatal(err)
			}
			enc.Encode(c.value)
			const steps = 20000 // 2 s at dt 0.1 ms
			n := 0
			for s := 0; s < steps; s++ {
				if err := enc.Step(s); err != nil {
					t.Fatal(err)
				}
			}
			for _, row := range r.steps {
				for _, x := range row {
					if x != 0 && x != 1 {
						t.Fatalf("spike value %v, want 0 or 1", x)
					}
					n += int(x)
				}
			}
			hz := float64(n) / 10 / 2.0
			// Poisson count over 20 unit-seconds: 5 sigma of sqrt(N).
			tol := 5 * math.Sqrt(c.wantHz*20) / 20
			if math.Abs(hz-c.wantHz) > tol+1e-9 {
				t.Errorf("rate %v Hz, want %v ± %.1f", hz, c.wantHz, tol)
			}
		})
	}
}

func TestRateSeeded(t *testing.T) {
	run := func(seed uint64) []float64 {
		r := &recorder{}
		enc, _ := NewRate(r, "eye", 4, 100, 1000, 0.1, seed)
		enc.Encode(3)
		var out []float64
		for s := 0; s < 200; s++ {
			_ = enc.Step(s)
		}
		for _, row := range r.steps {
			out = append(out, row...)
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	same := func(x, y []float64) bool {
		for i := range x {
			if x[i] != y[i] {
				return false
			}
		}
		return true
	}
	if !same(a, b) {
		t.Error("same seed gave different spikes")
	}
	if same(a, c) {
		t.Error("different seeds gave the same spikes")
	}
}

func TestDelta(t *testing.T) {
	cases := []struct {
		name     string
		values   []float64 // one per tick
		up, down []int     // spikes per tick
	}{
		{"first value sets the reference", []float64{5}, []int{0}, []int{0}},
		{"below a step", []float64{0, 0.09, 0.05}, []int{0, 0, 0}, []int{0, 0, 0}},
		{"one step up", []float64{0, 0.15}, []int{0, 1}, []int{0, 0}},
		{"three steps up then one down", []float64{0, 0.35, 0.15}, []int{0, 3, 0}, []int{0, 0, 1}},
		{"reference moves by whole steps", []float64{0, 0.15, 0.25}, []int{0, 1, 1}, []int{0, 0, 0}},
		{"jump capped at steps per tick", []float64{0, 10, 10}, []int{0, 4, 0}, []int{0, 0, 0}},
		{"down jump capped", []float64{0, -10, -10.05}, []int{0, 0, 0}, []int{0, 4, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := &recorder{}
			const steps = 4
			enc, err := NewDelta(r, "d", 0.1, steps)
			if err != nil {
				t.Fatal(err)
			}
			for tick, v := range c.values {
				r.steps = nil
				enc.Encode(v)
				for s := 0; s < steps; s++ {
					if err := enc.Step(s); err != nil {
						t.Fatal(err)
					}
				}
				up, down := 0, 0
				for _, row := range r.steps {
					up += int(row[0])
					down += int(row[1])
				}
				if up != c.up[tick] || down != c.down[tick] {
					t.Errorf("tick %d value %v: up %d down %d, want %d %d", tick, v, up, down, c.up[tick], c.down[tick])
				}
			}
		})
	}
}

func TestDCIntoGenerator(t *testing.T) {
	net, err := models.Load([]byte(`
version: 1
dt: 0.1
populations:
  drive: {model: DCGenerator, size: 2, params: {amplitude: 0.0}}
`), "dc.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	gen := net.Populations[0].Model.(*models.DCGenerator)
	enc, err := NewDC(gen, Linear{Gain: 10, Offset: 1, Min: 0, Max: 50})
	if err != nil {
		t.Fatal(err)
	}
	enc.Encode(3)
	for s := 0; s < 3; s++ {
		if err := enc.Step(s); err != nil {
			t.Fatal(err)
		}
	}
	out := make([]float64, 2)
	gen.Emit(0, out)
	if out[0] != 31 || out[1] != 31 {
		t.Errorf("amplitude %v, want 31 for both units", out)
	}
	enc.Encode(100)
	_ = enc.Step(0)
	gen.Emit(1, out)
	if out[0] != 50 {
		t.Errorf("amplitude %v, want the clamp 50", out)
	}
}

func TestInputSafeAndStale(t *testing.T) {
	r := &recorder{}
	enc, _ := NewCurrent(r, "eye", 1, Linear{Gain: 1, Min: -100, Max: 100})
	nan := math.NaN()
	src := haltest.NewSource(1, nan, nan, 4)
	in, err := NewInput("left", src, enc, -7)
	if err != nil {
		t.Fatal(err)
	}
	wantGood := []bool{true, false, false, true}
	wantStale := []int{0, 1, 2, 0}
	wantVal := []float64{1, -7, -7, 4}
	for tick := range wantGood {
		good := in.Read()
		if good != wantGood[tick] || in.Stale() != wantStale[tick] || in.Value() != wantVal[tick] {
			t.Errorf("tick %d: good %v stale %d value %v; want %v %d %v", tick, good, in.Stale(), in.Value(), wantGood[tick], wantStale[tick], wantVal[tick])
		}
	}
	if !errors.Is(in.Err(), haltest.ErrRead) {
		t.Errorf("Err() = %v, want the read error", in.Err())
	}
}

func TestInputNotFinite(t *testing.T) {
	enc, _ := NewCurrent(sink{}, "eye", 1, Linear{Max: 1})
	in, _ := NewInput("x", haltest.NewSource(math.Inf(1)), enc, 0)
	if in.Read() || !errors.Is(in.Err(), ErrNotFinite) || in.Value() != 0 {
		t.Errorf("an infinite reading must be replaced by the safe value: value %v err %v", in.Value(), in.Err())
	}
}

type nopGen struct{}

func (nopGen) SetAmplitude([]float64) error { return nil }

func TestZeroAllocations(t *testing.T) {
	src := haltest.NewSource(0.1, 0.5, math.NaN(), 0.9, -0.4)
	cur, _ := NewCurrent(sink{}, "a", 8, Linear{Gain: 1, Max: 10})
	rate, _ := NewRate(sink{}, "b", 8, 1000, 1000, 0.1, 1)
	delta, _ := NewDelta(sink{}, "c", 0.1, 10)
	dc, _ := NewDC(nopGen{}, Linear{Gain: 1, Max: 10})
	for _, enc := range []Encoder{cur, rate, delta, dc} {
		in, _ := NewInput("x", src, enc, 0)
		allocs := testing.AllocsPerRun(100, func() {
			in.Read()
			for s := 0; s < 10; s++ {
				_ = in.Step(s)
			}
		})
		if allocs != 0 {
			t.Errorf("%T: %v allocations per tick, want 0", enc, allocs)
		}
	}
}

func TestCustomWindow(t *testing.T) {
	net, err := models.Load([]byte(`
version: 1
dt: 0.1
populations:
  taps: {model: CustomGenerator, size: 3, params: {data: [0.0]}}
`), "custom.yaml", models.NewRegistry(), models.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	gen := net.Populations[0].Model.(*models.CustomGenerator)
	var k stepCounter
	enc, err := NewCustom(gen, &k, 3, 2, Linear{Gain: 1, Min: 0, Max: 5})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, 3)
	cases := []struct {
		value float64
		want  []float64 // every step of the tick
	}{
		{1, []float64{1, 0, 0}},
		{2, []float64{2, 1, 0}},
		{9, []float64{5, 2, 1}}, // clamped to 5
		{-1, []float64{0, 5, 2}},
	}
	for tick, c := range cases {
		enc.Encode(c.value)
		for s := 0; s < 2; s++ {
			if err := enc.Step(s); err != nil {
				t.Fatal(err)
			}
			gen.Emit(int64(k), out)
			for i := range out {
				if out[i] != c.want[i] {
					t.Fatalf("tick %d step %d: %v, want %v", tick, s, out, c.want)
				}
			}
			k++
		}
	}
	if _, err := NewCustom(gen, &k, 3, 2, Linear{Gain: 1, Min: -1, Max: 5}); err == nil || !strings.Contains(err.Error(), "min: must be >= 0 (spike values), got -1") {
		t.Errorf("negative clamp: %v", err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		enc.Encode(0.5)
		_ = enc.Step(0)
		_ = enc.Step(1)
	})
	if allocs != 0 {
		t.Errorf("%v allocations per tick", allocs)
	}
}

type stepCounter int64

func (s *stepCounter) Now() int64 { return int64(*s) }
