package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spikeloop/spikeloop/apu/offline"
	"github.com/spikeloop/spikeloop/daemon"
	"github.com/spikeloop/spikeloop/recording"
)

// simReplay is `spikeloop sim NETWORK --out DIR --replay REC [--segment
// N]`: it runs segment N (from 1; default the first) of a recording of
// `spikeloop run --record` on NETWORK, feeding the recorded sensor
// values through the same encoders, and writes the outputs of a normal
// `sim` run. The spikes are those of the live run, bit for bit.
//
// The whole recording is checked before any output is written. A
// recording that stops early (the daemon was killed, the disk was full,
// a chunk is damaged) replays up to the last complete chunk, with a
// warning on stderr that says where it stopped.
func simReplay(netFile, recFile string, segment int, backend string, given map[string]bool, duration time.Duration,
	inputs inputFlags, opt offline.Options, stdout, stderr io.Writer) error {
	if recFile == "" {
		return usageError{"--replay needs a recording FILE"}
	}
	if len(inputs) > 0 {
		names := make([]string, 0, len(inputs))
		for n := range inputs {
			names = append(names, n)
		}
		slices.Sort(names)
		return usageError{fmt.Sprintf("--input %s cannot be used with --replay: the recording feeds the network's inputs", strings.Join(names, ", "))}
	}
	if given["segment"] && segment < 1 {
		return usageError{fmt.Sprintf("--segment: must be >= 1 (segments are numbered from 1), got %d", segment)}
	}
	netData, err := os.ReadFile(netFile)
	if err != nil {
		return fmt.Errorf("network file: %w", err)
	}
	f, err := os.Open(recFile)
	if err != nil {
		return fmt.Errorf("--replay: %w", err)
	}
	defer f.Close()
	// A recording that stops early (cut short by a kill or a full disk,
	// damaged, rows not recorded) replays up to where it stops, with a
	// warning; one of which nothing replays is an error.
	segs, serr := recording.Scan(f)
	if serr != nil && (len(segs) == 0 || !errors.Is(serr, recording.ErrIncomplete)) {
		return fmt.Errorf("--replay %s: %w", recFile, serr)
	}
	n := max(segment, 1)
	if n > len(segs) {
		return usageError{fmt.Sprintf("--segment: must be 1..%d (%s has %d segment(s), one per run; a reload starts a new one), got %d", len(segs), recFile, len(segs), segment)}
	}
	seg := segs[n-1]
	if seg.Ticks == 0 {
		return fmt.Errorf("--replay %s: segment %d holds no tick to replay: %s", recFile, n, seg.Stop)
	}
	if given["duration"] && duration != seg.Duration() {
		return usageError{fmt.Sprintf("--duration %v differs from the recording's %v (%d ticks of %v); --replay runs the whole recording, leave --duration out",
			duration, seg.Duration(), seg.Ticks, seg.Tick)}
	}
	if sum := recording.Hash(netData); sum != seg.NetworkHash {
		msg := fmt.Sprintf("--replay %s: %s is not the network recorded in segment %d (%s): FNV-1a %016x, recorded %016x",
			recFile, netFile, n, seg.Network, sum, seg.NetworkHash)
		for i, s := range segs {
			if s.NetworkHash == sum {
				msg += fmt.Sprintf("; segment %d was recorded with it (--segment %d)", i+1, i+1)
				break
			}
		}
		return errors.New(msg)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("--replay: %w", err)
	}
	rp, err := daemon.NewReplayer(netData, netFile, f, n-1)
	if err != nil {
		return fmt.Errorf("--replay %s: %w", recFile, err)
	}
	// The recording names the backend it ran on; --backend replays on
	// another (the spikes may then differ from the live run's).
	if given["backend"] && backend != rp.Backend() {
		if err := rp.UseBackend(backend); err != nil {
			return fmt.Errorf("--backend: %w", err)
		}
	}
	net := rp.Network()
	net.Duration = float64(seg.Steps()) * net.Dt
	if net.Steps() != seg.Steps() {
		return fmt.Errorf("--replay %s: %d steps of dt %g ms do not round-trip through the duration", recFile, seg.Steps(), net.Dt)
	}
	if len(segs) > 1 && !given["segment"] {
		fmt.Fprintf(stderr, "spikeloop sim: %s holds %d runs (segments); replaying the first, --segment N picks another\n", recFile, len(segs))
	}
	if serr != nil {
		fmt.Fprintf(stderr, "spikeloop sim: warning: --replay %s: %v\n", recFile, serr)
		if seg.Stop != "" {
			fmt.Fprintf(stderr, "spikeloop sim: warning: segment %d replays up to tick %d, where the recording stops (%d ticks)\n", n, seg.LastTick, seg.Ticks)
		}
	}
	sum, err := offline.Run(net, rp, opt)
	if err != nil {
		return err
	}
	incomplete := ""
	if seg.Stop != "" {
		incomplete = fmt.Sprintf(" (incomplete: the recording stops after tick %d)", seg.LastTick)
	}
	fmt.Fprintf(stdout, "replayed segment %d of %d of %s: %d ticks of %v%s\n", n, len(segs), recFile, seg.Ticks, seg.Tick, incomplete)
	printSummary(stdout, net, sum)
	return nil
}
