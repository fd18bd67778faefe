package main

import (
	"context"
	"fmt"
	"github.com/spikeloop/spikeloop/apu"
	"io"
	"os"
	"os/signal"
	"syscall"

	sddaemon "github.com/coreos/go-systemd/v22/daemon"

	"github.com/spikeloop/spikeloop/daemon"
)

// cmdRun is `spikeloop run [--config FILE] [--duration D]`: the daemon.
// With no --config it runs the built-in demo (a Braitenberg vehicle on
// the emulated board). SIGINT and SIGTERM stop it cleanly: the outputs go
// to their safe values and the exit code is 0. SIGHUP reloads the config
// and the network; invalid new ones are logged and the old ones keep
// running.
var runDoc = cmdDoc{
	usage: []string{"run [--config FILE] [--duration D] [--record FILE] [--no-telemetry]"},
	text: `Runs the daemon: the closed loop of sensors, network and actuators on
the board, at the config's tick, with telemetry over MQTT. Without
--config it runs the built-in demo: a Braitenberg vehicle on the
emulated board, with an embedded MQTT broker on 127.0.0.1.
SIGINT and SIGTERM stop it cleanly (outputs safe, exit status 0);
SIGHUP reloads the config and its network, and a new config that does
not load is logged while the running one goes on.
"spikeloop check --config FILE" validates a config without running it.

arguments: none
`,
}

func cmdRun(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run")
	config := fs.String("config", "", "daemon config `FILE` (default: the built-in demo)")
	duration := durationFlag(fs, "duration", 0, "stop after this much loop time, e.g. 10s (0: run until SIGINT or SIGTERM)")
	record := fs.String("record", "", "write every sensor value and the seeds to `FILE` (checksummed chunks), for \"spikeloop sim --replay\"")
	noTelemetry := fs.Bool("no-telemetry", false, "ignore the config's telemetry section: no MQTT broker, no publishing, no commands")
	backend := fs.String("backend", "", "run the network on backend `NAME` instead of the config's backend: (default cpu), across reloads too")
	pos, err := parseFlags(fs, runDoc, args)
	if err != nil {
		return err
	}
	if helpArg(pos, false) {
		return helpRequest{helpText(fs, runDoc)}
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q (the config is --config FILE)", pos[0])}
	}
	if *duration < 0 {
		return usageError{fmt.Sprintf("--duration: must be >= 0, got %v", *duration)}
	}
	if *backend != "" && !apu.Known(*backend) {
		return usageError{fmt.Sprintf("--backend: %q: %v", *backend, apu.UnknownBackend(*backend))}
	}

	load := daemon.DemoConfig
	if *config != "" {
		load = func() (*daemon.Config, error) { return daemon.LoadConfig(*config) }
	}
	cfg, err := load()
	if err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	opts := daemon.Options{Backend: *backend, Stderr: stderr, Software: "spikeloop " + version(), NoTelemetry: *noTelemetry}
	if *duration > 0 {
		opts.Ticks = max(1, int64(*duration/cfg.TickDuration()))
	}
	if os.Getenv("NOTIFY_SOCKET") != "" {
		// Under systemd (Type=notify): READY=1 after the first tick,
		// WATCHDOG=1 at half of WatchdogSec while the loop progresses.
		opts.Notify = func(state string) {
			if _, err := sddaemon.SdNotify(false, state); err != nil {
				fmt.Fprintf(stderr, "spikeloop run: sd_notify %s: %v\n", state, err)
			}
		}
		if wd, err := sddaemon.SdWatchdogEnabled(false); err == nil && wd > 0 {
			opts.WatchdogEvery = wd / 2
		}
	}
	var term *terminal
	if daemon.IsTerminal(stdout) {
		term = &terminal{out: stdout}
		var names []string
		for _, o := range cfg.Outputs {
			names = append(names, o.Name)
		}
		opts.Consumer = statusLine(term, cfg.TickDuration(), names)
		opts.Stderr = term.logTo(stderr)
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{})
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			case <-ctx.Done():
				return
			}
		}
	}()
	if *record != "" {
		f, err := os.Create(*record)
		if err != nil {
			return err
		}
		defer f.Close()
		opts.Record = f
	}
	err = daemon.Serve(ctx, cfg, opts, reload, load)
	if term != nil {
		term.end()
	}
	return err
}
