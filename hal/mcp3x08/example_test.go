package mcp3x08_test

import (
	"fmt"
	"log"

	"periph.io/x/conn/v3/conntest"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
	"periph.io/x/conn/v3/spi/spitest"

	"github.com/spikeloop/spikeloop/hal/mcp3x08"
)

func Example() {
	// On a board the port comes from spireg.Open("SPI0.0"); here a
	// playback of one conversion stands in for the chip: channel 2,
	// single-ended, answering code 0x1FF.
	port := &spitest.Playback{Playback: conntest.Playback{Ops: []conntest.IO{
		{W: []byte{0x01, 0xA0, 0x00}, R: []byte{0x00, 0x01, 0xFF}},
	}}}
	c, err := port.Connect(1*physic.MegaHertz, spi.Mode0, 8)
	if err != nil {
		log.Fatal(err)
	}
	adc, err := mcp3x08.New(c, mcp3x08.MCP3008)
	if err != nil {
		log.Fatal(err)
	}
	code, err := adc.ReadSingle(2)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("code %d = %.3f V\n", code, mcp3x08.MCP3008.Volts(code, 3.3))
	// Output: code 511 = 1.647 V
}
