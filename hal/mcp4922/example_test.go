package mcp4922_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"

	"github.com/spikeloop/spikeloop/hal/mcp4922"
)

func Example() {
	// 1.25 V on DAC B with a 2.5 V reference, gain 1x, unbuffered.
	code, err := mcp4922.Code(1.25, 2.5, 1)
	if err != nil {
		log.Fatal(err)
	}
	w, _ := mcp4922.Word(mcp4922.B, code, mcp4922.Settings{Gain: 1}, true)
	fmt.Printf("code %d, word %#04x\n", code, w)

	// The playback stands in for the chip and checks the bytes sent.
	port := &spitest.Playback{Playback: conntest.Playback{Ops: []conntest.IO{
		{W: []byte{byte(w >> 8), byte(w)}},
	}}}
	c, err := port.Connect(10*physic.MegaHertz, spi.Mode0, 8)
	if err != nil {
		log.Fatal(err)
	}
	dac, err := mcp4922.New(c)
	if err != nil {
		log.Fatal(err)
	}
	if err := dac.Write(mcp4922.B, code, mcp4922.Settings{Gain: 1}); err != nil {
		log.Fatal(err)
	}
	fmt.Println(port.Close())
	// Output:
	// code 2048, word 0xb800
	// <nil>
}
