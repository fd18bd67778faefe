package daemon

import (
	"errors"
	"fmt"
	"github.com/spikeloop/spikeloop/apu"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spikeloop/spikeloop/hal"
	"github.com/spikeloop/spikeloop/io/telemetry"
	"github.com/spikeloop/spikeloop/models"
)

// CheckConfig loads and validates the daemon config at path without
// running it: the config's fields, the network file, the board's parts
// with their pins and SPI ports looked up by name on the host (driving
// no output, opening no device), the telemetry section (addresses, the
// users file, the commands allow-list) and the backend (the network
// loaded into the engine, then closed). It writes a summary of what the
// daemon would run to w and returns nil, or returns every problem at
// once (errors.Join of *FieldError, one "FILE:LINE: field: message" a
// line) and writes nothing. It backs `spikeloop check --config FILE`,
// an operator's check before `systemctl enable --now` or a reload.
func CheckConfig(path string, w io.Writer) error {
	c, err := LoadConfig(path)
	if err != nil {
		return err
	}
	// The backend: the engine must accept the network as the daemon
	// gives it (a clone, so that the summary shows the file's monitors,
	// not the ones New adds).
	run, err := c.Clone()
	if err != nil {
		return err
	}
	addSpikeMonitors(run.net, run.outputPops())
	name := c.backendName()
	pr, err := probe(name, run.net)
	if err == nil {
		var eng apu.Backend
		if eng, err = apu.Open(offlineBackend(name), apu.Options{}); err == nil {
			err = errors.Join(eng.Load(run.net), eng.Close())
		}
	}
	if err != nil {
		return &FieldError{File: c.file, Line: lineOf(c.root, "network"), Field: "network", Err: &problem{fmt.Sprintf("the %s backend refuses %s: %v", name, c.Network, err), ErrInvalid}}
	}
	return c.summary(w, pr)
}

// summary writes what the checked config runs; the sections follow the
// config's.
func (c *Config) summary(w io.Writer, pr apu.Probe) error {
	ew := &summaryWriter{w: w}
	ew.printf("%s: valid daemon config\n\n", c.file)
	c.boardSummary(ew)
	ew.printf("\ntick %s = %d network steps of dt %g ms; outputs go safe after %d failed reads in a row\n",
		c.tick, c.steps, c.net.Dt, c.StaleTicks+1)
	c.ioSummary(ew)
	ew.printf("\nnetwork %s\n", c.Network)
	NetworkSummary(ew, c.net)
	ew.printf("backend: %s (loaded and closed again), memory estimate %s\n", pr.Backend, ByteSize(pr.Memory))
	if l := c.Backend.linkSummary(); l != "" {
		ew.printf("%s\n", l)
	}
	c.realtimeSummary(ew)
	c.telemetrySummary(ew)
	return ew.err
}

