package actuator

import (
	"errors"
	"math"
	"strings"
	"testing"

	"periph.io/x/conn/v3/gpio"

	"github.com/spikeloop/spikeloop/hal/haltest"
)

var errBus = errors.New("bus error")

// levels, duties and volts are the values a haltest.Bank recorded, by
// kind, in order.
func levels(b *haltest.Bank) (out []gpio.Level) {
	for _, w := range b.Writes() {
		if w.Kind == haltest.KindOut {
			out = append(out, w.Level)
		}
	}
	return out
}

func duties(b *haltest.Bank) (out []gpio.Duty) {
	for _, w := range b.Writes() {
		if w.Kind == haltest.KindPWM {
			out = append(out, w.Duty)
		}
	}
	return out
}

func volts(b *haltest.Bank) (out []float64) {
	for _, w := range b.Writes() {
		if w.Kind == haltest.KindDAC {
			out = append(out, w.Volts)
		}
	}
	return out
}

func TestPulse(t *testing.T) {
	L, H := gpio.Low, gpio.High
	cases := []struct {
		name   string
		idle   gpio.Level
		width  int
		spikes []int        // spikes per tick
		want   []gpio.Level // level after each tick
		writes int
	}{
		{"one spike width 1", L, 1, []int{0, 1, 0, 0}, []gpio.Level{L, H, L, L}, 3},
		{"one spike width 3", L, 3, []int{1, 0, 0, 0, 0}, []gpio.Level{H, H, H, L, L}, 2},
		{"spike during a pulse extends it", L, 2, []int{1, 0, 1, 0, 0}, []gpio.Level{H, H, H, H, L}, 2},
		{"many spikes in a tick are one pulse", L, 1, []int{5, 0}, []gpio.Level{H, L}, 2},
		{"active low", H, 1, []int{0, 1, 0}, []gpio.Level{H, L, H}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := haltest.NewBank(nil)
			p, err := NewPulse(b.DigitalOut("out"), c.idle, c.width)
			if err != nil {
				t.Fatal(err)
			}
			for tick, n := range c.spikes {
				for i := 0; i < n; i++ {
					p.Spike(0)
				}
				if err := p.Update(); err != nil {
					t.Fatal(err)
				}
				if p.Level() != c.want[tick] {
					t.Errorf("tick %d: level %v, want %v", tick, p.Level(), c.want[tick])
				}
			}
			if got := levels(b); len(got) != c.writes {
				t.Errorf("%d writes %v, want %d (only changes are written)", len(got), got, c.writes)
			}
		})
	}
}

func TestRate(t *testing.T) {
	cases := []struct {
		name     string
		cfg      RateConfig
		perTick  []int // spikes per tick, summed over units
		wantHz   float64
		wantDuty float64
	}{
		// 10 ticks of 1 ms, 2 units: 4 spikes in 10 ms over 2 units = 200 Hz.
		{"mean rate per unit", RateConfig{Size: 2, Window: 10, Tick: 0.001, Gain: 0.001, Max: 1}, []int{1, 1, 1, 1, 0, 0, 0, 0, 0, 0}, 200, 0.2},
		{"clamped to max", RateConfig{Size: 1, Window: 10, Tick: 0.001, Gain: 0.01, Max: 0.7}, []int{1, 1, 1, 1, 1, 0, 0, 0, 0, 0}, 500, 0.7},
		{"floor at min", RateConfig{Size: 1, Window: 5, Tick: 0.001, Gain: 0.01, Min: 0.3, Max: 1}, []int{0, 0, 0}, 0, 0.3},
		{"old spikes leave the window", RateConfig{Size: 1, Window: 2, Tick: 0.001, Gain: 0.001, Max: 1}, []int{5, 0, 0}, 0, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := haltest.NewBank(nil)
			r, err := NewRate(b.PWM("motor"), c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range c.perTick {
				for i := 0; i < n; i++ {
					r.Spike(i % c.cfg.Size)
				}
				if err := r.Update(); err != nil {
					t.Fatal(err)
				}
			}
			if math.Abs(r.Hz()-c.wantHz) > 1e-9 {
				t.Errorf("rate %v Hz, want %v", r.Hz(), c.wantHz)
			}
			if want := duty(c.wantDuty); r.Duty() != want || duties(b)[len(duties(b))-1] != want {
				t.Errorf("duty %v, want %v", r.Duty(), want)
			}
		})
	}
}

func TestVector(t *testing.T) {
	cfg := VectorConfig{Size: 5, Window: 3, From: 0, To: 4, Safe: 1.5}
	cases := []struct {
		name  string
		ticks [][]int // units that spike, per tick
		want  float64
	}{
		{"no spike holds the safe value", [][]int{{}, {}}, 1.5},
		{"one unit", [][]int{{3}}, 3},
		{"weighted mean", [][]int{{0, 4, 4, 4}}, 3},
		{"window slides", [][]int{{0}, {}, {}, {4}}, 4},
		{"held after the window empties", [][]int{{2}, {}, {}, {}, {}}, 2},
		{"unit out of range ignored", [][]int{{9, 1}}, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := haltest.NewBank(nil)
			v, err := NewVector(b.DAC("dac", 10), cfg)
			if err != nil {
				t.Fatal(err)
			}
			for _, units := range c.ticks {
				for _, u := range units {
					v.Spike(u)
				}
				if err := v.Update(); err != nil {
					t.Fatal(err)
				}
			}
			if v.Volts() != c.want || volts(b)[len(volts(b))-1] != c.want {
				t.Errorf("volts %v, want %v", v.Volts(), c.want)
			}
		})
	}
}

