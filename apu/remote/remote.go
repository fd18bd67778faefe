// Package remote is the backend that drives an APU over a link (the
// backend registered as "apu"): SPI through periph's spi.Conn with a
// data-ready and a reset line (a real board, or hal/sim's emulated
// port), or a stream socket (`spikeloop apu serve`). It compiles the
// network (apu/compile), checks the chip at HELLO (protocol, firmware
// and image versions, the kinds it runs, its memory), uploads the image
// in chunks with its SHA-256, and then runs one RUN per tick with the
// tick's inputs, whose response carries the tick's spikes. The host-side
// conversions are apu/fixed's (compile.Conv, compile.Records), so that
// the chip and the fixed backend agree bit for bit.
//
// Every frame received is checked by firmware/protocol before a field
// of it is read. A request whose response is lost or corrupted is sent
// again with the same sequence number (the chip answers a repeat from
// its last response, never executing it twice), up to Config.Retries
// times with Config.Timeout each. What cannot be recovered is a
// *LinkError (apu.ErrLink; apu.ErrRetryable when the same call may be
// repeated), naming the link and what failed. A chip that reset itself
// (its boot counter changed, its image gone) is an ErrLink that is not
// retryable: Reset reloads the image and starts again from t = 0.
package remote

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spikeloop/spikeloop/apu"
	"github.com/spikeloop/spikeloop/apu/compile"
	"github.com/spikeloop/spikeloop/firmware/chip"
	"github.com/spikeloop/spikeloop/firmware/image"
	"github.com/spikeloop/spikeloop/firmware/protocol"
	"github.com/spikeloop/spikeloop/models"
)

// Name is the name the backend is registered under (apu.Register).
const Name = "apu"

// Defaults of Config's zero fields.
const (
	DefaultRetries = 3
	DefaultTimeout = 100 * time.Millisecond
)

// Config sets up a backend.
type Config struct {
	// Link reaches the chip (NewSPI, Dial). The backend closes it.
	Link Transport
	// Retries is how many times a request is sent again after a lost
	// or corrupted response (default DefaultRetries; negative: none).
	Retries int
	// Timeout is how long a response may take (default DefaultTimeout).
	Timeout time.Duration
	// Firmware is the firmware version the host drives (default
	// chip.Version): a chip whose major version differs is refused.
	Firmware uint32
	// ChipSpikes and ChipValues are the chip's record buffers (default
	// chip.DefaultSpikes and chip.DefaultValues): a RUN runs no more
	// steps than their worst case fills.
	ChipSpikes, ChipValues int
}

// LinkEnv names the stream Opener dials when the options give no link
// (`spikeloop sim` and `check` have no config): unix:PATH or
// tcp:HOST:PORT.
const LinkEnv = "SPIKELOOP_APU_LINK"

// Opener is the apu.Opener of the "apu" backend: the link is opt.Link
// (an SPI connection with its lines, or a stream address to dial), else
// the stream named by $SPIKELOOP_APU_LINK. The caller keeps the SPI
// connection and the pins; Close closes only a stream the backend
// dialed. Link.Retries and Link.Timeout 0 take DefaultRetries and
// DefaultTimeout.
func Opener(opt apu.Options) (apu.Backend, error) {
	l := opt.Link
	if l == nil && os.Getenv(LinkEnv) != "" {
		// A command with no link of its own (spikeloop sim, check).
		l = &apu.Link{Stream: os.Getenv(LinkEnv)}
	}
	if l == nil {
		return nil, fmt.Errorf("apu backend: no link: the backend needs an SPI connection or a stream address (unix:PATH or tcp:HOST:PORT, e.g. of `spikeloop apu serve`; $%s for commands without a config): %w", LinkEnv, apu.ErrUnsupported)
	}
	cfg := Config{Retries: l.Retries, Timeout: l.Timeout} // 0: the defaults
	if l.SPI != nil {
		// apu.Link.Name reads "spi SPI0.1"; the SPI link says "spi ".
		name := strings.TrimPrefix(l.Name, "spi ")
		if name == "" {
			name = l.SPI.String()
		}
		t, err := NewSPI(name, l.SPI, l.DataReady, l.Reset)
		if err != nil {
			return nil, fmt.Errorf("apu backend: %w", err)
		}
		cfg.Link = t
	} else {
		t, err := Dial(l.Stream, time.Second)
		if err != nil {
			return nil, fmt.Errorf("apu backend: %w", err)
		}
		cfg.Link = t
	}
	return Open(cfg)
}

