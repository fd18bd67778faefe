package sim

import (
	"errors"
	"fmt"
	"math"
	"time"

	"periph.io/x/conn/v3/gpio"

	"github.com/spikeloop/spikeloop/hal"
)

// MotorConfig describes a brushed DC motor driven by PWM through an
// H-bridge, with an incremental quadrature encoder on its shaft.
type MotorConfig struct {
	// Part names on the board.
	Drive    string `yaml:"drive"`     // PWM part: duty 0..1 of the supply
	Reverse  string `yaml:"reverse"`   // optional output part: high = reverse
	EncoderA string `yaml:"encoder_a"` // input part
	EncoderB string `yaml:"encoder_b"` // input part

	Supply     float64 `yaml:"supply"`     // V across the motor at duty 1
	Resistance float64 `yaml:"resistance"` // armature, Ohm
	// K is the torque constant in N·m/A, equal to the back-EMF
	// constant in V·s/rad.
	K        float64 `yaml:"k"`
	Inertia  float64 `yaml:"inertia"`  // rotor and load, kg·m²
	Friction float64 `yaml:"friction"` // viscous, N·m·s/rad
	// CountsPerRev is quadrature counts per shaft turn (4 x lines).
	CountsPerRev int `yaml:"counts_per_rev"`
	// MaxStep bounds the integration step inside one Step.
	MaxStep time.Duration `yaml:"max_step"`
}

// DefaultMotor is a small 12 V gear-less motor: no-load speed about
// 570 rad/s, time constant about 9.5 ms, 48 counts per turn.
func DefaultMotor() MotorConfig {
	return MotorConfig{
		Drive: "motor", Reverse: "motor_reverse", EncoderA: "enc_a", EncoderB: "enc_b",
		Supply: 12, Resistance: 2, K: 0.02, Inertia: 2e-6, Friction: 1e-5,
		CountsPerRev: 48, MaxStep: 20 * time.Microsecond,
	}
}

// MotorDemoConfig is a board for DefaultMotor: PWM at 20 kHz on
// GPIO18, direction on GPIO5, encoder A and B on GPIO20 and GPIO21.
func MotorDemoConfig() hal.Config {
	return hal.Config{
		Driver:  hal.DriverSim,
		Outputs: []hal.OutputConfig{{Name: "motor_reverse", Pin: "GPIO5"}},
		Inputs: []hal.InputConfig{
			{Name: "enc_a", Pin: "GPIO20", Edge: "both"},
			{Name: "enc_b", Pin: "GPIO21", Edge: "both"},
		},
		PWM: []hal.PWMConfig{{Name: "motor", Pin: "GPIO18", FrequencyHz: 20000}},
	}
}

// Motor is the DC motor plant. The PWM is averaged: the motor sees
// duty x supply, which holds when the PWM period is much shorter than
// the mechanical time constant. Armature inductance is neglected.
type Motor struct {
	cfg   MotorConfig
	omega float64 // rad/s
	theta float64 // rad
	count int64   // encoder position, counts
	load  float64 // external torque, N·m, opposing forward motion

	drive, rev, a, b *Pin
}

// NewMotor returns a motor plant; it checks cfg.
func NewMotor(cfg MotorConfig) (*Motor, error) {
	if !(cfg.Supply > 0 && cfg.Resistance > 0 && cfg.K > 0 && cfg.Inertia > 0 && cfg.Friction >= 0) {
		return nil, errors.New("sim: motor supply, resistance, k and inertia must be > 0, friction >= 0")
	}
	if cfg.CountsPerRev <= 0 || cfg.CountsPerRev%4 != 0 {
		return nil, fmt.Errorf("sim: motor counts_per_rev %d must be a positive multiple of 4", cfg.CountsPerRev)
	}
	if cfg.MaxStep <= 0 {
		cfg.MaxStep = 20 * time.Microsecond
	}
	return &Motor{cfg: cfg}, nil
}

