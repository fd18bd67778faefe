package telemetry

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// TestPinThread: the password checks' thread runs on the CPUs given, at
// the process's priority (a lowered thread holding a P stalls the
// garbage collector's stop-the-world, loop included).
func TestPinThread(t *testing.T) {
	type result struct {
		nice string
		cpus unix.CPUSet
		err  error
	}
	done := make(chan result)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		var r result
		r.err = pinThread([]int{0})
		stat, _ := os.ReadFile("/proc/thread-self/stat")
		if f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:])); len(f) > 16 {
			r.nice = f[16] // field 19 of stat, counting from the state
		}
		unix.SchedGetaffinity(0, &r.cpus)
		done <- r
	}()
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	// The process's own nice (the test may run under nice): pinThread
	// must leave it as it found it.
	prio, err := unix.Getpriority(unix.PRIO_PROCESS, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := strconv.Itoa(20 - prio) // the system call returns 20 - nice
	if r.nice != want || r.cpus.Count() != 1 || !r.cpus.IsSet(0) {
		t.Errorf("thread nice %q, cpus %d (0 set: %v); want %s and CPU 0 only", r.nice, r.cpus.Count(), r.cpus.IsSet(0), want)
	}
}