// Backend runs a network on a chip over a link.
type Backend struct {
	cfg  Config
	c    *conn
	name string

	hello    protocol.HelloOK
	boot     uint32
	haveBoot bool
	maxPay   int

	// The loaded network.
	net    *models.Network
	img    *image.Image
	rep    *compile.Report
	conv   *compile.Conv
	rec    *compile.Records
	imgBin []byte
	hash   [32]byte
	now    int64
	// broken is the error every call returns until Reset or a new Load
	// (the chip's state is unknown); lost says the chip lost its image.
	broken error
	lost   bool

	lastRun time.Duration // time on the link of the last Run
	dropped uint32        // the chip's dropped count at the last check

	spikeUnits int // units recorded for spikes: a step's worst case
	traceVals  int // trace values a step records
	traceRows  int // trace rows a step records
	traces     []traceBuf

	// Requests and responses, kept for their slices.
	run    protocol.Run
	runOK  protocol.RunOK
	read   protocol.Read
	readOK protocol.ReadOK
	set    protocol.Set
	ack    protocol.Ack
	status protocol.StatusOK
	pops   []*compile.HostPop
	vals   []int32 // all feeds' values of a RUN
	sum    []int64 // State's sums
}

// traceBuf holds the rows of one (monitor, state position) read from
// the chip until every state of the monitor is in.
type traceBuf struct {
	mon    int
	pos    uint16
	state  uint8
	first  bool // the monitor's first state: the others follow it
	stamps []int64
	values []int32
	width  int
}

var (
	_ apu.Backend    = (*Backend)(nil)
	_ apu.LinkStater = (*Backend)(nil)
)

