package protocol_test

import (
	"fmt"

	"github.com/spikeloop/spikeloop/firmware/protocol"
)

// A host sends the demo's tick as a RUN and reads the chip's RUN_OK
// from the bytes it clocked in. The chip's side is played here by hand.
func Example() {
	// The host: one RUN of 10 steps, the two light inputs held.
	run := protocol.Run{Steps: 10, Feeds: []protocol.Feed{
		{Pop: 0, Hold: true, Size: 1, Values: []int32{1000 << 16}},
		{Pop: 1, Hold: true, Size: 1, Values: []int32{250 << 16}},
	}}
	req, err := protocol.Append(nil, 41, &run)
	if err != nil {
		panic(err)
	}
	fmt.Println("RUN:", len(req), "bytes")

	// The chip decodes it and answers with the same sequence number.
	f, _, err := protocol.Decode(req)
	if err != nil {
		panic(err)
	}
	var got protocol.Run
	if err := got.Unmarshal(f); err != nil {
		panic(err)
	}
	ok := protocol.RunOK{Now: 10, Spikes: protocol.SpikeList{Base: 1, Spikes: []protocol.Spike{{Off: 6, Pop: 4, Unit: 2}}}}
	resp, _ := protocol.Append(nil, f.Seq(), &ok)

	// The host finds the response among idle-bus bytes and checks it.
	var r protocol.Reader
	r.Write([]byte{0xff, 0xff, 0x00})
	r.Write(resp)
	g, err := r.Next()
	if err != nil {
		panic(err)
	}
	var res protocol.RunOK
	switch g.Type() {
	case protocol.TypeRunOK:
		if err := res.Unmarshal(g); err != nil {
			panic(err)
		}
	case protocol.TypeNak:
		var nak protocol.Nak
		if err := nak.Unmarshal(g); err != nil {
			panic(err)
		}
		panic(nak.Err())
	}
	s := res.Spikes.Spikes[0]
	fmt.Println("RUN_OK:", g.Len(), "bytes, seq", g.Seq(), "now", res.Now)
	fmt.Println("spike: pop", s.Pop, "unit", s.Unit, "stamp", res.Spikes.Stamp(s))
	// Output:
	// RUN: 38 bytes
	// RUN_OK: 46 bytes, seq 41 now 10
	// spike: pop 4 unit 2 stamp 7
}