// Attach implements Plant.
func (m *Motor) Attach(b *Board) error {
	var err error
	if m.drive, err = b.PartPin(m.cfg.Drive); err != nil {
		return fmt.Errorf("drive: %w", err)
	}
	if m.cfg.Reverse != "" {
		if m.rev, err = b.PartPin(m.cfg.Reverse); err != nil {
			return fmt.Errorf("reverse: %w", err)
		}
	}
	if m.a, err = b.PartPin(m.cfg.EncoderA); err != nil {
		return fmt.Errorf("encoder_a: %w", err)
	}
	if m.b, err = b.PartPin(m.cfg.EncoderB); err != nil {
		return fmt.Errorf("encoder_b: %w", err)
	}
	// Put the pins in the state of the current count.
	q := quadrature[((m.count%4)+4)%4]
	m.a.Drive(q[0])
	m.b.Drive(q[1])
	return nil
}

// Volts is the average voltage across the motor now.
func (m *Motor) Volts() float64 {
	v := m.drive.Duty() * m.cfg.Supply
	if m.rev != nil && m.rev.Level() == gpio.High {
		v = -v
	}
	return v
}

// Step implements Plant. The speed and angle are integrated exactly for
// the constant voltage of the step (the motor is linear); the encoder
// pins go through every quadrature state the shaft passes, one per
// count, so edge counters on the pins see every transition.
func (m *Motor) Step(dt time.Duration) error {
	v := m.Volts()
	k, r, j, f := m.cfg.K, m.cfg.Resistance, m.cfg.Inertia, m.cfg.Friction
	// J dω/dt = K(V - Kω)/R - fω - load  =>  dω/dt = a - c ω
	c := (k*k/r + f) / j
	a := (k*v/r - m.load) / j
	wInf := a / c
	for dt > 0 {
		h := min(dt, m.cfg.MaxStep)
		dt -= h
		s := h.Seconds()
		e := math.Exp(-c * s)
		m.theta += wInf*s + (m.omega-wInf)*(1-e)/c
		m.omega = wInf + (m.omega-wInf)*e
		m.encode()
	}
	return nil
}

// quadrature is (A, B) for count mod 4: A leads B going forward.
var quadrature = [4][2]gpio.Level{{gpio.Low, gpio.Low}, {gpio.High, gpio.Low}, {gpio.High, gpio.High}, {gpio.Low, gpio.High}}

// encode drives the encoder pins through every state up to the shaft's
// count.
func (m *Motor) encode() {
	target := int64(math.Floor(m.theta / (2 * math.Pi) * float64(m.cfg.CountsPerRev)))
	for m.count != target {
		if target > m.count {
			m.count++
		} else {
			m.count--
		}
		q := quadrature[((m.count%4)+4)%4]
		m.a.Drive(q[0])
		m.b.Drive(q[1])
	}
}

// SetLoad applies an external torque (N·m) that opposes forward motion.
func (m *Motor) SetLoad(torque float64) { m.load = torque }

// Speed is the shaft speed in rad/s.
func (m *Motor) Speed() float64 { return m.omega }

// Angle is the shaft angle in rad since start.
func (m *Motor) Angle() float64 { return m.theta }

// Count is the encoder position in counts, as put on the pins.
func (m *Motor) Count() int64 { return m.count }

// Current is the armature current now, A.
func (m *Motor) Current() float64 { return (m.Volts() - m.cfg.K*m.omega) / m.cfg.Resistance }

// SteadySpeed is the speed the motor settles at for voltage v with no
// load: K v / (R f + K²).
func (m *Motor) SteadySpeed(v float64) float64 {
	k := m.cfg.K
	return k * v / (m.cfg.Resistance*m.cfg.Friction + k*k)
}

// TimeConstant is the mechanical time constant J R / (R f + K²).
func (m *Motor) TimeConstant() time.Duration {
	k := m.cfg.K
	tau := m.cfg.Inertia * m.cfg.Resistance / (m.cfg.Resistance*m.cfg.Friction + k*k)
	return time.Duration(tau * float64(time.Second))
}

var _ Plant = (*Motor)(nil)
