package cpu

import "golang.org/x/sys/unix"

// pinThread binds the calling OS thread (locked) to cpu.
func pinThread(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	return unix.SchedSetaffinity(0, &set) // 0: the calling thread
}
