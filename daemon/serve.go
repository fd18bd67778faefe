package daemon

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/rs/zerolog"

	"github.com/spikeloop/spikeloop/hal"
)

// Serve runs cfg like Run, and reloads it each time reload receives:
// load reads and checks the new config and network (LoadConfig, for
// instance). A config that fails to load, or whose run cannot be built
// (preflight), is logged with its errors and the current run goes on
// untouched. A good one stops the current run (outputs safe, board
// closed), and starts the new one; should the new one still fail to
// start (a real board's device that fails to open, which preflight
// cannot try without driving outputs), the old config is started again
// from the same content, so the daemon keeps running.
//
// Telemetry (the config's telemetry section) is started once, from cfg,
// and kept across reloads, so that subscribers stay connected; its
// "reload" command works like receiving on reload.
//
// opts.Ticks, if set, is the number of ticks of all runs together.
//
// Serve returns nil when ctx is done, and the fault of a run otherwise.
func Serve(ctx context.Context, cfg *Config, opts Options, reload <-chan struct{}, load func() (*Config, error)) (err error) {
	var tel *telemetryService
	defer func() {
		if tel != nil {
			err = errors.Join(err, tel.Close())
		}
	}()
	var telReload chan struct{}
	cur := cfg
	cfg = nil // cur and prev hold the running config: nothing else may keep an old network alive
	reloaded := false
	// prev is the last config that started (used by its run: Clone
	// rebuilds it from the bytes it was parsed from, files included). It
	// is not kept built: a second copy of the network for the whole run
	// would double the daemon's memory.
	var prev *Config
	for {
		if reloaded && cur.used {
			// A reload's config, built once by preflight's dry run next
			// to the running loop; it runs from a fresh copy built now
			// that the last run is gone, so the daemon never holds more
			// than the running network and the new one.
			fresh, err := cur.Clone()
			if err != nil {
				return fmt.Errorf("daemon: config: %w", err)
			}
			fresh.carried = cur.carried // carryPlant's
			cur = fresh
		}
		d, err := New(cur, opts)
		if err != nil {
			if prev == nil {
				return err
			}
			again, err2 := prev.Clone()
			var d2 *Daemon
			if err2 == nil {
				d2, err2 = New(again, opts)
			}
			if err2 != nil {
				return errors.Join(err, err2)
			}
			d2.log.Error().Err(err).Msg("reload: the new config failed to start; running the previous one again")
			d, cur = d2, again
		}
		prev = cur
		if tel == nil && cur.Telemetry != nil {
			// As in Daemon.Run, a failure leaves the loop running without
			// telemetry (logged); the next reload tries again.
			if tel, err = startTelemetry(cur, opts, d.log); err != nil {
				d.log.Error().Err(err).Msg("telemetry off until the next reload")
				tel = nil
			} else {
				tel.ctl.allowReload(load != nil)
				telReload = tel.ctl.reload
			}
		}
		if tel != nil {
			if cur.Telemetry == nil {
				d.log.Warn().Msg("reload: the new config has no telemetry section; telemetry stays up (without samples) until restart")
			} else if cur.Telemetry.brokerKey() != tel.cfg.brokerKey() {
				d.log.Warn().Msg("reload: telemetry broker, users, commands or metrics changed; they take effect at restart")
			}
			d.tel = tel
			if reloaded {
				tel.pub.UpdateStatus(hexDigest(cur.data), hexDigest(cur.netData))
			}
		}

		runCtx, stop := context.WithCancel(ctx)
		next := make(chan *Config, 1)
		watchDone := make(chan struct{})
		go func() {
			defer close(watchDone)
			for {
				select {
				case <-runCtx.Done():
					return
				case <-reload:
				case <-telReload:
				}
				if load == nil {
					d.log.Error().Msg("reload: no config file to reload")
					continue
				}
				retune := relaxGC()
				c, err := load()
				if err == nil {
					if perr := preflight(c, opts); perr != nil {
						retune()
						d.log.Error().Err(perr).Msg("reload: the new config cannot start; keeping the running one")
						continue
					}
				}
				retune()
				if err != nil {
					d.log.Error().Err(err).Msg("reload: the new config is invalid; keeping the running one")
					continue
				}
				d.log.Info().Msg("reload: new config checked; restarting the loop")
				next <- c
				stop()
				return
			}
		}()
		err = d.Run(runCtx)
		stop()
		<-watchDone
		err = errors.Join(err, d.Close())
		if err != nil || ctx.Err() != nil {
			return err
		}
		select {
		case c := <-next:
			carryPlant(c, cur, d)
			cur, reloaded = c, true
		default:
			return nil // opts.Ticks reached
		}
		// opts.Ticks bounds the whole of Serve (run --duration), not each
		// run: the next run gets what is left.
		if opts.Ticks > 0 {
			if opts.Ticks -= d.Stats().Ticks; opts.Ticks <= 0 {
				return nil
			}
		}
	}
}

// carryPlant keeps the emulated world going across a reload: the plant
// of the next run goes on from where the last one stopped (the demo's
// vehicle from its pose), as a real one would not jump back when its
// controller is reloaded, unless the next config's plant settings ask
// for a new start (plantKind.carry). A reload to another plant, or to
// none, carries nothing.
func carryPlant(next, prev *Config, d *Daemon) {
	kind, name, ok := next.plant()
	_, prevName, prevOK := prev.plant()
	if !ok || !prevOK || name != prevName || d.plant == nil {
		return
	}
	carried, note := kind.carry(next, prev, d.plant)
	if note != "" {
		d.log.Info().Msg("reload: " + note)
	}
	next.carried = carried
}

// preflight builds everything a run of c needs (the engine with its
// network, the emulated board and plant, every input and output wired)
// with the log off and closes it again, so that a reload which could not
// start is refused while the running loop goes on. It builds on c itself
// (Serve runs a fresh copy once the running loop has stopped), and
// first compares the engine's memory estimate with the memory the
// system has available, so that a network too big to run next to the
// running one is refused before it is built. A real board (driver:
// periph) is not opened here: its outputs would be driven under the
// running loop. Its pins and buses were resolved by name when the config
// was loaded; a device that still fails to open is left to Serve's
// fall-back.
func preflight(c *Config, opts Options) error {
	memAvailable := opts.memAvailable
	if memAvailable == nil {
		memAvailable = systemMemAvailable
	}
	// The estimate includes the new network's connection lists, which
	// load has built already (20 bytes a connection): the check errs on
	// the side of refusing by that much.
	pr, err := probe(backendFor(c, opts), c.net)
	if err != nil {
		return fmt.Errorf("daemon: network %s: backend %s: %w", c.Network, backendFor(c, opts), err)
	}
	if need, avail := pr.Memory, memAvailable(); avail > 0 && need > avail {
		return fmt.Errorf("daemon: network %s: running it needs about %s (the engine's estimate) and the system has %s available; refused before building it",
			c.Network, ByteSize(need), ByteSize(avail))
	}
	if c.Board.Driver != hal.DriverSim {
		return nil
	}
	nop := zerolog.Nop()
	opts.Logger = &nop
	d, err := New(c, opts)
	if err != nil {
		return err
	}
	return d.Close()
}

// systemMemAvailable is /proc/meminfo's MemAvailable in bytes (what can
// be allocated without swapping), or 0 where there is none.
func systemMemAvailable() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "MemAvailable:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}