// Open returns an unloaded backend on cfg.Link. It does not talk to the
// chip yet (Probe and Load do).
func Open(cfg Config) (*Backend, error) {
	if cfg.Link == nil {
		return nil, errors.New("apu backend: no link")
	}
	if cfg.Retries == 0 {
		cfg.Retries = DefaultRetries
	} else if cfg.Retries < 0 {
		cfg.Retries = 0
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Firmware == 0 {
		cfg.Firmware = chip.Version
	}
	if cfg.ChipSpikes <= 0 {
		cfg.ChipSpikes = chip.DefaultSpikes
	}
	if cfg.ChipValues <= 0 {
		cfg.ChipValues = chip.DefaultValues
	}
	return &Backend{cfg: cfg, c: newConn(cfg.Link, cfg.Retries, cfg.Timeout), name: cfg.Link.String()}, nil
}

// Stats returns the link's counts since Open.
func (b *Backend) Stats() Stats { return b.c.stats }

// LinkStats implements apu.LinkStater (the daemon's telemetry).
func (b *Backend) LinkStats() apu.LinkStats {
	s := &b.c.stats
	return apu.LinkStats{
		Requests: s.Requests, FramesOut: s.FramesOut, FramesIn: s.FramesIn,
		BytesOut: s.BytesOut, BytesIn: s.BytesIn, CRCErrors: s.CRCErrors,
		Retries: s.Retries, Timeouts: s.Timeouts, ChipResets: s.ChipResets,
		Transfer: s.Transfer, LastTransfer: b.lastRun,
	}
}

// Hello is the chip's last HELLO_OK (zero before the first).
func (b *Backend) Hello() protocol.HelloOK { return b.hello }

// Report is the quantization report of the loaded network.
func (b *Backend) Report() *compile.Report { return b.rep }

// Image is the compiled image of the loaded network.
func (b *Backend) Image() *image.Image { return b.img }

// Link names the link.
func (b *Backend) Link() string { return b.name }

func version(v uint32) string {
	return fmt.Sprintf("%d.%d.%d", v>>16, v>>8&0xFF, v&0xFF)
}

// sayHello asks the chip who it is and checks the versions. A boot
// counter that changed since the last HELLO is a chip reset.
func (b *Backend) sayHello() error {
	var h protocol.Hello
	if err := b.c.call(&h, &b.hello); err != nil {
		// HELLO changes nothing: it may be repeated.
		return retryable(b.linkErr(protocol.TypeHello, "HELLO", err))
	}
	hl := &b.hello
	if hl.Protocol != protocol.Version {
		return fmt.Errorf("apu backend: link %s: the chip speaks protocol version %d, this host %d: %w", b.name, hl.Protocol, protocol.Version, apu.ErrUnsupported)
	}
	if hl.Firmware>>16 != b.cfg.Firmware>>16 {
		return fmt.Errorf("apu backend: link %s: the chip runs firmware %s, this host drives firmware %s (major versions differ): %w",
			b.name, version(hl.Firmware), version(b.cfg.Firmware), apu.ErrUnsupported)
	}
	if hl.ImageVersion != image.Version {
		return fmt.Errorf("apu backend: link %s: the chip's firmware %s reads image format %d, this host compiles format %d: %w",
			b.name, version(hl.Firmware), hl.ImageVersion, image.Version, apu.ErrUnsupported)
	}
	if hl.MaxPayload > protocol.MaxPayload || hl.MaxPayload < 256 {
		return fmt.Errorf("apu backend: link %s: the chip's payload: must be 256..%d bytes, got %d: %w", b.name, protocol.MaxPayload, hl.MaxPayload, apu.ErrUnsupported)
	}
	b.maxPay = int(hl.MaxPayload)
	if b.haveBoot && hl.BootCount != b.boot {
		old := b.boot
		b.boot = hl.BootCount
		return b.chipReset(protocol.TypeHello, old)
	}
	b.boot, b.haveBoot = hl.BootCount, true
	return nil
}

// chipReset records a chip that reset itself (boot counter changed).
func (b *Backend) chipReset(t protocol.Type, old uint32) error {
	b.c.stats.ChipResets++
	b.lost = true
	err := &LinkError{Link: b.name, Request: t, ChipReset: true,
		What: fmt.Sprintf("the chip reset itself (boot counter %d -> %d): its image and state are lost; Reset reloads it", old, b.boot)}
	b.broken = err
	return err
}

// linkErr wraps a call's failure: a *LinkError as it is, a refusal with
// its code and text.
func (b *Backend) linkErr(t protocol.Type, what string, err error) error {
	var le *LinkError
	if errors.As(err, &le) {
		return err
	}
	return fmt.Errorf("apu backend: %s: %w", what, err)
}

// checkChip supports a network: every kind it needs, and memory.
func (b *Backend) checkChip(img *image.Image, rep *compile.Report) error {
	for i := range img.Pops {
		k := img.Pops[i].Kind
		if !b.hello.Supports(k) {
			return fmt.Errorf("apu backend: population %q: the chip's firmware %s does not run %s populations: %w",
				rep.Host.Pops[rep.Host.FileIndex[i]].Name, version(b.hello.Firmware), image.KindName(k), apu.ErrUnsupported)
		}
	}
	if need := rep.RAM + rep.ImageBytes; need > int64(b.hello.Memory) {
		return fmt.Errorf("apu backend: the network needs %d bytes of chip memory (image %d, state %d), the chip has %d: %w",
			need, rep.ImageBytes, rep.RAM, b.hello.Memory, apu.ErrUnsupported)
	}
	return nil
}

// Probe implements apu.Backend: the network compiles, and the chip
// (HELLO) runs its kinds and has the memory.
func (b *Backend) Probe(net *models.Network) (apu.Probe, error) {
	if net == nil {
		return apu.Probe{}, errors.New("apu backend: probe: no network")
	}
	img, rep, err := compile.Compile(net)
	if err != nil {
		return apu.Probe{}, fmt.Errorf("apu backend: %w", err)
	}
	p := apu.Probe{Backend: Name, Models: compile.Supported, Memory: rep.RAM + rep.ImageBytes}
	if err := b.sayHello(); err != nil {
		return p, err
	}
	return p, b.checkChip(img, rep)
}

// Load implements apu.Backend: compile, HELLO, upload, commit, and the
// monitors' initial rows.
func (b *Backend) Load(net *models.Network) error {
	if b.img != nil {
		return errors.New("apu backend: Load called twice")
	}
	if net == nil {
		return errors.New("apu backend: load: no network")
	}
	img, rep, err := compile.Compile(net)
	if err != nil {
		return fmt.Errorf("apu backend: %w", err)
	}
	if err := b.sayHello(); err != nil {
		return err
	}
	if err := b.checkChip(img, rep); err != nil {
		return err
	}
	if err := b.plan(img, rep); err != nil {
		return err
	}
	b.net, b.img, b.rep = net, img, rep
	b.imgBin = image.Encode(img)
	b.hash = image.Hash(b.imgBin)
	b.conv = compile.NewConv(&rep.Host, net.Dt)
	b.rec = compile.NewRecords(&rep.Host, img)
	if err := b.upload(); err != nil {
		b.img = nil
		return err
	}
	return b.start()
}

// plan sizes the RUN frames: the most steps whose worst-case records fit
// the chip's buffers, and the trace buffers.
func (b *Backend) plan(img *image.Image, rep *compile.Report) error {
	b.spikeUnits, b.traceVals, b.traceRows = 0, 0, 0
	b.traces = b.traces[:0]
	for mi := range img.Monitors {
		m := &img.Monitors[mi]
		w := len(m.Units)
		if w == 0 {
			w = int(img.Pops[m.Pop].Size)
		}
		if m.Spikes {
			b.spikeUnits += w
		}
		if len(m.States) > 0 && 8+4*w > b.maxPay-13-8 {
			return fmt.Errorf("apu backend: monitor of population %q records %d units: a row does not fit in a frame of %d bytes: %w",
				rep.Host.Pops[rep.Host.FileIndex[m.Pop]].Name, w, b.maxPay, apu.ErrUnsupported)
		}
		for i, st := range m.States {
			b.traceVals += w
			b.traceRows++
			b.traces = append(b.traces, traceBuf{mon: mi, pos: uint16(i), state: st, first: i == 0, width: w})
		}
	}
	if b.traceVals > b.cfg.ChipValues/2 {
		return fmt.Errorf("apu backend: a step records %d trace values, the chip holds %d: %w",
			b.traceVals, b.cfg.ChipValues, apu.ErrUnsupported)
	}
	for i := range img.Pops {
		p := &img.Pops[i]
		if p.Kind == image.KindInput && 4+7+4*int(p.Size) > b.maxPay {
			return fmt.Errorf("apu backend: input population %q has %d units: a step's inputs do not fit in a frame of %d bytes: %w",
				rep.Host.Pops[rep.Host.FileIndex[i]].Name, p.Size, b.maxPay, apu.ErrUnsupported)
		}
	}
	return nil
}

// maxSteps is the most steps one RUN may run for the chip's record
// buffers (the trace rows left from before are read first).
func (b *Backend) maxSteps() int {
	n := 65535
	if b.spikeUnits > 0 {
		n = min(n, b.cfg.ChipSpikes/b.spikeUnits)
	}
	if b.traceVals > 0 {
		// The rows of the initial state wait with a run's: leave one
		// step's room.
		n = min(n, b.cfg.ChipValues/b.traceVals-1, b.cfg.ChipValues/b.traceRows-1)
	}
	return max(n, 1)
}

// upload sends the image: IMAGE_BEGIN, chunks, IMAGE_COMMIT. A chip
// that refuses it gives its code and text.
func (b *Backend) upload() error {
	begin := protocol.ImageBegin{Size: uint32(len(b.imgBin)), SHA256: b.hash}
	if err := b.c.call(&begin, &b.ack); err != nil {
		return b.imageErr(protocol.TypeImageBegin, err)
	}
	chunk := b.maxPay - 4
	var ch protocol.ImageChunk
	for off := 0; off < len(b.imgBin); off += chunk {
		ch.Offset = uint32(off)
		ch.Data = b.imgBin[off:min(off+chunk, len(b.imgBin))]
		if err := b.c.call(&ch, &b.ack); err != nil {
			return b.imageErr(protocol.TypeImageChunk, err)
		}
		if b.ack.Value != uint64(off+len(ch.Data)) {
			return &LinkError{Link: b.name, Request: protocol.TypeImageChunk,
				What: fmt.Sprintf("the chip has %d image bytes after the chunk at %d of %d bytes", b.ack.Value, off, len(ch.Data))}
		}
	}
	commit := protocol.ImageCommit{SHA256: b.hash}
	if err := b.c.call(&commit, &b.ack); err != nil {
		return b.imageErr(protocol.TypeImageCommit, err)
	}
	b.lost = false
	return nil
}

func (b *Backend) imageErr(t protocol.Type, err error) error {
	var r *protocol.Refused
	if errors.As(err, &r) {
		if r.Code == protocol.CodeState || r.Code == protocol.CodeImageOffset {
			// The upload was lost on the chip: it reset during it.
			if herr := b.sayHello(); herr != nil {
				return herr
			}
		}
		return fmt.Errorf("apu backend: link %s: the chip refused the image (%d bytes, SHA-256 %x): %w: %w", b.name, len(b.imgBin), b.hash[:8], err, apu.ErrUnsupported)
	}
	// Load left nothing loaded: it may be called again.
	return retryable(b.linkErr(t, "image upload", err))
}

// isChipReset says whether err is the link error of a chip reset.
func isChipReset(err error) bool {
	var le *LinkError
	return errors.As(err, &le) && le.ChipReset
}

// retryable marks a link failure after which the call may be repeated
// (not a chip reset, which needs Reset).
func retryable(err error) error {
	var le *LinkError
	if errors.As(err, &le) && !le.ChipReset {
		le.Retryable = true
	}
	return err
}

// start reads the monitors' initial rows of a freshly loaded or reset
// chip (t = 0).
func (b *Backend) start() error {
	b.now = 0
	b.rec.Reset()
	b.broken = nil
	b.dropped = 0
	return b.readTraces()
}

// usable says whether a call may talk to the chip.
func (b *Backend) usable(call string) error {
	if b.img == nil {
		return fmt.Errorf("apu backend: %s before Load", call)
	}
	return b.broken
}

// Advance implements apu.Backend.
func (b *Backend) Advance(n int) error { return b.Run(n, nil) }

// Run implements apu.Backend: every input is checked before anything is
// sent; then one RUN per at most maxSteps steps, each answered with its
// spikes, and the trace rows read after it.
func (b *Backend) Run(n int, feeds []apu.Feed) error {
	if err := b.usable("Run"); err != nil {
		return err
	}
	if n < 0 {
		return fmt.Errorf("apu backend: run: %d steps", n)
	}
	b.pops = b.pops[:0]
	for _, f := range feeds {
		p, err := b.conv.CheckFeed(n, f)
		if err != nil {
			return fmt.Errorf("apu backend: %w", err)
		}
		for _, q := range b.pops {
			if q == p {
				return fmt.Errorf("apu backend: run: input %q fed twice", f.Pop)
			}
		}
		b.pops = append(b.pops, p)
	}
	// Steps per RUN: the record buffers, and the inputs in one payload.
	k := b.maxSteps()
	perStep := 0
	for _, p := range b.pops {
		perStep += 4 * p.Size
	}
	if perStep > 0 {
		k = min(k, (b.maxPay-4-7*len(b.pops))/perStep)
		if k < 1 {
			return fmt.Errorf("apu backend: run: a step's inputs (%d bytes) do not fit in a frame of %d bytes: %w", perStep, b.maxPay, apu.ErrUnsupported)
		}
	}
	t0 := b.c.stats.Transfer
	defer func() { b.lastRun = b.c.stats.Transfer - t0 }()
	for s := 0; s < n; s += k {
		if err := b.runFrame(s, min(k, n-s), feeds); err != nil {
			return err
		}
	}
	return nil
}

// runFrame sends one RUN of steps s..s+k-1 of the feeds and reads what
// it recorded.
func (b *Backend) runFrame(s, k int, feeds []apu.Feed) error {
	b.run.Steps = uint16(k)
	b.run.Feeds = b.run.Feeds[:0]
	b.vals = b.vals[:0]
	for i, f := range feeds {
		p := b.pops[i]
		off := len(b.vals)
		b.vals = compile.Inputs(b.vals, f.Values[s*p.Size:(s+k)*p.Size])
		// One row for every step when the rows are the same (a sensor
		// read once per tick): 4·size bytes instead of 4·size·k.
		hold := true
		row := b.vals[off : off+p.Size]
		for j := off + p.Size; j < len(b.vals) && hold; j += p.Size {
			for u := range row {
				if b.vals[j+u] != row[u] {
					hold = false
					break
				}
			}
		}
		if hold {
			b.vals = b.vals[:off+p.Size]
		}
		b.run.Feeds = append(b.run.Feeds, protocol.Feed{Pop: uint16(p.Image), Hold: hold, Size: uint32(p.Size)})
	}
	off := 0
	for i := range b.run.Feeds {
		fd := &b.run.Feeds[i]
		nv := int(fd.Size)
		if !fd.Hold {
			nv *= k
		}
		fd.Values = b.vals[off : off+nv]
		off += nv
	}
	if err := b.c.call(&b.run, &b.runOK); err != nil {
		return b.runErr(protocol.TypeRun, err)
	}
	want := b.now + int64(k)
	if b.runOK.Now != want {
		return b.stateLost(protocol.TypeRun, fmt.Sprintf("the chip is at step %d after a RUN of %d from %d", b.runOK.Now, k, b.now))
	}
	b.now = want
	b.c.stats.Steps += uint64(k)
	b.c.stats.Runs++
	b.c.stats.Saturations += uint64(b.runOK.Saturations)
	if err := b.spikes(&b.runOK.Spikes); err != nil {
		return err
	}
	if len(b.runOK.Spikes.Spikes)+int(b.runOK.Pending) >= b.cfg.ChipSpikes {
		// The chip's spike queue may have overflowed (a step of more
		// spikes than it holds): its dropped count says.
		if err := b.checkDropped(); err != nil {
			return err
		}
	}
	if err := b.readSpikes(b.runOK.Pending); err != nil {
		return err
	}
	if b.traceRows > 0 {
		return b.readTraces()
	}
	return nil
}

// checkDropped fails when the chip dropped records since the last check.
func (b *Backend) checkDropped() error {
	if err := b.c.call(&protocol.Status{}, &b.status); err != nil {
		return b.runErr(protocol.TypeStatus, err)
	}
	if b.status.Dropped != b.dropped {
		n := b.status.Dropped - b.dropped
		b.dropped = b.status.Dropped
		return fmt.Errorf("apu backend: the chip dropped %d records: a step recorded more spikes than its queue of %d holds (record fewer units)", n, b.cfg.ChipSpikes)
	}
	return nil
}

// spikes records a list's spikes.
func (b *Backend) spikes(l *protocol.SpikeList) error {
	// A checked frame from a faulty chip must not become a spike the
	// host's decoders would index out of range.
	for _, s := range l.Spikes {
		if int(s.Pop) >= len(b.img.Pops) || s.Unit >= b.img.Pops[s.Pop].Size {
			return b.fail(protocol.TypeRun, fmt.Sprintf("a spike of population %d, unit %d: the image has no such unit", s.Pop, s.Unit))
		}
		if st := l.Stamp(s); st <= 0 || st > b.now {
			return b.fail(protocol.TypeRun, fmt.Sprintf("a spike with stamp %d at step %d", st, b.now))
		}
		b.rec.Spike(int(s.Pop), s.Unit, l.Stamp(s))
	}
	return nil
}

// readSpikes drains the spikes a RUN_OK left pending on the chip.
func (b *Backend) readSpikes(pending uint32) error {
	for pending > 0 {
		b.read = protocol.Read{What: protocol.ReadSpikes}
		if err := b.c.call(&b.read, &b.readOK); err != nil {
			return b.runErr(protocol.TypeRead, err)
		}
		if b.readOK.What != protocol.ReadSpikes {
			return b.fail(protocol.TypeRead, "a READ_OK of "+b.readOK.What.String()+" for a READ of spikes")
		}
		if err := b.spikes(&b.readOK.Spikes); err != nil {
			return err
		}
		if b.readOK.Pending > 0 && len(b.readOK.Spikes.Spikes) == 0 {
			return b.fail(protocol.TypeRead, "the chip has spikes pending and sends none")
		}
		pending = b.readOK.Pending
	}
	return nil
}

// readTraces reads every trace row waiting on the chip and records them,
// a monitor's states row by row.
func (b *Backend) readTraces() error {
	for i := range b.traces {
		t := &b.traces[i]
		t.stamps, t.values = t.stamps[:0], t.values[:0]
		for {
			b.read = protocol.Read{What: protocol.ReadTrace, Pop: uint16(t.mon), Index: t.pos}
			if err := b.c.call(&b.read, &b.readOK); err != nil {
				return b.runErr(protocol.TypeRead, err)
			}
			o := &b.readOK
			if o.What != protocol.ReadTrace || int(o.Pop) != t.mon || o.Index != t.pos || int(o.Width) != t.width {
				return b.fail(protocol.TypeRead, fmt.Sprintf("a READ_OK of %s %d/%d width %d for monitor %d state %d width %d",
					o.What, o.Pop, o.Index, o.Width, t.mon, t.pos, t.width))
			}
			t.stamps = append(t.stamps, o.Stamps...)
			t.values = append(t.values, o.Values...)
			if o.Pending == 0 {
				break
			}
			if len(o.Stamps) == 0 {
				return b.fail(protocol.TypeRead, "the chip has trace rows pending and sends none")
			}
		}
	}
	// A monitor's states come one after the other in b.traces.
	for i := 0; i < len(b.traces); {
		j := i + 1
		for j < len(b.traces) && !b.traces[j].first {
			j++
		}
		rows := len(b.traces[i].stamps)
		for _, t := range b.traces[i:j] {
			if len(t.stamps) != rows {
				return b.fail(protocol.TypeRead, fmt.Sprintf("monitor %d: %d rows of one state, %d of another", t.mon, rows, len(t.stamps)))
			}
		}
		for r := 0; r < rows; r++ {
			for _, t := range b.traces[i:j] {
				b.rec.Row(t.mon, t.state, t.stamps[r], t.values[r*t.width:(r+1)*t.width])
			}
		}
		i = j
	}
	return nil
}

// fail is a chip that answered with something that cannot be: the
// host's view of its state is wrong.
func (b *Backend) fail(t protocol.Type, what string) error {
	err := &LinkError{Link: b.name, Request: t, What: what}
	b.broken = err
	return err
}

// runErr handles a failed request of a run: a NAK saying the chip has no
// image or another state is a reset (checked at HELLO); a link that did
// not answer leaves the state unknown.
func (b *Backend) runErr(t protocol.Type, err error) error {
	var r *protocol.Refused
	if errors.As(err, &r) && (r.Code == protocol.CodeNoImage || r.Code == protocol.CodeState) {
		return b.stateLost(t, err.Error())
	}
	var le *LinkError
	if errors.As(err, &le) {
		// No HELLO to look for a reset here: a chip that answers again
		// after a reset says "no image" to the next request, and one
		// that does not answer would only cost another round of
		// timeouts before the caller makes the actuators safe.
		b.broken = &LinkError{Link: b.name, Request: t, What: "the run's state is unknown after a link failure; Reset to go on", Err: err}
		return err
	}
	if r != nil {
		// A refusal of a request the host checked: the host's and the
		// chip's views differ.
		return b.fail(t, "refused: "+err.Error())
	}
	return err
}

// stateLost checks at HELLO whether the chip reset (boot counter) and
// reports the state as lost either way.
func (b *Backend) stateLost(t protocol.Type, what string) error {
	if err := b.sayHello(); err != nil {
		return err
	}
	return b.fail(t, what)
}

// Set implements apu.Backend: values are checked and converted as the
// fixed backend does, and sent in one SET (or several, when they do not
// fit a frame).
func (b *Backend) Set(pop string, s apu.Setting, values []float64) error {
	if err := b.usable("Set"); err != nil {
		return err
	}
	st, err := b.conv.Setting(pop, s, values)
	if err != nil {
		return fmt.Errorf("apu backend: %w", err)
	}
	per := (b.maxPay - 16) / 4
	if st.Custom {
		w := st.Pop.Size
		rows := len(st.Values[0]) / w
		perRows := max(per/w, 1)
		for r := 0; r == 0 || r < rows; r += perRows {
			end := min(r+perRows, rows)
			b.set = protocol.Set{Pop: uint16(st.Pop.Image), Op: protocol.SetRows, Width: uint32(w), First: uint32(r), Values: st.Values[0][r*w : end*w]}
			if err := b.setCall(); err != nil {
				return err
			}
		}
		return nil
	}
	for i := 0; i < st.N; i++ {
		v := st.Values[i]
		for u := 0; u < len(v); u += per {
			b.set = protocol.Set{Pop: uint16(st.Pop.Image), Op: protocol.SetUnit, Row: uint8(st.Rows[i]), First: uint32(u), Values: v[u:min(u+per, len(v))]}
			if err := b.setCall(); err != nil {
				return err
			}
		}
	}
	return nil
}

// setCall sends b.set. A SET sets values (it adds nothing): repeating
// the Set call is safe when the link failed.
func (b *Backend) setCall() error {
	if err := b.c.call(&b.set, &b.ack); err != nil {
		var le *LinkError
		if errors.As(err, &le) {
			return retryable(err)
		}
		return b.runErr(protocol.TypeSet, err)
	}
	return nil
}

// State implements apu.Backend: the units' span of each chip state the
// model's state sums, read with READ state.
func (b *Backend) State(pop, state string, units []int, dst []float64) ([]float64, error) {
	dst = dst[:0]
	if err := b.usable("State"); err != nil {
		return dst, err
	}
	p, hs, err := b.conv.State(pop, state, units)
	if err != nil {
		return dst, fmt.Errorf("apu backend: %w", err)
	}
	if len(units) == 0 {
		return dst, nil
	}
	lo, hi := units[0], units[0]
	for _, u := range units {
		lo, hi = min(lo, u), max(hi, u)
	}
	if cap(b.sum) < p.Size {
		b.sum = make([]int64, p.Size)
	}
	sum := b.sum[:hi+1-lo]
	clear(sum)
	for _, idx := range hs.Index {
		for first := lo; first <= hi; {
			b.read = protocol.Read{What: protocol.ReadState, Pop: uint16(p.Image), Index: uint16(idx), First: uint32(first), Count: uint32(hi + 1 - first)}
			if err := b.c.call(&b.read, &b.readOK); err != nil {
				var le *LinkError
				if errors.As(err, &le) {
					// Reading changes nothing: the call may be repeated.
					return dst, retryable(err)
				}
				return dst, b.runErr(protocol.TypeRead, err)
			}
			o := &b.readOK
			if o.What != protocol.ReadState || len(o.Values) == 0 || first+len(o.Values) > hi+1 {
				return dst, b.fail(protocol.TypeRead, fmt.Sprintf("a READ_OK of %s with %d values for units %d..%d", o.What, len(o.Values), first, hi))
			}
			for i, v := range o.Values {
				sum[first-lo+i] += int64(v)
			}
			first += len(o.Values)
		}
	}
	for _, u := range units {
		dst = append(dst, hs.Value(sum[u-lo]))
	}
	return dst, nil
}

// Now implements apu.Backend.
func (b *Backend) Now() int64 { return b.now }

// Drain implements apu.Backend.
func (b *Backend) Drain(dst *apu.Record) {
	if b.rec == nil {
		dst.Reset()
		return
	}
	b.rec.Drain(dst)
}

// Reset implements apu.Backend: RESET on the chip, or, when the chip
// lost its image (it reset itself), a new upload of the same image; the
// run starts again from t = 0. It is the way back after an ErrLink
// error: a chip that does not answer HELLO then is booted through its
// reset line (when the link has one) and loaded again.
func (b *Backend) Reset() error {
	if b.img == nil {
		return errors.New("apu backend: Reset before Load")
	}
	if b.broken != nil {
		if err := b.sayHello(); err != nil && !isChipReset(err) {
			var le *LinkError
			if !errors.As(err, &le) || b.c.t.Reset() != nil {
				return err
			}
			// The chip does not answer: its reset line boots it (its
			// image is lost), then it is asked again.
			b.c.stats.ResetPulses++
			if err := b.sayHello(); err != nil && !isChipReset(err) {
				return err
			}
		}
		if err := b.c.call(&protocol.Status{}, &b.status); err != nil {
			return b.linkErr(protocol.TypeStatus, "status", err)
		}
		if b.status.Image != protocol.ImageLoaded {
			b.lost = true
		}
	}
	if b.lost {
		if err := b.upload(); err != nil {
			return err
		}
	} else {
		var r protocol.Reset
		if err := b.c.call(&r, &b.ack); err != nil {
			var rf *protocol.Refused
			if errors.As(err, &rf) && rf.Code == protocol.CodeNoImage {
				// The chip lost its image since the last call: HELLO
				// counts the reset, the upload starts again.
				if herr := b.sayHello(); herr != nil && !isChipReset(herr) {
					return herr
				}
				b.lost = true
				return b.Reset()
			}
			return b.linkErr(protocol.TypeReset, "reset", err)
		}
	}
	return b.start()
}

// Close implements apu.Backend: it closes the link.
func (b *Backend) Close() error {
	if b.c == nil || b.c.t == nil {
		return nil
	}
	err := b.c.t.Close()
	b.c.t = closed{b.name}
	return err
}

// closed is the link after Close.
type closed struct{ name string }

func (c closed) Send([]byte) error { return errors.New("link closed") }
func (c closed) Receive(*protocol.Reader, time.Time) (int, bool, error) {
	return 0, false, errors.New("link closed")
}
func (c closed) Reset() error   { return errors.New("link closed") }
func (c closed) Close() error   { return nil }
func (c closed) String() string { return c.name }
