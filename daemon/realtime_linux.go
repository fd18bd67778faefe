package daemon

import "golang.org/x/sys/unix"

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
