package daemon

import (
	"fmt"
	"strings"

	"github.com/spikeloop/spikeloop/hal/sim"
	"github.com/spikeloop/spikeloop/io/telemetry/live"
)

// The plants a config's plant: section can name, each in one place: how
// the config's check takes it, how a run builds it on the emulated
// board, how `spikeloop check` describes it, what outlasts a reload and
// what the live page draws. The daemon's loop, its wiring, reload and
// check go through this table and name no plant type; adding a plant is
// a field of PlantConfig and an entry here. The table is never changed.

// PlantConfig selects the plant of a simulated board: at most one of its
// fields, each a plant of the plants table by its YAML name.
type PlantConfig struct {
	// Vehicle is a Braitenberg vehicle (hal/sim.VehicleConfig); its
	// zero fields take sim.DefaultVehicle's values.
	Vehicle *sim.VehicleConfig `yaml:"vehicle"`
}

// plantKind is one plant a config can name.
type plantKind struct {
	// given tells whether p names this plant.
	given func(p *PlantConfig) bool
	// check returns what is wrong with c's settings of the plant (nil:
	// nothing), building it and throwing it away.
	check func(c *Config) error
	// build makes the plant of a run of c; carried, when not nil, is what
	// the previous run's plant handed over (carry).
	build func(c *Config, carried any) (sim.Reporter, error)
	// summary is check's line about the plant.
	summary func(c *Config) string
	// carry is what the running plant hands the next run of a reload, so
	// that the emulated world goes on as a real one would while its
	// controller is reloaded; nil and a note for the log when next's
	// settings ask for a new start instead.
	carry func(next, prev *Config, running sim.Reporter) (carried any, note string)
	// live is what the live page draws of the plant.
	live func(c *Config) *live.Vehicle
}

// plantNames lists the plants in the order messages name them.
var plantNames = []string{"vehicle"}

var plants = map[string]plantKind{
	"vehicle": {
		given: func(p *PlantConfig) bool { return p.Vehicle != nil },
		check: func(c *Config) error {
			_, err := sim.NewVehicle(vehicleConfig(c))
			return err
		},
		build: func(c *Config, carried any) (sim.Reporter, error) {
			vc := vehicleConfig(c)
			if pose, ok := carried.(sim.Pose); ok {
				vc.Start = pose
			}
			return sim.NewVehicle(vc)
		},
		summary: func(c *Config) string {
			vc := vehicleConfig(c)
			return fmt.Sprintf("Braitenberg vehicle, motors %s/%s, sensors %s/%s, light at (%.3g, %.3g) m",
				vc.LeftMotor, vc.RightMotor, vc.LeftSensor, vc.RightSensor, vc.Light[0], vc.Light[1])
		},
		carry: func(next, prev *Config, running sim.Reporter) (any, string) {
			v, ok := running.(*sim.Vehicle)
			if !ok {
				return nil, ""
			}
			if next.Plant.Vehicle.Start != prev.Plant.Vehicle.Start {
				return nil, "plant.vehicle.start changed; the vehicle starts there"
			}
			return v.Pose(), ""
		},
		live: func(c *Config) *live.Vehicle {
			v := vehicleConfig(c)
			return &live.Vehicle{Light: v.Light, Start: [2]float64{v.Start.X, v.Start.Y}, Arena: v.Arena, WheelBase: v.WheelBase}
		},
	},
}

// plant returns the plant c names and its name; ok false for none.
// (A config naming two is refused by its check, checkPlant.)
func (c *Config) plant() (kind plantKind, name string, ok bool) {
	for _, n := range plantNames {
		if k := plants[n]; k.given(&c.Plant) {
			return k, n, true
		}
	}
	return plantKind{}, "", false
}

// checkPlant adds the problems of the plant: section to k.
func (c *Config) checkPlant(k *checker, simBoard bool) {
	var named []string
	for _, n := range plantNames {
		if plants[n].given(&c.Plant) {
			named = append(named, n)
		}
	}
	switch {
	case len(named) == 0:
		return
	case len(named) > 1:
		k.add("plant", ErrInvalid, "must name one plant, got %s", strings.Join(named, " and "))
		return
	case !simBoard:
		k.add("plant", ErrInvalid, `must be left out unless board.driver is "sim", got %s`, named[0])
		return
	}
	if err := plants[named[0]].check(c); err != nil {
		k.add("plant."+named[0], ErrInvalid, "%v", err)
	}
}

// vehicleConfig is the vehicle plant's settings with sim.DefaultVehicle's
// values in the fields left zero.
func vehicleConfig(c *Config) sim.VehicleConfig {
	v := sim.DefaultVehicle()
	if c.Plant.Vehicle == nil {
		return v
	}
	u := *c.Plant.Vehicle
	set := func(dst *string, s string) {
		if s != "" {
			*dst = s
		}
	}
	setf := func(dst *float64, x float64) {
		if x != 0 {
			*dst = x
		}
	}
	set(&v.LeftMotor, u.LeftMotor)
	set(&v.RightMotor, u.RightMotor)
	set(&v.LeftSensor, u.LeftSensor)
	set(&v.RightSensor, u.RightSensor)
	if u.Start != (sim.Pose{}) {
		v.Start = u.Start
	}
	if u.Light != [2]float64{} {
		v.Light = u.Light
	}
	setf(&v.WheelBase, u.WheelBase)
	setf(&v.MaxSpeed, u.MaxSpeed)
	if u.MotorTau != 0 {
		v.MotorTau = u.MotorTau
	}
	setf(&v.SensorAhead, u.SensorAhead)
	setf(&v.SensorSide, u.SensorSide)
	setf(&v.SensorAngle, u.SensorAngle)
	setf(&v.Falloff, u.Falloff)
	setf(&v.FullScale, u.FullScale)
	setf(&v.NoiseVolts, u.NoiseVolts)
	if u.Seed != 0 {
		v.Seed = u.Seed
	}
	setf(&v.Arena, u.Arena)
	if u.MaxStep != 0 {
		v.MaxStep = u.MaxStep
	}
	return v
}
