package remote_test

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/remote"
	"github.com/spikeloop/spikeloop/firmware/chip"
	"github.com/spikeloop/spikeloop/firmware/protocol"
)

// fuzzChip answers from a real chip until armed, then with frames made
// from the fuzzer's bytes: well-formed (good CRC, the request's
// sequence number) but of any type and payload, as a faulty chip would
// send.
type fuzzChip struct {
	c     *chip.Chip
	data  []byte
	armed bool
	resp  []byte
}

func (f *fuzzChip) Send(frame []byte) error {
	if !f.armed {
		f.resp = f.c.Handle(frame, f.resp[:0])
		return nil
	}
	seq := binary.LittleEndian.Uint16(frame[4:])
	f.resp = f.resp[:0]
	if len(f.data) < 3 {
		return nil // nothing more: a lost response
	}
	typ := protocol.Type(f.data[0])
	n := int(binary.LittleEndian.Uint16(f.data[1:])) % 600
	f.data = f.data[3:]
	n = min(n, len(f.data))
	f.resp, _ = protocol.AppendFrame(f.resp, typ, seq, f.data[:n])
	f.data = f.data[n:]
	return nil
}

func (f *fuzzChip) Receive(r *protocol.Reader, _ time.Time) (int, bool, error) {
	if len(f.resp) == 0 {
		return 0, false, remote.ErrTimeout
	}
	r.Reset()
	r.Write(f.resp)
	return len(f.resp), true, nil
}

func (f *fuzzChip) Reset() error   { return remote.ErrNoReset }
func (f *fuzzChip) Close() error   { return nil }
func (f *fuzzChip) String() string { return "fuzz" }

// FuzzResponses: whatever well-formed frames a faulty chip answers a
// Run, Set, State or Reset with, the host does not panic, and an error
// leaves Now where it was or moves it by the steps of RUN_OKs it took.
// go test -run '^$' -fuzz FuzzResponses -fuzzminimizetime 5s ./apu/remote
func FuzzResponses(f *testing.F) {
	runOK := protocol.RunOK{Now: 10, Spikes: protocol.SpikeList{Base: 3, Spikes: []protocol.Spike{{Off: 1, Pop: 3, Unit: 1}}}}
	seed := []byte{byte(protocol.TypeRunOK), 0, 0}
	p := runOK.Marshal(nil)
	seed[1], seed[2] = byte(len(p)), byte(len(p)>>8)
	f.Add(append(seed, p...))
	readOK := protocol.ReadOK{What: protocol.ReadState, Values: []int32{1, 2}}
	p = readOK.Marshal(nil)
	f.Add(append([]byte{byte(protocol.TypeReadOK), byte(len(p)), 0}, p...))
	nak := protocol.Nak{Code: protocol.CodeNoImage, Request: protocol.TypeRun}
	p = nak.Marshal(nil)
	f.Add(append([]byte{byte(protocol.TypeNak), byte(len(p)), 0}, p...))
	f.Add([]byte{byte(protocol.TypeAck), 8, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	net := demoNet(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		fc := &fuzzChip{c: chip.New(chip.Config{})}
		rb, err := remote.Open(remote.Config{Link: fc, Retries: 1})
		if err != nil {
			t.Fatal(err)
		}
		if err := rb.Load(net); err != nil {
			t.Fatal(err)
		}
		fc.armed, fc.data = true, data
		left, right := make([]float64, 10), make([]float64, 10)
		var rec apu.Record
		for k := 0; k < 4; k++ {
			_ = rb.Run(10, demoFeeds(k, left, right))
			rb.Drain(&rec)
			for _, s := range rec.Spikes {
				if s.Pop < 0 || int(s.Pop) >= len(net.Populations) || s.Stamp <= 0 || s.Stamp > rb.Now() {
					t.Fatalf("spike %+v recorded at step %d", s, rb.Now())
				}
			}
			_ = rb.Set("eye_left", apu.DCAmplitude, []float64{1}) // refused by the host: not a DC generator
			_, _ = rb.State("motor_left", "V", []int{0}, nil)
			_ = rb.Reset()
		}
	})
}