func TestSafe(t *testing.T) {
	b := haltest.NewBank(nil)
	p, _ := NewPulse(b.DigitalOut("out"), gpio.Low, 10)
	r, _ := NewRate(b.PWM("motor"), RateConfig{Size: 1, Window: 10, Tick: 0.001, Gain: 0.01, Max: 1, Safe: 0.25})
	v, _ := NewVector(b.DAC("dac", 10), VectorConfig{Size: 2, Window: 10, From: 0, To: 2, Safe: 0.5})
	for _, d := range []Decoder{p, r, v} {
		d.Spike(1)
		_ = d.Update()
		if err := d.Safe(); err != nil {
			t.Fatal(err)
		}
		// After Safe the decoder starts from rest: no memory of the spike.
		_ = d.Update()
	}
	if got := levels(b)[len(levels(b))-1]; got != gpio.Low || p.Level() != gpio.Low {
		t.Errorf("pulse after Safe: %v, want low", got)
	}
	if r.Hz() != 0 || r.Duty() != 0 {
		t.Errorf("rate after Safe then Update: %v Hz duty %v, want 0 (window cleared)", r.Hz(), r.Duty())
	}
	if d := duties(b); d[len(d)-2] != duty(0.25) {
		t.Errorf("safe duty %v, want %v", d[len(d)-2], duty(0.25))
	}
	if v.Volts() != 0.5 {
		t.Errorf("vector after Safe: %v V, want 0.5", v.Volts())
	}
}

func TestWriteErrorRetried(t *testing.T) {
	b := haltest.NewBank(nil)
	b.Fail("out", errBus)
	p, _ := NewPulse(b.DigitalOut("out"), gpio.Low, 1)
	if err := p.Safe(); !errors.Is(err, errBus) {
		t.Fatalf("Safe: %v, want the bus error", err)
	}
	b.Fail("out", nil)
	if err := p.Update(); err != nil || len(levels(b)) != 1 {
		t.Errorf("after a failed write the next Update must write again: %v, writes %v", err, levels(b))
	}
}

func TestConstructorErrors(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want string
	}{
		{"pulse width", second(NewPulse(haltest.Discard{}, gpio.Low, 0)), "width: must be >= 1 tick, got 0"},
		{"pulse nil", second(NewPulse(nil, gpio.Low, 1)), "no output"},
		{"rate window", second(NewRate(haltest.Discard{}, RateConfig{Size: 1, Tick: 1, Max: 1})), "window: must be >= 1 tick, got 0"},
		{"rate range", second(NewRate(haltest.Discard{}, RateConfig{Size: 1, Window: 1, Tick: 1, Min: 0.8, Max: 0.2})), "min, max: must be 0 <= min <= max <= 1, got [0.8, 0.2]"},
		{"rate safe", second(NewRate(haltest.Discard{}, RateConfig{Size: 1, Window: 1, Tick: 1, Max: 1, Safe: 2})), "safe: must be a duty in [0, 1], got 2"},
		{"rate tick", second(NewRate(haltest.Discard{}, RateConfig{Size: 1, Window: 1, Max: 1})), "tick: must be > 0 s, got 0 s"},
		{"vector size", second(NewVector(haltest.Discard{}, VectorConfig{Window: 1})), "size: must be >= 1, got 0"},
		{"vector from", second(NewVector(haltest.Discard{}, VectorConfig{Size: 1, Window: 1, From: math.NaN()})), "from: must be a finite number, got NaN"},
	}
	for _, c := range cases {
		if c.err == nil || !strings.Contains(c.err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, c.err, c.want)
		}
	}
}

func second[T any](_ T, err error) error { return err }

func TestZeroAllocations(t *testing.T) {
	p, _ := NewPulse(haltest.Discard{}, gpio.Low, 3)
	r, _ := NewRate(haltest.Discard{}, RateConfig{Size: 8, Window: 50, Tick: 0.001, Gain: 0.01, Max: 1})
	v, _ := NewVector(haltest.Discard{}, VectorConfig{Size: 8, Window: 50, From: 0, To: 3})
	for _, d := range []Decoder{p, r, v} {
		tick := 0
		allocs := testing.AllocsPerRun(200, func() {
			tick++
			for u := 0; u < tick%5; u++ {
				d.Spike(u)
			}
			_ = d.Update()
			if tick%50 == 0 {
				_ = d.Safe()
			}
		})
		if allocs != 0 {
			t.Errorf("%T: %v allocations per tick, want 0", d, allocs)
		}
	}
}
