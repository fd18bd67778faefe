package sim

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/spikeloop/spikeloop/hal"
)

func openVehicle(t *testing.T, vc VehicleConfig) (*Board, *hal.Board, *Vehicle) {
	t.Helper()
	v, err := NewVehicle(vc)
	if err != nil {
		t.Fatal(err)
	}
	sb, hb, err := Open(DemoConfig(), v)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = hb.Close() })
	return sb, hb, v
}

func TestVehicleStraight(t *testing.T) {
	vc := DefaultVehicle()
	vc.Start = Pose{X: -1, Y: 0.5, Heading: 0.3}
	sb, hb, v := openVehicle(t, vc)
	l, _ := hb.PWM("motor_left")
	r, _ := hb.PWM("motor_right")
	if err := l.SetFraction(0.6); err != nil {
		t.Fatal(err)
	}
	if err := r.SetFraction(0.6); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ { // 5 s
		if err := sb.Advance(10 * time.Millisecond); err != nil {
			t.Fatal(err)
		}
	}
	p := v.Pose()
	if math.Abs(p.Heading-0.3) > 1e-9 {
		t.Errorf("heading drifted to %v", p.Heading)
	}
	// Distance: 0.18 m/s for 5 s, less what the 50 ms motor lag costs
	// at the start (0.18 * 0.05 = 9 mm).
	dx, dy := p.X+1, p.Y-0.5
	want := 0.18*5 - 0.18*0.05
	if d := math.Hypot(dx, dy); math.Abs(d-want) > 1e-3 {
		t.Errorf("travelled %.4f m, want %.4f", d, want)
	}
	// And along the heading: no sideways component.
	if side := -dx*math.Sin(0.3) + dy*math.Cos(0.3); math.Abs(side) > 1e-9 {
		t.Errorf("sideways drift %v m", side)
	}
	if sb.Now() != 5*time.Second {
		t.Errorf("Now = %v", sb.Now())
	}
}

func TestVehicleTurnsTowardsBrighterSide(t *testing.T) {
	// Light to the left: only the left wheel stopped turns left (CCW).
	vc := DefaultVehicle()
	sb, hb, v := openVehicle(t, vc)
	r, _ := hb.PWM("motor_right")
	_ = r.SetFraction(0.5)
	h0 := v.Pose().Heading
	_ = sb.Advance(200 * time.Millisecond)
	if v.Pose().Heading <= h0 {
		t.Errorf("right wheel only: heading %v -> %v, want a left turn", h0, v.Pose().Heading)
	}
}

// TestBraitenberg drives the vehicle with crossed excitatory wiring
// (left sensor -> right wheel, right -> left) and a proportional rule,
// reading the sensors through the MCP3008 driver and writing the PWM
// through hal: it must get within 0.2 m of a light 2 m away in 30 s.
func TestBraitenberg(t *testing.T) {
	for _, tc := range []struct {
		name    string
		heading float64 // start heading relative to the light
		noise   float64
	}{
		{"facing", 0, 0},
		{"light 50 deg left", -50 * math.Pi / 180, 0},
		{"light 50 deg right", 50 * math.Pi / 180, 0},
		{"noisy sensors", 30 * math.Pi / 180, 0.02},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vc := DefaultVehicle()
			vc.Start.Heading += tc.heading
			vc.NoiseVolts, vc.Seed = tc.noise, 7
			sb, hb, v := openVehicle(t, vc)
			if d := v.DistanceToLight(); math.Abs(d-2) > 1e-9 {
				t.Fatalf("start distance %v", d)
			}
			ll, _ := hb.ADC("light_left")
			lr, _ := hb.ADC("light_right")
			ml, _ := hb.PWM("motor_left")
			mr, _ := hb.PWM("motor_right")
			const gain = 4.0 // duty per unit of (volts / full scale)
			const dt = 10 * time.Millisecond
			reached := time.Duration(-1)
			for sb.Now() < 30*time.Second {
				sl, err := ll.Read()
				if err != nil {
					t.Fatal(err)
				}
				sr, err := lr.Read()
				if err != nil {
					t.Fatal(err)
				}
				if err := mr.SetFraction(min(1, gain*sl.Volts/vc.FullScale)); err != nil {
					t.Fatal(err)
				}
				if err := ml.SetFraction(min(1, gain*sr.Volts/vc.FullScale)); err != nil {
					t.Fatal(err)
				}
				if err := sb.Advance(dt); err != nil {
					t.Fatalf("at %v: %v", sb.Now(), err)
				}
				if v.DistanceToLight() < 0.2 {
					reached = sb.Now()
					break
				}
			}
			if reached < 0 {
				p := v.Pose()
				t.Fatalf("not within 0.2 m after 30 s: at (%.2f, %.2f), %.2f m away", p.X, p.Y, v.DistanceToLight())
			}
			t.Logf("within 0.2 m after %v", reached)
		})
	}
}

