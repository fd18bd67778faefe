package telemetry

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// pinThread keeps the calling (locked) thread on cpus, when not empty.
//
// It leaves the thread's priority alone on purpose: a goroutine running
// Go code holds one of the runtime's Ps, and the garbage collector's
// stop-the-world waits for every P. At nice 19 on a busy CPU the
// compare's thread can wait hundreds of milliseconds for the CPU while
// holding its P, and the whole process, the real-time loop included,
// waits with it (an execution trace of issue 12's login flood showed a
// 344 ms stop). At the default priority the wait is the kernel's usual
// time slice; the compares are few (one at a time, rate-limited) and
// kept off the loop's CPU by cpus.
func pinThread(cpus []int) error {
	if len(cpus) == 0 {
		return nil
	}
	var set unix.CPUSet
	for _, c := range cpus {
		set.Set(c)
	}
	if err := unix.SchedSetaffinity(0, &set); err != nil { // 0: the calling thread
		return fmt.Errorf("cpus %v: %w", cpus, err)
	}
	return nil
}
