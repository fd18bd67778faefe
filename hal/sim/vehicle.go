package sim

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/spikeloop/spikeloop/hal"
)

// ErrCrash is the fault of a vehicle that left its arena.
var ErrCrash = errors.New("vehicle left the arena")

// Pose is a position in metres and a heading in radians (0 = +x,
// counter-clockwise positive).
type Pose struct {
	X       float64 `yaml:"x"`
	Y       float64 `yaml:"y"`
	Heading float64 `yaml:"heading"`
}

// VehicleConfig describes a Braitenberg vehicle: a two-wheeled robot in
// a flat arena with one light, two light sensors and two wheel motors.
type VehicleConfig struct {
	// Part names on the board.
	LeftMotor   string `yaml:"left_motor"`   // PWM part, duty 0..1 -> 0..MaxSpeed
	RightMotor  string `yaml:"right_motor"`  // PWM part
	LeftSensor  string `yaml:"left_sensor"`  // ADC part
	RightSensor string `yaml:"right_sensor"` // ADC part

	Start Pose       `yaml:"start"`
	Light [2]float64 `yaml:"light"` // light position, m

	WheelBase float64 `yaml:"wheel_base"` // m between the wheels
	MaxSpeed  float64 `yaml:"max_speed"`  // wheel speed at duty 1, m/s
	// MotorTau is the wheels' first-order time constant; 0 = instant.
	MotorTau time.Duration `yaml:"motor_tau"`

	// Each sensor sits SensorAhead in front of the axle centre and
	// SensorSide to its side, looking SensorAngle away from the heading
	// (left sensor to the left).
	SensorAhead float64 `yaml:"sensor_ahead"`
	SensorSide  float64 `yaml:"sensor_side"`
	SensorAngle float64 `yaml:"sensor_angle"` // rad

	// Intensity at a sensor is cos(angle to the light, 0 if behind) /
	// (1 + (d/Falloff)^2); the sensor outputs FullScale volts times that,
	// plus Gaussian noise of NoiseVolts (seeded with Seed), clipped at 0.
	Falloff    float64 `yaml:"falloff"`    // m
	FullScale  float64 `yaml:"full_scale"` // V
	NoiseVolts float64 `yaml:"noise_volts"`
	Seed       uint64  `yaml:"seed"`

	// Arena is the half-width of the square arena centred on the origin;
	// leaving it is a fault (ErrCrash). 0 means no walls.
	Arena float64 `yaml:"arena"`
	// MaxStep bounds the integration step inside one Step.
	MaxStep time.Duration `yaml:"max_step"`
}

// DefaultVehicle is a small robot 2 m from the light, facing it, in a
// 3 m arena, driven by the parts of DemoConfig.
func DefaultVehicle() VehicleConfig {
	return VehicleConfig{
		LeftMotor: "motor_left", RightMotor: "motor_right",
		LeftSensor: "light_left", RightSensor: "light_right",
		Start:       Pose{X: -1, Y: -1, Heading: math.Pi / 4},
		Light:       [2]float64{math.Sqrt2 - 1, math.Sqrt2 - 1},
		WheelBase:   0.12,
		MaxSpeed:    0.3,
		MotorTau:    50 * time.Millisecond,
		SensorAhead: 0.06,
		SensorSide:  0.03,
		SensorAngle: math.Pi / 4,
		Falloff:     1,
		FullScale:   3.0,
		Arena:       3,
		MaxStep:     time.Millisecond,
	}
}

// DemoConfig is the board of the default demo: two PWM wheel motors and
// two light sensors on an MCP3008. The package example and tests open
// it; the daemon's demo config writes the same board in YAML (the
// daemon's TestDemoBoardIsSimDemo keeps them equal).
func DemoConfig() hal.Config {
	return hal.Config{
		Driver: hal.DriverSim,
		PWM: []hal.PWMConfig{
			{Name: "motor_left", Pin: "GPIO12", FrequencyHz: 1000},
			{Name: "motor_right", Pin: "GPIO13", FrequencyHz: 1000},
		},
		ADCs: []hal.ADCConfig{{
			Name: "adc0", Chip: "mcp3008", Port: "SPI0.0", SpeedHz: 1_000_000, VRef: 3.3,
			Channels: []hal.ADCChannelConfig{
				{Name: "light_left", Channel: 0},
				{Name: "light_right", Channel: 1},
			},
		}},
	}
}