func (c *Config) boardSummary(w *summaryWriter) {
	b := c.Board
	switch {
	case b.Driver == hal.DriverSim:
		w.printf("board: driver sim (pins and SPI ports looked up on the emulated board)\n")
	case c.pinNote != "":
		w.printf("board: driver periph; %s\n", c.pinNote)
	default:
		w.printf("board: driver periph (pins and SPI ports looked up in periph's registries)\n")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  part\tkind\tat\tsettings")
	for _, o := range b.Outputs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\tsafe %s\n", o.Name, partOut, o.Pin, orDefault(o.Safe, "low"))
	}
	for _, in := range b.Inputs {
		fmt.Fprintf(tw, "  %s\t%s\t%s\tpull %s, edge %s\n", in.Name, partIn, in.Pin, orDefault(in.Pull, "none"), orDefault(in.Edge, "none"))
	}
	for _, p := range b.PWM {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%g Hz, safe duty %g\n", p.Name, partPWM, p.Pin, p.FrequencyHz, p.SafeDuty)
	}
	for _, a := range b.ADCs {
		for _, ch := range a.Channels {
			at := fmt.Sprintf("%s ch%d", a.Name, ch.Channel)
			if ch.Differential {
				at = fmt.Sprintf("%s ch%d-ch%d", a.Name, ch.Channel, ch.Channel^1)
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s on %s, %d Hz, vref %g V\n", ch.Name, partADC, at, a.Chip, a.Port, a.SpeedHz, a.VRef)
		}
	}
	for _, d := range b.DACs {
		for _, ch := range d.Channels {
			safe := fmt.Sprintf("safe %g V", ch.SafeVolts)
			if ch.HaltShutdown {
				safe = "safe: shut down"
			}
			fmt.Fprintf(tw, "  %s\t%s\t%s ch%d\t%s on %s, gain %d, %s\n", ch.Name, partDAC, d.Name, ch.Channel, d.Chip, d.Port, dacGainOf(ch.Gain), safe)
		}
	}
	w.flush(tw)
	if kind, _, ok := c.plant(); ok {
		w.printf("plant: %s\n", kind.summary(c))
	}
}

func (c *Config) ioSummary(w *summaryWriter) {
	if len(c.Inputs) > 0 {
		w.printf("\ninputs (part -> population, encoder):\n")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, in := range c.Inputs {
			settings := ""
			if enc, ok := encoders[in.Encoder]; ok { // a checked config's are
				settings = enc.settings(c, in)
			}
			if in.Encoder == "file" {
				fmt.Fprintf(tw, "  %s\t%s -> %s\t%s\n", in.Name, in.File, in.Population, settings)
				continue
			}
			fmt.Fprintf(tw, "  %s\t%s -> %s\t%s%s\tsafe %g\n", in.Name, in.Part, in.Population, in.Encoder, settings, in.Safe)
		}
		w.flush(tw)
	}
	if len(c.Outputs) > 0 {
		w.printf("\noutputs (population -> part, decoder):\n")
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, o := range c.Outputs {
			settings := ""
			if dec, ok := decoders[o.Decoder]; ok {
				settings = dec.settings(c, o)
			}
			fmt.Fprintf(tw, "  %s\t%s -> %s\t%s%s\tsafe %g\n", o.Name, o.Population, o.Part, o.Decoder, settings, o.Safe)
		}
		w.flush(tw)
	}
}

// NetworkSummary writes the populations, the synapses, the monitors
// (with the neurons each covers: a monitor's neurons subset also
// filters its spikes) and the totals of a loaded network, as `spikeloop
// check FILE` shows a network file.
func NetworkSummary(w io.Writer, net *models.Network) {
	fmt.Fprintf(w, "dt %g ms, duration %g ms (%d steps), seed %d\n\n", net.Dt, net.Duration, net.Steps(), net.Seed)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "population\tmodel\tsize")
	units := 0
	for _, p := range net.Populations {
		fmt.Fprintf(tw, "%s\t%s\t%d\n", p.Name, p.Class.Name, p.Size)
		units += p.Size
	}
	tw.Flush()
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "synapse\tpre -> post\trule\tconnections\tdelays (steps)")
	conns := 0
	for _, s := range net.Synapses {
		name := s.Name
		if name == "" {
			name = fmt.Sprintf("#%d", s.Index)
		}
		lo, hi := int32(0), int32(0)
		for i, d := range s.Delays {
			if i == 0 || d < lo {
				lo = d
			}
			hi = max(hi, d)
		}
		fmt.Fprintf(tw, "%s\t%s -> %s\t%s\t%d\t%d..%d\n", name, s.Pre.Name, s.Post.Name, s.Rule.Rule, len(s.Conns), lo, hi)
		conns += len(s.Conns)
	}
	tw.Flush()
	if len(net.Monitors) > 0 {
		fmt.Fprintln(w)
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "monitor\trecords\tevery (steps)\tneurons (spikes and states)")
		for _, m := range net.Monitors {
			what, size := "", 0
			switch {
			case m.Population != nil:
				what, size = m.Population.Name, m.Population.Size
			case m.Synapse != nil:
				what = "synapse " + m.Synapse.Name
				if what == "synapse " {
					what = fmt.Sprintf("synapse #%d", m.Synapse.Index)
				}
				size = len(m.Synapse.Conns)
			}
			fmt.Fprintf(tw, "%s (line %d)\t%s\t%d\t%s\n", what, m.Line, strings.Join(m.Record, ", "), max(m.Every, 1), coverage(m.Neurons, size))
		}
		tw.Flush()
	}
	fmt.Fprintf(w, "\n%d units, %d connections, %d monitors\n", units, conns, len(net.Monitors))
}