// TestBraitenbergUncrossedAvoids is the control: with uncrossed wiring
// the same vehicle turns away from a light that is off to one side.
func TestBraitenbergUncrossedAvoids(t *testing.T) {
	vc := DefaultVehicle()
	vc.Start.Heading -= 40 * math.Pi / 180 // light 40 deg to the left
	vc.Arena = 0
	sb, hb, v := openVehicle(t, vc)
	ll, _ := hb.ADC("light_left")
	lr, _ := hb.ADC("light_right")
	ml, _ := hb.PWM("motor_left")
	mr, _ := hb.PWM("motor_right")
	closest := v.DistanceToLight()
	for sb.Now() < 10*time.Second {
		sl, _ := ll.Read()
		sr, _ := lr.Read()
		_ = ml.SetFraction(min(1, 4*sl.Volts/vc.FullScale))
		_ = mr.SetFraction(min(1, 4*sr.Volts/vc.FullScale))
		_ = sb.Advance(10 * time.Millisecond)
		closest = min(closest, v.DistanceToLight())
	}
	if closest < 1.5 {
		t.Errorf("uncrossed vehicle came within %.2f m of the light", closest)
	}
}

func TestVehicleSensors(t *testing.T) {
	vc := DefaultVehicle() // facing the light, 2 m away
	sb, hb, v := openVehicle(t, vc)
	ll, _ := hb.ADC("light_left")
	lr, _ := hb.ADC("light_right")
	sl, _ := ll.Read()
	sr, _ := lr.Read()
	// Symmetric: equal readings; about cos(45 deg)/(1+1.94^2) * 3 V.
	if sl.Raw != sr.Raw {
		t.Errorf("facing the light: left %d, right %d", sl.Raw, sr.Raw)
	}
	if want := vc.FullScale * v.Intensity(1); math.Abs(sl.Volts-want) > 3.3/1024 || want < 0.3 || want > 0.6 {
		t.Errorf("left sensor %.3f V, intensity model %.3f V", sl.Volts, want)
	}
	// Turn away from the light: both sensors dark.
	vc.Start.Heading += math.Pi
	_, hb2, _ := openVehicle(t, vc)
	l2, _ := hb2.ADC("light_left")
	if s, _ := l2.Read(); s.Raw != 0 {
		t.Errorf("facing away: left sensor code %d", s.Raw)
	}
	// Closer is brighter.
	mr, _ := hb.PWM("motor_right")
	ml, _ := hb.PWM("motor_left")
	_ = mr.SetFraction(1)
	_ = ml.SetFraction(1)
	_ = sb.Advance(2 * time.Second)
	if s, _ := ll.Read(); s.Raw <= sl.Raw {
		t.Errorf("after driving at the light: code %d, before %d", s.Raw, sl.Raw)
	}
}

func TestVehicleNoiseIsSeeded(t *testing.T) {
	run := func(seed uint64) []int {
		vc := DefaultVehicle()
		vc.NoiseVolts, vc.Seed = 0.05, seed
		sb, hb, _ := openVehicle(t, vc)
		ll, _ := hb.ADC("light_left")
		var codes []int
		for i := 0; i < 20; i++ {
			_ = sb.Advance(time.Millisecond)
			s, _ := ll.Read()
			codes = append(codes, s.Raw)
		}
		return codes
	}
	a, b, c := run(1), run(1), run(2)
	same, differ := true, false
	for i := range a {
		same = same && a[i] == b[i]
		differ = differ || a[i] != c[i]
	}
	if !same || !differ {
		t.Errorf("seed 1: %v / %v; seed 2: %v", a, b, c)
	}
}

// TestHaltAfterPlantFault crashes the vehicle into the arena wall and
// checks that Halt still puts the motors at their safe duty, twice.
func TestHaltAfterPlantFault(t *testing.T) {
	vc := DefaultVehicle()
	vc.Arena = 1.2
	sb, hb, v := openVehicle(t, vc)
	ml, _ := hb.PWM("motor_left")
	mr, _ := hb.PWM("motor_right")
	_ = ml.SetFraction(1)
	_ = mr.SetFraction(0.9)
	var fault error
	for i := 0; i < 2000 && fault == nil; i++ {
		fault = sb.Advance(10 * time.Millisecond)
	}
	if !errors.Is(fault, ErrCrash) {
		t.Fatalf("no crash: %v", fault)
	}
	pl, pr := sb.Pin("GPIO12"), sb.Pin("GPIO13")
	for i := 0; i < 2; i++ {
		if err := hb.Halt(); err != nil {
			t.Fatalf("Halt #%d after fault: %v", i+1, err)
		}
		if pl.Duty() != 0 || pr.Duty() != 0 {
			t.Errorf("Halt #%d: duty %v, %v", i+1, pl.Duty(), pr.Duty())
		}
	}
	// The fault is sticky and the vehicle stays where it crashed.
	p := v.Pose()
	if err := sb.Advance(time.Second); !errors.Is(err, ErrCrash) {
		t.Errorf("Advance after crash: %v", err)
	}
	if v.Pose() != p {
		t.Error("crashed vehicle moved")
	}
}

func TestPlantConfigErrors(t *testing.T) {
	bad := DefaultVehicle()
	bad.WheelBase = 0
	if _, err := NewVehicle(bad); err == nil || err.Error() != "sim: vehicle wheel_base: must be > 0, got 0" {
		t.Errorf("wheel base 0: %v, want it refused naming the field and value", err)
	}
	// A plant naming a part the board does not have fails at Open.
	vc := DefaultVehicle()
	vc.LeftSensor = "nope"
	v, _ := NewVehicle(vc)
	if _, _, err := Open(DemoConfig(), v); err == nil {
		t.Error("plant with unknown part attached")
	}
}