// Vehicle is the Braitenberg vehicle plant.
type Vehicle struct {
	cfg  VehicleConfig
	pose Pose
	vl   float64 // wheel speeds, m/s
	vr   float64

	lm, rm *Pin
	ls, rs AnalogInput
	rng    *rand.Rand
	fault  error
}

// NewVehicle returns a vehicle plant; it checks cfg.
func NewVehicle(cfg VehicleConfig) (*Vehicle, error) {
	switch {
	case !(cfg.WheelBase > 0):
		return nil, fmt.Errorf("sim: vehicle wheel_base: must be > 0, got %v", cfg.WheelBase)
	case !(cfg.MaxSpeed > 0):
		return nil, fmt.Errorf("sim: vehicle max_speed: must be > 0, got %v", cfg.MaxSpeed)
	case !(cfg.Falloff > 0):
		return nil, fmt.Errorf("sim: vehicle falloff: must be > 0, got %v", cfg.Falloff)
	case !(cfg.FullScale > 0):
		return nil, fmt.Errorf("sim: vehicle full_scale: must be > 0, got %v", cfg.FullScale)
	case !(cfg.NoiseVolts >= 0):
		return nil, fmt.Errorf("sim: vehicle noise_volts: must be >= 0, got %v", cfg.NoiseVolts)
	case !(cfg.Arena >= 0):
		return nil, fmt.Errorf("sim: vehicle arena: must be >= 0, got %v", cfg.Arena)
	case !(cfg.MotorTau >= 0):
		return nil, fmt.Errorf("sim: vehicle motor_tau: must be >= 0, got %v", cfg.MotorTau)
	}
	if cfg.MaxStep <= 0 {
		cfg.MaxStep = time.Millisecond
	}
	return &Vehicle{cfg: cfg, pose: cfg.Start, rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed))}, nil
}

// Attach implements Plant.
func (v *Vehicle) Attach(b *Board) error {
	var err error
	if v.lm, err = b.PartPin(v.cfg.LeftMotor); err != nil {
		return fmt.Errorf("left_motor: %w", err)
	}
	if v.rm, err = b.PartPin(v.cfg.RightMotor); err != nil {
		return fmt.Errorf("right_motor: %w", err)
	}
	if v.ls, err = b.AnalogInput(v.cfg.LeftSensor); err != nil {
		return fmt.Errorf("left_sensor: %w", err)
	}
	if v.rs, err = b.AnalogInput(v.cfg.RightSensor); err != nil {
		return fmt.Errorf("right_sensor: %w", err)
	}
	v.sense()
	return nil
}

// Step implements Plant: wheel speeds follow the PWM duty, the pose is
// integrated exactly along arcs in steps of at most MaxStep, and the
// sensors are updated at the end. Once crashed, the vehicle stays put
// and every Step returns the same fault.
func (v *Vehicle) Step(dt time.Duration) error {
	if v.fault != nil {
		return v.fault
	}
	tl := v.lm.Duty() * v.cfg.MaxSpeed
	tr := v.rm.Duty() * v.cfg.MaxSpeed
	for dt > 0 {
		h := min(dt, v.cfg.MaxStep)
		dt -= h
		s := h.Seconds()
		if v.cfg.MotorTau > 0 {
			a := 1 - math.Exp(-s/v.cfg.MotorTau.Seconds())
			v.vl += (tl - v.vl) * a
			v.vr += (tr - v.vr) * a
		} else {
			v.vl, v.vr = tl, tr
		}
		v.pose = arc(v.pose, (v.vl+v.vr)/2, (v.vr-v.vl)/v.cfg.WheelBase, s)
		if a := v.cfg.Arena; a > 0 && (math.Abs(v.pose.X) > a || math.Abs(v.pose.Y) > a) {
			v.fault = fmt.Errorf("%w at (%.3f, %.3f)", ErrCrash, v.pose.X, v.pose.Y)
			return v.fault
		}
	}
	v.sense()
	return nil
}

