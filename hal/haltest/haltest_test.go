package haltest

import (
	"errors"
	"math"
	"testing"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/spikeloop/spikeloop/hal"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func TestClock(t *testing.T) {
	c := NewClock(t0)
	if !c.Now().Equal(t0) {
		t.Fatal(c.Now())
	}
	c.Sleep(time.Second)
	c.Sleep(-time.Second) // ignored
	if got := c.Advance(500 * time.Millisecond); !got.Equal(t0.Add(1500 * time.Millisecond)) {
		t.Errorf("Advance: %v", got)
	}
	if c.Since(t0) != 1500*time.Millisecond {
		t.Errorf("Since: %v", c.Since(t0))
	}
	c.Set(t0)
	if !c.Now().Equal(t0) {
		t.Error("Set")
	}
}

func TestBankRecordsWithTime(t *testing.T) {
	c := NewClock(t0)
	b := NewBank(c)
	led := b.DigitalOut("led")
	m := b.PWM("motor")
	d := b.DAC("bias", 3.3)
	m.SafeDuty = gpio.DutyMax / 10

	_ = led.Out(gpio.High)
	c.Advance(time.Millisecond)
	_ = m.SetDuty(gpio.DutyHalf)
	c.Advance(time.Millisecond)
	_ = d.SetVolts(1.5)
	if err := m.SetDuty(gpio.DutyMax + 1); !errors.Is(err, hal.ErrDuty) {
		t.Errorf("bad duty: %v", err)
	}
	if err := d.SetVolts(3.4); !errors.Is(err, hal.ErrRange) {
		t.Errorf("bad volts: %v", err)
	}
	want := []Write{
		{At: t0, Part: "led", Kind: KindOut, Level: gpio.High},
		{At: t0.Add(time.Millisecond), Part: "motor", Kind: KindPWM, Duty: gpio.DutyHalf},
		{At: t0.Add(2 * time.Millisecond), Part: "bias", Kind: KindDAC, Volts: 1.5},
	}
	got := b.Writes()
	if len(got) != len(want) {
		t.Fatalf("writes %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("write %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if w, ok := b.Last("motor"); !ok || w.Duty != gpio.DutyHalf {
		t.Errorf("Last(motor) = %+v, %v", w, ok)
	}
	if len(b.Of("led")) != 1 {
		t.Error("Of(led)")
	}

	// Halt writes every safe value, marked, and keeps going past a
	// failing part.
	b.Reset()
	boom := errors.New("boom")
	b.Fail("led", boom)
	if err := b.Halt(); !errors.Is(err, boom) {
		t.Errorf("Halt: %v", err)
	}
	hw := b.Writes()
	if len(hw) != 2 || !hw[0].Halt || hw[0].Duty != m.SafeDuty || hw[1].Volts != 0 || b.Halts() != 1 {
		t.Errorf("halt writes %+v", hw)
	}
}

func TestScriptedADC(t *testing.T) {
	a := NewScriptedADC(10, 3.3, 0, 1.65, 3.3, -1)
	boom := errors.New("boom")
	a.FailAt(1, boom)
	want := []struct {
		raw int
		err error
	}{{0, nil}, {0, boom}, {512, nil}, {1023, nil}, {0, nil}, {0, ErrScriptDone}}
	for i, w := range want {
		s, err := a.Read()
		if !errors.Is(err, w.err) || (err == nil && s.Raw != w.raw) {
			t.Errorf("read %d: %+v, %v; want raw %d, %v", i, s, err, w.raw, w.err)
		}
		if err == nil && s.Volts != float64(s.Raw)*3.3/1024 {
			t.Errorf("read %d: volts %v not quantised", i, s.Volts)
		}
	}
	l := NewScriptedADC(12, 4.096, 1, 2)
	l.Loop = true
	var raws []int
	for i := 0; i < 5; i++ {
		s, _ := l.Read()
		raws = append(raws, s.Raw)
	}
	if raws[0] != 1000 || raws[1] != 2000 || raws[2] != 1000 || raws[4] != 1000 || l.Reads() != 5 {
		t.Errorf("looping script: %v", raws)
	}
}

func TestInput(t *testing.T) {
	var in Input
	if in.Edge() || in.Read() != gpio.Low {
		t.Error("fresh input")
	}
	in.Set(gpio.Low)
	if in.Edge() {
		t.Error("no change made an edge")
	}
	in.Set(gpio.High)
	if !in.Edge() || in.Edge() || in.Read() != gpio.High {
		t.Error("one change, one edge")
	}
}

func TestSource(t *testing.T) {
	s := NewSource(1, math.NaN(), 3)
	for i, want := range []float64{1, math.NaN(), 3, 1} {
		v, err := s.Read()
		if math.IsNaN(want) {
			if !errors.Is(err, ErrRead) {
				t.Errorf("read %d: %v, %v; want ErrRead", i, v, err)
			}
			continue
		}
		if err != nil || v != want {
			t.Errorf("read %d: %v, %v; want %v", i, v, err, want)
		}
	}
	s.Fail(true)
	if _, err := s.Read(); !errors.Is(err, ErrRead) {
		t.Errorf("while failing: %v, want ErrRead", err)
	}
	s.Fail(false)
	// After 1, NaN, 3, 1 the next entry is the NaN: the read failed by
	// Fail did not advance the script.
	if v, err := s.Read(); !errors.Is(err, ErrRead) {
		t.Errorf("after Fail(false): %v, %v; want the script's next entry (NaN: ErrRead)", v, err)
	}
	if s.Reads() != 5 {
		t.Errorf("%d reads counted, want 5 (the failed-by-Fail one is not)", s.Reads())
	}
	w := Wrap(NewSource(7))
	if v, err := w.Read(); v != 7 || err != nil {
		t.Errorf("wrapped: %v, %v; want 7", v, err)
	}
}

func TestDiscard(t *testing.T) {
	var d Discard
	if err := d.SetDuty(gpio.DutyMax + 1); !errors.Is(err, hal.ErrDuty) {
		t.Errorf("SetDuty over DutyMax: %v, want hal.ErrDuty", err)
	}
	if d.Out(gpio.High) != nil || d.SetDuty(gpio.DutyHalf) != nil || d.SetVolts(1.5) != nil {
		t.Error("a valid write refused")
	}
}
