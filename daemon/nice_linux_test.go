package daemon

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// threadNices reads the nice value of every thread of the process.
func threadNices(t *testing.T) map[string]string {
	t.Helper()
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, task := range tasks {
		stat, err := os.ReadFile("/proc/self/task/" + task.Name() + "/stat")
		if err != nil {
			continue // the thread ended
		}
		s := string(stat)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) > 16 {
			out[task.Name()] = f[16] // stat field 19, counting from the state
		}
	}
	return out
}

// TestRaiseThreads: while a real-time loop runs every thread of the
// process is at threadNice, threads started meanwhile too, and after
// the last loop they are back where they were.
func TestRaiseThreads(t *testing.T) {
	before := threadNices(t)
	restore, err := raiseThreads()
	if err != nil {
		t.Skipf("raising the threads' priority was refused here (needs root or CAP_SYS_NICE): %v", err)
	}
	restore2, err := raiseThreads() // a second loop (tests run several)
	if err != nil {
		t.Fatal(err)
	}
	// A thread the runtime starts now inherits the value.
	started := make(chan struct{})
	go func() {
		lockAndWait(started)
	}()
	<-started
	for tid, nice := range threadNices(t) {
		if nice != "-10" {
			t.Errorf("thread %s at nice %s while loops run, want -10", tid, nice)
		}
	}
	restore2()
	if n := threadNices(t); len(n) > 0 {
		for tid, nice := range n {
			if nice != "-10" {
				t.Errorf("thread %s at nice %s after the first of two loops ended, want -10 still", tid, nice)
			}
		}
	}
	restore()
	var want string
	for _, v := range before {
		want = v
		break
	}
	for tid, nice := range threadNices(t) {
		if nice != want {
			t.Errorf("thread %s at nice %s after the last loop, want %s as before", tid, nice, want)
		}
	}
}

// lockAndWait locks a new goroutine to a thread of its own, which makes
// the runtime start one when none is idle, and signals once it runs.
func lockAndWait(started chan<- struct{}) {
	runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
	close(started)
}