// coverage says which of size units a monitor's subset covers.
func coverage(subset []int, size int) string {
	if subset == nil {
		return fmt.Sprintf("all %d", size)
	}
	const show = 16
	s := make([]string, 0, min(len(subset), show))
	for i, n := range subset {
		if i == show {
			s = append(s, "...")
			break
		}
		s = append(s, strconv.Itoa(n))
	}
	return fmt.Sprintf("%d of %d: %s", len(subset), size, strings.Join(s, ", "))
}

func (c *Config) realtimeSummary(w *summaryWriter) {
	r := c.Realtime
	var parts []string
	if r.CPU != nil {
		parts = append(parts, fmt.Sprintf("cpu %d", *r.CPU))
	}
	if r.Priority > 0 {
		parts = append(parts, fmt.Sprintf("SCHED_FIFO priority %d", r.Priority))
	}
	if r.Spin > 0 {
		parts = append(parts, fmt.Sprintf("spin %s", r.Spin))
	}
	if len(parts) == 0 {
		w.printf("realtime: none (normal scheduler, any CPU, sleep only)\n")
	} else {
		w.printf("realtime: %s (best effort: a refused setting is logged at start)\n", strings.Join(parts, ", "))
	}
	w.printf("logging: level %s, format %s\n", orDefault(c.Logging.Level, "info"), orDefault(c.Logging.Format, "auto"))
}

func (c *Config) telemetrySummary(w *summaryWriter) {
	t := c.Telemetry
	if t == nil {
		w.printf("telemetry: none (no telemetry section)\n")
		return
	}
	p := t.prefix()
	w.printf("\ntelemetry: board %s, every %d ticks (%s), queue %d samples\n", t.Board, t.every, time.Duration(t.every)*c.tick, t.Queue)
	w.printf("  topics: %sstatus (retained), %stelemetry", p, p)
	if len(t.spikePops) > 0 {
		w.printf(", %sspikes", p)
	}
	if len(t.allowed) > 0 {
		w.printf(", %scmd/NAME (commands in), %scmd/NAME/reply", p, p)
	}
	w.printf("\n")
	for _, s := range t.statePops {
		w.printf("  state %s: neurons %s\n", s.key, coverage(s.neurons, population(c.net, s.pop).Size))
	}
	if len(t.Spikes) > 0 {
		w.printf("  spikes of: %s\n", strings.Join(t.Spikes, ", "))
	}
	if b := t.Broker; b != nil {
		auth := "anonymous"
		if b.Username != "" {
			auth = "user " + b.Username
		}
		tls := ""
		if b.TLS != nil {
			tls = ", TLS"
		}
		w.printf("  broker: external %s (%s%s)\n", b.URL, auth, tls)
	} else {
		listen := orDefault(t.Embedded.Listen, telemetry.DefaultBrokerListen)
		cmd := 0
		for _, u := range t.users {
			if u.Command {
				cmd++
			}
		}
		w.printf("  broker: embedded on %s, %d users (%d may send commands); anonymous clients may read %s{status,telemetry,spikes}\n",
			listen, len(t.users), cmd, p)
	}
	if len(t.allowed) > 0 {
		w.printf("  commands:\n")
		for _, name := range slices.Sorted(maps.Keys(t.allowed)) {
			a := t.allowed[name]
			if a.Target == "" {
				w.printf("    %s: %s\n", name, a.Kind)
			} else {
				w.printf("    %s: %s of %s in [%g, %g]\n", name, a.Kind, a.Target, a.Min, a.Max)
			}
		}
	} else {
		w.printf("  commands: none (empty allow-list)\n")
	}
	if t.Metrics.Listen != "" {
		w.printf("  metrics: http://%s/metrics\n", t.Metrics.Listen)
	} else {
		w.printf("  metrics: off\n")
	}
	w.printf("  live page: %s\n", livePageSummary(t))
}

// summaryWriter keeps the first write error, so that the summary's many
// prints are checked once.
type summaryWriter struct {
	w   io.Writer
	err error
}

func (e *summaryWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *summaryWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

func (e *summaryWriter) flush(tw *tabwriter.Writer) {
	if err := tw.Flush(); err != nil && e.err == nil {
		e.err = err
	}
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func dacGainOf(g int) int {
	if g == 0 {
		return 1
	}
	return g
}

// ByteSize writes n bytes for people: "2.6 KiB", "1.97 GiB".
func ByteSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