// arc moves pose at speed u (m/s) and turn rate w (rad/s) for s seconds,
// exactly for constant u and w.
func arc(p Pose, u, w, s float64) Pose {
	th := p.Heading
	if math.Abs(w) < 1e-9 {
		p.X += u * s * math.Cos(th)
		p.Y += u * s * math.Sin(th)
		return p
	}
	r := u / w
	th2 := th + w*s
	p.X += r * (math.Sin(th2) - math.Sin(th))
	p.Y -= r * (math.Cos(th2) - math.Cos(th))
	p.Heading = math.Remainder(th2, 2*math.Pi)
	return p
}

// sense writes both sensor voltages.
func (v *Vehicle) sense() {
	v.ls.Set(v.reading(+1))
	v.rs.Set(v.reading(-1))
}

// reading is the voltage of the left (side = +1) or right (-1) sensor.
func (v *Vehicle) reading(side float64) float64 {
	volts := v.cfg.FullScale * v.Intensity(side)
	if v.cfg.NoiseVolts > 0 {
		volts += v.rng.NormFloat64() * v.cfg.NoiseVolts
	}
	return max(volts, 0)
}

// Intensity is the noiseless light intensity, 0..1, at the left (side
// = +1) or right (side = -1) sensor.
func (v *Vehicle) Intensity(side float64) float64 {
	p := v.pose
	c, s := math.Cos(p.Heading), math.Sin(p.Heading)
	// Sensor position: ahead along the heading, side to the left.
	sx := p.X + v.cfg.SensorAhead*c - side*v.cfg.SensorSide*s
	sy := p.Y + v.cfg.SensorAhead*s + side*v.cfg.SensorSide*c
	dx, dy := v.cfg.Light[0]-sx, v.cfg.Light[1]-sy
	d := math.Hypot(dx, dy)
	if d < 1e-9 {
		return 1
	}
	look := p.Heading + side*v.cfg.SensorAngle
	cos := (dx*math.Cos(look) + dy*math.Sin(look)) / d
	if cos <= 0 {
		return 0
	}
	f := d / v.cfg.Falloff
	return cos / (1 + f*f)
}

// Pose is the vehicle's pose now.
func (v *Vehicle) Pose() Pose { return v.pose }

// DistanceToLight is the distance from the axle centre to the light.
func (v *Vehicle) DistanceToLight() float64 {
	return math.Hypot(v.cfg.Light[0]-v.pose.X, v.cfg.Light[1]-v.pose.Y)
}

// Fault is the crash, if any.
func (v *Vehicle) Fault() error { return v.fault }

var _ Reporter = (*Vehicle)(nil)

// vehicleFigures are the Vehicle's figures: its pose and how far the
// light is.
var vehicleFigures = []Figure{{"x", "x_m"}, {"y", "y_m"}, {"heading", "heading_rad"}, {"distance", "light_distance_m"}}

// Figures implements Reporter: x, y (m), heading (rad), distance to the
// light (m).
func (v *Vehicle) Figures() []Figure { return vehicleFigures }

// Report implements Reporter.
func (v *Vehicle) Report(dst []float64) {
	dst[0], dst[1], dst[2], dst[3] = v.pose.X, v.pose.Y, v.pose.Heading, v.DistanceToLight()
}

// Status implements Reporter: where the vehicle is and how far from the
// light.
func (v *Vehicle) Status(b []byte, f []float64) []byte {
	return fmt.Appendf(b, "vehicle at (%+.2f, %+.2f) m, %.2f m from the light", f[0], f[1], f[3])
}
