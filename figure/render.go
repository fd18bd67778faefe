package figure

import (
	"bufio"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/plotutil"
	"gonum.org/v1/plot/vg"
	vgdraw "gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Panel heights, in inches, and the figure's width.
const (
	figWidth     = 8.0
	rasterHeight = 3.6
	rateHeight   = 1.9
	traceHeight  = 1.7
	pngDPI       = 96
)

// Write draws d as PNG to pngPath and as SVG to svgPath (either may be
// empty to skip it).
func Write(d *Data, pngPath, svgPath string) error {
	plots, heights, err := d.plots()
	if err != nil {
		return err
	}
	var total float64
	for _, h := range heights {
		total += h
	}
	w, h := vg.Length(figWidth)*vg.Inch, vg.Length(total)*vg.Inch
	if pngPath != "" {
		c := vgimg.NewWith(vgimg.UseWH(w, h), vgimg.UseDPI(pngDPI), vgimg.UseBackgroundColor(color.White))
		drawAll(vgdraw.New(c), plots, heights)
		if err := writeFile(pngPath, pngWriter{paletted(c.Image(), len(d.Populations))}); err != nil {
			return err
		}
	}
	if svgPath != "" {
		c := vgsvg.New(w, h)
		dc := vgdraw.New(c)
		dc.SetColor(color.White)
		dc.Fill(dc.Rectangle.Path())
		drawAll(dc, plots, heights)
		if err := writeFile(svgPath, c); err != nil {
			return err
		}
	}
	return nil
}

// paletted maps img to at most 256 colours: greys and each population
// colour blended with white (all that anti-aliased lines and dots on a
// white figure hold). A raster's PNG is a third of its RGBA size.
func paletted(img image.Image, pops int) *image.Paletted {
	var pal color.Palette
	for i := range 32 {
		v := uint8(i * 255 / 31)
		pal = append(pal, color.RGBA{v, v, v, 255})
	}
	n := max(pops, 3) // trace lines use the first colours too
	levels := min(16, (256-len(pal))/n)
	for i := range n {
		r, g, b, _ := popColor(i).RGBA()
		for l := 1; l <= levels; l++ {
			f := float64(l) / float64(levels)
			mix := func(c uint32) uint8 { return uint8(255 - f*(255-float64(c>>8))) }
			pal = append(pal, color.RGBA{mix(r), mix(g), mix(b), 255})
		}
	}
	out := image.NewPaletted(img.Bounds(), pal)
	draw.Draw(out, out.Bounds(), img, img.Bounds().Min, draw.Src)
	return out
}

type pngWriter struct{ img image.Image }

func (p pngWriter) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	err := png.Encode(cw, p.img)
	return cw.n, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(b []byte) (int, error) {
	n, err := c.w.Write(b)
	c.n += int64(n)
	return n, err
}

func writeFile(path string, w io.WriterTo) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("plot: %w", err)
	}
	bw := bufio.NewWriter(f)
	if _, err := w.WriteTo(bw); err != nil {
		f.Close()
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("plot: writing %s: %w", path, err)
	}
	return nil
}

// drawAll stacks the plots top to bottom, their data areas aligned on
// the left edge.
func drawAll(dc vgdraw.Canvas, plots []*plot.Plot, heights []float64) {
	canvases := make([]vgdraw.Canvas, len(plots))
	top := dc.Max.Y
	var left vg.Length
	for i, p := range plots {
		hgt := vg.Length(heights[i]) * vg.Inch
		c := dc
		c.Min.Y, c.Max.Y = top-hgt, top
		top -= hgt
		canvases[i] = c
		left = max(left, p.DataCanvas(c).Min.X-c.Min.X)
	}
	for i, p := range plots {
		c := canvases[i]
		pad := left - (p.DataCanvas(c).Min.X - c.Min.X)
		p.Draw(vgdraw.Crop(c, pad, 0, 0, 0))
	}
}

func (d *Data) plots() ([]*plot.Plot, []float64, error) {
	var plots []*plot.Plot
	var heights []float64
	if len(d.Populations) > 0 {
		plots = append(plots, d.rasterPlot(), d.ratePlot())
		heights = append(heights, rasterHeight, rateHeight)
	}
	for _, tr := range d.Traces {
		p, err := d.tracePlot(tr)
		if err != nil {
			return nil, nil, err
		}
		plots = append(plots, p)
		heights = append(heights, traceHeight)
	}
	return plots, heights, nil
}

func popColor(i int) color.Color { return plotutil.Color(i) }

func (d *Data) rasterPlot() *plot.Plot {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("%s spikes in %g ms (%s)", thousands(d.Spikes), d.Duration, filepath.Base(d.Dir))
	if d.Raster.Binned {
		p.Title.Text += fmt.Sprintf("\nbinned: one dot per %.3g ms x %d-neuron cell that holds a spike (%s cells)",
			d.Raster.CellMs, d.Raster.CellRows, thousands(int64(len(d.Raster.Points))))
	}
	p.X.Label.Text = "time (ms)"
	p.X.Min, p.X.Max = 0, d.Duration
	rows := d.Offsets[len(d.Offsets)-1] + d.Populations[len(d.Populations)-1].Size
	p.Y.Min, p.Y.Max = -0.5, float64(rows)-0.5
	p.Y.Tick.Marker = popTicks{d}
	p.Y.Label.Text = "neuron"
	p.Add(rasterDots{d})
	return p
}

// popTicks labels each population's band with its name and marks the
// band edges.
type popTicks struct{ d *Data }

