package main

import (
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"time"

	"github.com/spikeloop/spikeloop/figure"
	"github.com/spikeloop/spikeloop/models"
)

var plotDoc = cmdDoc{
	usage: []string{"plot DIR [--net FILE] [--bin D]"},
	text: `Draws the output of "spikeloop sim" in DIR as DIR/plot.png and
DIR/plot.svg: a spike raster (one colour per population, names on the
axis), the rate per neuron of each population over time, and one panel
per recorded state (POPULATION.STATE.csv, SYNAPSE.weight.csv).

A raster of more than 50,000 spikes is drawn binned: one dot per cell
of time x neurons that holds a spike, and the figure says so; a trace of
more than 1,000 samples is drawn as the min and max of each run of
samples. Memory stays bounded however many spikes the files hold.

Without --net, each population's size is its largest neuron number in
spikes.csv plus one and the populations are in name order; with the
network file the sizes, order and recorded neurons are the file's.
"spikeloop sim --plot" draws the figure right after the run.

arguments:
  DIR     the --out folder of "spikeloop sim"
`,
}

func cmdPlot(args []string, stdout io.Writer) error {
	fs := newFlags("plot")
	netFile := fs.String("net", "", "the network `FILE` that made DIR: population sizes, order and recorded neurons")
	bin := durationFlag(fs, "bin", 0, "rate bin width, e.g. 5ms (default: a round width giving about 100 bins)")
	pos, err := parseFlags(fs, plotDoc, args)
	if err != nil {
		return err
	}
	if helpArg(pos, true) {
		return helpRequest{helpText(fs, plotDoc)}
	}
	if len(pos) != 1 {
		return usageError{"want exactly one DIR (the --out folder of spikeloop sim)"}
	}
	if *bin < 0 {
		return usageError{fmt.Sprintf("--bin: must be > 0 (or left out for about 100 bins), got %v", *bin)}
	}
	opt := figure.Options{Bin: float64(*bin) / float64(time.Millisecond)}
	if *netFile != "" {
		net, err := models.LoadFile(*netFile, models.NewRegistry(), models.DefaultLimits)
		if err != nil {
			return err
		}
		opt.Populations = plotPopulations(net)
		opt.Duration = net.Duration
	}
	return plotDir(pos[0], opt, stdout)
}

// plotDir draws DIR/plot.png and DIR/plot.svg.
func plotDir(dir string, opt figure.Options, stdout io.Writer) error {
	d, err := figure.Prepare(dir, opt)
	if err != nil {
		return err
	}
	png, svg := filepath.Join(dir, "plot.png"), filepath.Join(dir, "plot.svg")
	if err := figure.Write(d, png, svg); err != nil {
		return err
	}
	if d.Raster.Binned {
		fmt.Fprintf(stdout, "raster of %d spikes binned to %d cells of %.3g ms x %d neurons\n",
			d.Spikes, len(d.Raster.Points), d.Raster.CellMs, d.Raster.CellRows)
	}
	fmt.Fprintln(stdout, "wrote", png)
	fmt.Fprintln(stdout, "wrote", svg)
	return nil
}

// plotPopulations are the populations whose spikes net records, in the
// file's order, with their sizes and the number of neurons recorded.
func plotPopulations(net *models.Network) []figure.Population {
	recorded := map[string]map[int]bool{}
	all := map[string]bool{}
	for _, m := range net.Monitors {
		if m.Population == nil || !slices.Contains(m.Record, "spikes") {
			continue
		}
		name := m.Population.Name
		if m.Neurons == nil {
			all[name] = true
		}
		if recorded[name] == nil {
			recorded[name] = map[int]bool{}
		}
		for _, n := range m.Neurons {
			recorded[name][n] = true
		}
	}
	var out []figure.Population
	for _, p := range net.Populations {
		r, ok := recorded[p.Name]
		if !ok {
			continue
		}
		n := p.Size
		if !all[p.Name] {
			n = len(r)
		}
		out = append(out, figure.Population{Name: p.Name, Size: p.Size, Recorded: n})
	}
	return out
}
