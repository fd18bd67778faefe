package daemon

import (
	"runtime"
	"sync"
)

// loopProcs is the least GOMAXPROCS while a loop runs on the wall clock.
//
// The loop sleeps in a system call, and the Go runtime may give the
// loop's P (its right to run Go code) to other goroutines meanwhile.
// When the sleep ends, the loop's thread takes its P back, or any idle
// one, by itself; only when no P is idle does the loop's goroutine queue
// behind the others and wait for another thread to hand it one, up to
// the runtime's 10 ms time slice and, on a busy machine, much more. So
// the daemon keeps Ps to spare: with 8, seven goroutines may be busy at
// once (password checks, packet decoding, a reload's network build, the
// publisher, the metrics endpoint, the garbage collector's workers) and
// the loop still finds one idle. README.md ("The loop and the rest of
// the process") has the measurements behind the choice, among them why
// the loop does not keep its P while it sleeps.
const loopProcs = 8

// spareProcs holds the number of loops running on the wall clock and
// GOMAXPROCS as it was before the first: process-wide, as GOMAXPROCS is.
var spareProcs struct {
	sync.Mutex
	loops, base int
}

// raiseProcs raises GOMAXPROCS to at least loopProcs (never lowers it)
// while a loop runs; the returned function restores it after the last
// loop (tests run several). A GOMAXPROCS set by others while loops run
// is overwritten then.
func raiseProcs() (restore func()) {
	spareProcs.Lock()
	defer spareProcs.Unlock()
	if spareProcs.loops == 0 {
		spareProcs.base = runtime.GOMAXPROCS(0)
		if spareProcs.base < loopProcs {
			runtime.GOMAXPROCS(loopProcs)
		}
	}
	spareProcs.loops++
	return func() {
		spareProcs.Lock()
		defer spareProcs.Unlock()
		spareProcs.loops--
		if spareProcs.loops == 0 && spareProcs.base < loopProcs {
			runtime.GOMAXPROCS(spareProcs.base)
		}
	}
}