func (t popTicks) Ticks(_, _ float64) []plot.Tick {
	var ticks []plot.Tick
	for i, p := range t.d.Populations {
		off := float64(t.d.Offsets[i])
		ticks = append(ticks,
			plot.Tick{Value: off - 0.5},
			plot.Tick{Value: off + float64(p.Size)/2 - 0.5, Label: p.Name})
	}
	last := len(t.d.Populations) - 1
	ticks = append(ticks, plot.Tick{Value: float64(t.d.Offsets[last]+t.d.Populations[last].Size) - 0.5})
	return ticks
}

// rasterDots draws each raster point as a small square, one path per
// population so that an SVG holds a few elements, not one per dot.
type rasterDots struct{ d *Data }

func (r rasterDots) Plot(c vgdraw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	w := max(vg.Points(0.75), trX(r.d.Raster.CellMs)-trX(0))
	rows := float64(r.d.Raster.CellRows)
	if !r.d.Raster.Binned {
		rows = 1
	}
	h := max(vg.Points(0.75), trY(rows)-trY(0))
	if !r.d.Raster.Binned {
		w = vg.Points(1.2)
		h = max(vg.Points(0.75), min(vg.Points(2), h))
	}
	// Cells next to each other in a row are drawn as one rectangle (a
	// dense binned raster is mostly runs), and paths are filled in
	// batches, so that neither the path nor the SVG grows one element per
	// dot.
	const batch = 2048
	pts := r.d.Raster.Points
	for pop := range r.d.Populations {
		c.SetColor(popColor(pop))
		var path vg.Path
		rects := 0
		for i := 0; i < len(pts); i++ {
			pt := pts[i]
			if pt.Pop != pop {
				continue
			}
			end := pt.T
			if r.d.Raster.Binned {
				for i+1 < len(pts) && pts[i+1].Row == pt.Row && pts[i+1].T-end < 1.5*r.d.Raster.CellMs {
					i++
					end = pts[i].T
				}
			}
			x0, x1, y := trX(pt.T)-w/2, trX(end)+w/2, trY(pt.Row)-h/2
			path.Move(vg.Point{X: x0, Y: y})
			path.Line(vg.Point{X: x1, Y: y})
			path.Line(vg.Point{X: x1, Y: y + h})
			path.Line(vg.Point{X: x0, Y: y + h})
			path.Close()
			if rects++; rects == batch {
				c.Fill(path)
				path, rects = path[:0], 0
			}
		}
		if rects > 0 {
			c.Fill(path)
		}
	}
}

func (r rasterDots) DataRange() (xmin, xmax, ymin, ymax float64) {
	return 0, r.d.Duration, 0, 1
}

func (d *Data) ratePlot() *plot.Plot {
	p := plot.New()
	p.Title.Text = fmt.Sprintf("rate per neuron, bins of %g ms", d.Rates.Bin)
	p.X.Label.Text = "time (ms)"
	p.Y.Label.Text = "rate (Hz)"
	p.X.Min, p.X.Max = 0, d.Duration
	p.Y.Min = 0
	p.Legend.Top = true
	for i, hz := range d.Rates.Hz {
		pts := make(plotter.XYs, len(hz))
		for k, v := range hz {
			pts[k] = plotter.XY{X: min(d.Duration, (float64(k)+0.5)*d.Rates.Bin), Y: v}
		}
		l, err := plotter.NewLine(pts)
		if err != nil {
			continue // only NaN or Inf rates, which counts cannot give
		}
		l.Color = popColor(i)
		l.Width = vg.Points(1.2)
		p.Add(l)
		p.Legend.Add(d.Populations[i].Name, l)
	}
	return p
}

func (d *Data) tracePlot(tr Trace) (*plot.Plot, error) {
	p := plot.New()
	labels := make([]string, len(tr.Lines))
	for i, l := range tr.Lines {
		labels[i] = l.Label
	}
	p.Title.Text = fmt.Sprintf("%s, %s %s", tr.Name, columnWord(tr.Name), strings.Join(labels, ", "))
	if tr.Columns > len(tr.Lines) {
		p.Title.Text += fmt.Sprintf(" (first %d of %d)", len(tr.Lines), tr.Columns)
	}
	if tr.Every > 1 {
		p.Title.Text += fmt.Sprintf("\n%s samples: min and max of every %d drawn", thousands(int64(tr.Rows)), tr.Every)
	}
	p.X.Label.Text = "time (ms)"
	_, state, _ := strings.Cut(tr.Name, ".")
	p.Y.Label.Text = state
	if d.Duration > 0 {
		p.X.Min, p.X.Max = 0, d.Duration
	}
	for i, l := range tr.Lines {
		pts := make(plotter.XYs, len(l.T))
		for k := range l.T {
			pts[k] = plotter.XY{X: l.T[k], Y: l.Y[k]}
			if math.IsNaN(l.Y[k]) || math.IsInf(l.Y[k], 0) {
				return nil, fmt.Errorf("plot: %s: column %s holds %v at %g ms, which cannot be drawn", tr.File, l.Label, l.Y[k], l.T[k])
			}
		}
		line, err := plotter.NewLine(pts)
		if err != nil {
			return nil, fmt.Errorf("plot: %s: %w", tr.File, err)
		}
		line.Color = plotutil.Color(i)
		p.Add(line)
	}
	return p, nil
}

func columnWord(name string) string {
	if strings.HasSuffix(name, ".weight") {
		return "connections"
	}
	return "neurons"
}

// thousands prints n with comma separators.
func thousands(n int64) string {
	s := fmt.Sprint(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 && s[0] != '-' {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}
