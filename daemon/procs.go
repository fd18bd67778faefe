package daemon

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
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

// The garbage collector stops every goroutine, the loop's too, twice a
// cycle, for as long as the slowest thread holding a P takes to notice
// (well under 1 ms on an idle machine, up to 100 ms on an overloaded
// one). While a loop runs the daemon lets the heap grow to 5 times the
// live heap between cycles (gcPercent) instead of 2 times, for a fifth
// of the cycles, but never past twice the live heap at the start plus
// gcHeadroom (a soft memory limit), so it holds little more than the
// default would; the environment's GOGC or GOMEMLIMIT, when set, are
// left alone.
const (
	gcPercent  = 400
	gcHeadroom = 64 << 20
)

// loopRuntime holds the number of loops running on the wall clock and
// the runtime settings as they were before the first: process-wide, as
// the settings are.
var loopRuntime struct {
	sync.Mutex
	loops     int
	procs     int
	gcPercent int   // -1: GC left alone
	memLimit  int64 // before the first loop

	niceLoops  int // loops running with raised threads
	niceBefore int // the threads' nice value before the first
}

// tuneRuntime sets GOMAXPROCS to at least loopProcs and the garbage
// collector as described above while a loop runs; the returned function
// restores them after the last loop (tests run several). Settings
// changed by others while loops run are overwritten then.
func tuneRuntime() (restore func()) {
	r := &loopRuntime
	r.Lock()
	defer r.Unlock()
	if r.loops == 0 {
		r.procs = runtime.GOMAXPROCS(0)
		if r.procs < loopProcs {
			runtime.GOMAXPROCS(loopProcs)
		}
		r.gcPercent = -1
		if os.Getenv("GOGC") == "" && os.Getenv("GOMEMLIMIT") == "" {
			runtime.GC()
			s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
			metrics.Read(s)
			r.memLimit = debug.SetMemoryLimit(2*int64(s[0].Value.Uint64()) + gcHeadroom)
			r.gcPercent = debug.SetGCPercent(gcPercent)
		}
	}
	r.loops++
	return func() {
		r.Lock()
		defer r.Unlock()
		r.loops--
		if r.loops > 0 {
			return
		}
		if r.procs < loopProcs {
			runtime.GOMAXPROCS(r.procs)
		}
		if r.gcPercent >= 0 {
			debug.SetGCPercent(r.gcPercent)
			debug.SetMemoryLimit(r.memLimit)
		}
	}
}

// relaxGC gives the collector back its settings from before the loops
// while a reload loads and checks a new network next to the running
// one: the memory limit is sized for the running network alone and
// would make the collector run nearly without pause (each cycle a stop
// of the loop) until the new network is built. The returned function
// tunes it again, unless the last loop has ended meanwhile.
func relaxGC() (retune func()) {
	r := &loopRuntime
	r.Lock()
	defer r.Unlock()
	if r.loops == 0 || r.gcPercent < 0 {
		return func() {}
	}
	percent := debug.SetGCPercent(r.gcPercent)
	limit := debug.SetMemoryLimit(r.memLimit)
	return func() {
		r.Lock()
		defer r.Unlock()
		if r.loops > 0 {
			debug.SetMemoryLimit(limit)
			debug.SetGCPercent(percent)
		}
	}
}

// threadNice is the nice value of the process's other threads while a
// loop runs on SCHED_FIFO. The runtime's monitor preempts the loop's
// goroutine when it has held its P for 10 ms, which it always has (it
// wakes from its sleep onto the same P); the goroutine, locked to its
// thread, then waits until another thread of the process gets a CPU to
// hand it back. At the default nice that thread queues behind every
// busy process of the machine: five browser tabs drawing the live page
// made the loop's p99.9 lateness 5 to 9 times the run without them,
// while cyclictest on the same CPU saw no change. At nice -10 the
// process's threads win the CPU from ordinary processes (README,
// "The loop and the rest of the process"). It needs CAP_SYS_NICE (the
// shipped unit has it, for SCHED_FIFO); without it the daemon says so
// and runs on.
const threadNice = -10

// raiseThreads sets every thread of the process to threadNice while a
// loop with a real-time priority runs; the returned function puts them
// back at the value from before after the last such loop. It returns an
// error when the system refused, with nothing changed that matters.
func raiseThreads() (restore func(), err error) {
	r := &loopRuntime
	r.Lock()
	defer r.Unlock()
	if r.niceLoops == 0 {
		before, err := reniceThreads(threadNice)
		if err != nil {
			reniceThreads(before) // undo what was set before the refusal
			return func() {}, err
		}
		r.niceBefore = before
	}
	r.niceLoops++
	return func() {
		r.Lock()
		defer r.Unlock()
		r.niceLoops--
		if r.niceLoops == 0 {
			reniceThreads(r.niceBefore)
		}
	}, nil
}
