package telemetry

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// lowerThread gives the calling (locked) thread the lowest priority and,
// when cpus is not empty, keeps it on those CPUs. On Linux the nice value
// belongs to the thread, so this leaves the rest of the process alone.
func lowerThread(cpus []int) error {
	if err := unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19); err != nil {
		return fmt.Errorf("nice 19: %w", err)
	}
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
