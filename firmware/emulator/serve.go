package emulator

import (
	"errors"
	"io"
	"net"
	"sync"

	"github.com/spikeloop/spikeloop/firmware/protocol"
)

// Serve answers the frames of every connection accepted on l with the
// emulated chip, as the SPI link would (the dev-kit path: `spikeloop
// apu serve`): a stream carries request frames one after another, each
// answered by its response frame. A frame that fails its checks gets a
// NAK with sequence number 0 and the Reader resynchronises; the faults
// apply as on SPI, a dropped data-ready being a lost response. Serve
// returns when l fails (nil once l is closed), after closing the
// connections; they are served one at a time, the chip's state
// carrying over from one to the next as it does on a board whose host
// restarts.
func (e *Emulator) Serve(l net.Listener) error {
	var (
		wg    sync.WaitGroup
		one   sync.Mutex // one host at a time
		mu    sync.Mutex
		open  []net.Conn
		ended bool
	)
	for {
		c, err := l.Accept()
		if err != nil {
			// Stop: close the connections (served or waiting) and wait.
			mu.Lock()
			ended = true
			for _, o := range open {
				o.Close()
			}
			mu.Unlock()
			wg.Wait()
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		}
		mu.Lock()
		if ended {
			c.Close()
		}
		open = append(open, c)
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			one.Lock()
			defer one.Unlock()
			_ = e.ServeConn(c)
			mu.Lock()
			for i, o := range open {
				if o == c {
					open = append(open[:i], open[i+1:]...)
					break
				}
			}
			mu.Unlock()
		}()
	}
}

// ServeConn answers the frames on one connection until it ends (io.EOF
// gives nil) and closes it.
func (e *Emulator) ServeConn(c io.ReadWriteCloser) error {
	defer c.Close()
	var (
		r    protocol.Reader
		in   = make([]byte, protocol.MaxFrame)
		req  = make([]byte, 0, protocol.MaxFrame)
		resp = make([]byte, 0, protocol.MaxFrame)
	)
	for {
		n, err := c.Read(in)
		for w := 0; w < n; {
			k := r.Write(in[w:n])
			w += k
			for {
				f, ferr := r.Next()
				if ferr == protocol.ErrNeedMore {
					if k == 0 && r.Buffered() == protocol.MaxFrame {
						r.Drop() // a full buffer that holds no frame: look past it
					}
					break
				}
				resp = resp[:0]
				if ferr != nil {
					resp = e.Drop(ferr, resp)
				} else {
					// The frame's own bytes, which the faults may corrupt.
					req, _ = protocol.AppendFrame(req[:0], f.Type(), f.Seq(), f.Payload())
					resp, _ = e.Exchange(req, resp)
				}
				if len(resp) > 0 {
					if _, werr := c.Write(resp); werr != nil {
						return werr
					}
				}
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
