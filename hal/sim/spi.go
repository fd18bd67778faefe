package sim

import (
	"errors"
	"fmt"
	"sync"

	"periph.io/x/conn/v3"
	"periph.io/x/conn/v3/physic"
	"periph.io/x/conn/v3/spi"
)

// Chip is the serial logic of an emulated SPI device, clocked one bit
// at a time exactly as the wire is: a transaction starts when CS falls
// (Begin), each SCK cycle shifts one bit in from MOSI and one bit out
// to MISO (Clock), and it ends when CS rises (End).
type Chip interface {
	// Begin starts a transaction (CS low).
	Begin()
	// Clock shifts in one MOSI bit (0 or 1) and returns the MISO bit.
	// A chip that does not drive MISO returns 1 (the line floats high).
	Clock(mosi byte) (miso byte)
	// End finishes the transaction (CS high).
	End()
	// Accepts reports whether the chip works with this SPI setup.
	Accepts(f physic.Frequency, mode spi.Mode, bits int) error
}

// Port is an emulated SPI port with one chip on its chip select. It
// implements spi.PortCloser for hal.Open and spi.Conn for the drivers.
// With no chip, MISO reads as all ones.
type Port struct {
	name string
	chip Chip

	mu        sync.Mutex
	connected bool
	closed    bool
	freq      physic.Frequency
	mode      spi.Mode
	txs       uint64
}

// NewPort returns a port called name with chip c (nil for none).
func NewPort(name string, c Chip) *Port { return &Port{name: name, chip: c} }

// String implements spi.Port and conn.Conn.
func (p *Port) String() string { return p.name }

// Chip returns the chip on the port, or nil.
func (p *Port) Chip() Chip { return p.chip }

// Close implements spi.PortCloser.
func (p *Port) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	return nil
}

// LimitSpeed implements spi.PortCloser.
func (p *Port) LimitSpeed(f physic.Frequency) error {
	if f <= 0 {
		return fmt.Errorf("sim: %s: speed: must be > 0, got %s", p.name, f)
	}
	return nil
}

// Connect implements spi.Port. Like Linux spidev it may be called once.
// Unlike a real port it refuses a setup the chip cannot work with (wrong
// mode, bits or a clock above the chip's maximum): on hardware that
// would read garbage, here it fails at open with the reason.
func (p *Port) Connect(f physic.Frequency, mode spi.Mode, bits int) (spi.Conn, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("sim: %s: port closed", p.name)
	}
	if p.connected {
		return nil, fmt.Errorf("sim: %s: Connect called twice", p.name)
	}
	if f <= 0 {
		return nil, fmt.Errorf("sim: %s: speed: must be > 0, got %s", p.name, f)
	}
	if p.chip != nil {
		if err := p.chip.Accepts(f, mode, bits); err != nil {
			return nil, fmt.Errorf("sim: %s: %w", p.name, err)
		}
	}
	p.connected, p.freq, p.mode = true, f, mode
	return p, nil
}

// Settings returns the speed and mode given to Connect.
func (p *Port) Settings() (physic.Frequency, spi.Mode) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.freq, p.mode
}

// Transactions counts Tx calls and TxPackets transactions.
func (p *Port) Transactions() uint64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.txs
}

// Duplex implements conn.Conn.
func (p *Port) Duplex() conn.Duplex { return conn.Full }

var errTxLen = errors.New("sim: spi: full duplex Tx needs len(r) == len(w) or no r")

// Tx implements conn.Conn: one transaction, CS low for all of w. It does
// not allocate.
func (p *Port) Tx(w, r []byte) error {
	if len(r) != 0 && len(r) != len(w) {
		return errTxLen
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.ready(); err != nil {
		return err
	}
	p.txs++
	p.begin()
	p.shift(w, r)
	p.end()
	return nil
}

// TxPackets implements spi.Conn. CS stays low between packets that set
// KeepCS, so their bits form one transaction for the chip.
func (p *Port) TxPackets(pkts []spi.Packet) error {
	for _, pk := range pkts {
		if len(pk.R) != 0 && len(pk.R) != len(pk.W) {
			return errTxLen
		}
		if pk.BitsPerWord != 0 && pk.BitsPerWord != 8 {
			return fmt.Errorf("sim: %s: bits per word: must be 8 (or 0), got %d", p.name, pk.BitsPerWord)
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.ready(); err != nil {
		return err
	}
	open := false
	for _, pk := range pkts {
		if !open {
			p.txs++
			p.begin()
			open = true
		}
		p.shift(pk.W, pk.R)
		if !pk.KeepCS {
			p.end()
			open = false
		}
	}
	if open {
		p.end()
	}
	return nil
}

var errNotConnected = errors.New("sim: spi: Tx before Connect")
var errClosed = errors.New("sim: spi: port closed")

func (p *Port) ready() error {
	if p.closed {
		return errClosed
	}
	if !p.connected {
		return errNotConnected
	}
	return nil
}

func (p *Port) begin() {
	if p.chip != nil {
		p.chip.Begin()
	}
}

func (p *Port) end() {
	if p.chip != nil {
		p.chip.End()
	}
}

// shift clocks w out MSB first and fills r with what comes back.
func (p *Port) shift(w, r []byte) {
	for i, b := range w {
		var in byte
		for bit := 7; bit >= 0; bit-- {
			miso := byte(1)
			if p.chip != nil {
				miso = p.chip.Clock(b >> uint(bit) & 1)
			}
			in = in<<1 | miso&1
		}
		if len(r) != 0 {
			r[i] = in
		}
	}
}

var (
	_ spi.PortCloser = (*Port)(nil)
	_ spi.Conn       = (*Port)(nil)
)
