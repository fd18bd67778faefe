package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/spikeloop/spikeloop/daemon"
)

// terminal shares one terminal between the status line, redrawn in
// place on stdout, and the log, written line by line to stderr: before
// a log line the status line is erased, and after it the status line is
// drawn again below, so that log lines never end up glued to it.
type terminal struct {
	mu     sync.Mutex
	out    io.Writer // where the status line goes (stdout)
	status string    // the line on screen; "" none
}

// show draws line as the status line, in place of the last one.
func (t *terminal) show(line string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.status = line
	fmt.Fprintf(t.out, "\r%s\x1b[K", line)
}

// end leaves the last status line on screen and moves below it.
func (t *terminal) end() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.status != "" {
		fmt.Fprintln(t.out)
		t.status = ""
	}
}

// logTo returns a writer for the log (w, stderr on the same terminal)
// that clears the status line before each write and redraws it after.
func (t *terminal) logTo(w io.Writer) io.Writer { return &logWriter{t: t, w: w} }

type logWriter struct {
	t *terminal
	w io.Writer
}

// Terminal tells the daemon's logger that w is a terminal, so that it
// keeps the console format.
func (l *logWriter) Terminal() bool { return daemon.IsTerminal(l.w) }

func (l *logWriter) Write(p []byte) (int, error) {
	l.t.mu.Lock()
	defer l.t.mu.Unlock()
	if l.t.status != "" {
		fmt.Fprint(l.t.out, "\r\x1b[K")
	}
	n, err := l.w.Write(p)
	if l.t.status != "" {
		fmt.Fprint(l.t.out, l.t.status)
	}
	return n, err
}

// statusLine returns a figures consumer that shows, four times a second
// of loop time, the loop time, the worst lateness since the last line,
// the overruns, the rate outputs by name and, with an emulated plant,
// its status (the demo's vehicle: where it is and how far from the light):
//
//	t=  12.25s late<=  140µs overruns=0 | left_wheel 60 Hz, right_wheel 0 Hz | vehicle at (-0.42, +0.13) m, 0.61 m from the light
func statusLine(t *terminal, tick time.Duration, outputs []string) func(daemon.Figures) {
	every := max(1, int64(250*time.Millisecond/tick))
	var maxLate time.Duration
	var b strings.Builder
	return func(f daemon.Figures) {
		maxLate = max(maxLate, f.Lateness)
		if (f.Tick+1)%every != 0 {
			return
		}
		b.Reset()
		fmt.Fprintf(&b, "t=%7.2fs late<=%5dµs overruns=%d", (time.Duration(f.Tick+1) * tick).Seconds(), maxLate.Microseconds(), f.Overruns)
		for i, name := range outputs[:min(len(outputs), daemon.StatusOutputs)] {
			sep := ", "
			if i == 0 {
				sep = " | "
			}
			fmt.Fprintf(&b, "%s%s %.0f Hz", sep, name, f.Rates[i])
		}
		if p := f.Plant; p.Of != nil {
			b.WriteString(" | ")
			b.Write(p.Of.Status(nil, p.Values()))
		}
		if l := f.Link; l.HasLink || l.Faults > 0 {
			fmt.Fprintf(&b, " | link %d frames, %d CRC errors, %d retries, %d timeouts, %dµs/tick", l.FramesIn+l.FramesOut, l.CRCErrors, l.Retries, l.Timeouts, l.LastTransfer.Microseconds())
			if l.Reloads > 0 {
				fmt.Fprintf(&b, ", %d reloads", l.Reloads)
			}
		}
		t.show(b.String())
		maxLate = 0
	}
}
