package remote_test

import (
	"fmt"
	"testing"
	"time"

	"periph.io/x/conn/v3/physic"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/remote"
	"github.com/spikeloop/spikeloop/firmware/emulator"
)

// benchTicks runs the demo's ticks (Run of 10 steps with the light
// sensors' currents, Drain) on rb and reports the link's cost per tick:
// frames, bytes on the wire, resends, and the time on the wire when wire
// gives it. held: one reading per tick, the same in its 10 steps (sent
// as one held row); else a value per step.
func benchTicks(b *testing.B, rb *remote.Backend, held bool, wire func() time.Duration) {
	if err := rb.Load(demoNet(b)); err != nil {
		b.Fatal(err)
	}
	left, right := make([]float64, 10), make([]float64, 10)
	var rec apu.Record
	ticks := make([][]apu.Feed, 1000)
	for k := range ticks {
		fs := demoFeeds(k, left, right)
		if held {
			for s := range 10 {
				fs[0].Values[s], fs[1].Values[s] = fs[0].Values[0], fs[1].Values[0]
			}
		}
		ticks[k] = []apu.Feed{{Pop: fs[0].Pop, Values: append([]float64(nil), fs[0].Values...)}, {Pop: fs[1].Pop, Values: append([]float64(nil), fs[1].Values...)}}
	}
	for k := range 100 { // buffers grown
		if err := rb.Run(10, ticks[k]); err != nil {
			b.Fatal(err)
		}
		rb.Drain(&rec)
	}
	s0 := rb.Stats()
	w0 := wire()
	spikes := 0
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := rb.Run(10, ticks[i%len(ticks)]); err != nil {
			b.Fatal(err)
		}
		rb.Drain(&rec)
		spikes += len(rec.Spikes)
	}
	b.StopTimer()
	s := rb.Stats()
	n := float64(b.N)
	b.ReportMetric(float64(s.FramesOut+s.FramesIn-s0.FramesOut-s0.FramesIn)/n, "frames/tick")
	b.ReportMetric(float64(s.BytesOut+s.BytesIn-s0.BytesOut-s0.BytesIn)/n, "B/tick")
	b.ReportMetric(float64(s.Retries-s0.Retries)/n, "retries/tick")
	b.ReportMetric(float64(spikes)/n, "spikes/tick")
	if w := wire() - w0; w > 0 {
		b.ReportMetric(float64(w.Nanoseconds())/1e3/n, "wire-us/tick")
	}
}

// The demo's tick through the emulated bit-serial SPI port at 1, 10 and
// 20 MHz. ns/op is the host's wall time per tick, which includes
// clocking every bit through the emulator in software; wire-us/tick is
// the time the same bytes take on a wire at the port's clock (the
// emulator's count of clocked bits).
func BenchmarkDemoTickSPI(b *testing.B) {
	for _, held := range []bool{true, false} {
		for _, mhz := range []int{1, 10, 20} {
			name := fmt.Sprintf("held/%dMHz", mhz)
			if !held {
				name = fmt.Sprintf("perstep/%dMHz", mhz)
			}
			b.Run(name, func(b *testing.B) {
				link, emu := spiLinkAt(b, emulator.Config{}, physic.Frequency(mhz)*physic.MegaHertz)
				rb, err := remote.Open(remote.Config{Link: link})
				if err != nil {
					b.Fatal(err)
				}
				defer rb.Close()
				benchTicks(b, rb, held, func() time.Duration { return emu.Stats().Link })
			})
		}
	}
}

// The demo's tick over a unix socket to emulator.Serve (`spikeloop apu
// serve`).
func BenchmarkDemoTickStream(b *testing.B) {
	rb, _ := onStream(b, emulator.Config{}, remote.Config{})
	benchTicks(b, rb, true, func() time.Duration { return 0 })
}
