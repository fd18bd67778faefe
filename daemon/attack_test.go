package daemon

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"runtime"
	"runtime/metrics"
	"runtime/trace"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"

	"github.com/spikeloop/spikeloop/io/telemetry/mqtttest"
)

// The attack of issue 12, mounted on the demo daemon with the shipped
// real-time settings and an embedded broker with one bcrypt user (cost
// 10): a wrong-password login flood at 20 CONNECTs a second, ten 20 MB
// publishes and 300 persistent QoS 1 subscribers that go away, all from
// a child process (another local program, as a real attacker is).

// attackEnv names the attacker child's settings: the broker's address
// and the attack's duration.
const attackEnv = "SPIKELOOP_ATTACKER"

// TestAttacker is the attacker, run as TestLoopUnderAttack's child
// process.
func TestAttacker(t *testing.T) {
	arg := os.Getenv(attackEnv)
	if arg == "" {
		t.Skip("the attacker of TestLoopUnderAttack, run only as its child process")
	}
	addr, ds, _ := strings.Cut(arg, ",")
	dur, err := time.ParseDuration(ds)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	// 300 sessions that subscribe at QoS 1 and leave: the broker would
	// keep every sample for each of them.
	wg.Go(func() {
		for i := range 300 {
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				continue
			}
			c.SetDeadline(time.Now().Add(2 * time.Second))
			c.Write(mqtttest.ConnectPacket("gone"+strconv.Itoa(i), "", "", true))
			r := bufio.NewReader(c)
			var ack [4]byte
			if _, err := io.ReadFull(r, ack[:]); err == nil && ack[3] == 0 {
				c.Write(mqtttest.SubscribePacket("spikeloop/attack/#", 1))
				io.ReadFull(r, make([]byte, 5))
			}
			c.Close()
		}
	})
	// The login flood: one new connection every 50 ms, each with the
	// wrong password.
	wg.Go(func() {
		for i := 0; ; i++ {
			at := start.Add(time.Duration(i) * 50 * time.Millisecond)
			if at.Sub(start) >= dur {
				return
			}
			time.Sleep(time.Until(at))
			wg.Go(func() {
				c, err := net.DialTimeout("tcp", addr, 2*time.Second)
				if err != nil {
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(3 * time.Second))
				c.Write(mqtttest.ConnectPacket("", "op", "wrong", false))
				io.Copy(io.Discard, c)
			})
		}
	})
	// Ten 20 MB QoS 1 publishes, spread over the attack.
	payload := make([]byte, 20<<20)
	for i := range 10 {
		time.Sleep(time.Until(start.Add(time.Duration(i) * dur / 10)))
		wg.Go(func() {
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			c.Write(mqtttest.ConnectPacket("big"+strconv.Itoa(i), "", "", false))
			io.ReadFull(c, make([]byte, 4))
			c.Write(mqtttest.PublishHeader("spikeloop/attack/cmd/x", 1, len(payload)))
			c.Write(payload)
		})
	}
	wg.Wait()
}

// attackRun is what one run of the demo did.
type attackRun struct {
	name       string
	ticks      int64
	overruns   int64
	maxLate    time.Duration
	lateP999   time.Duration
	peakRSS    int64 // bytes, sampled every 50 ms
	heapAfter  uint64
	gcPauseMax float64 // seconds, the runtime's pause histogram's largest bucket hit during the run
	gcCycles   uint32
	// live and rssAt are the live heap (as of the last GC) and the RSS
	// every 5 s of the run.
	live, rssAt []int64
}

func (r attackRun) String() string {
	return fmt.Sprintf("%-28s ticks %6d  overruns %4d  max lateness %8v  p99.9 %8v  peak RSS %4d MB  heap after GC %3d MB  GC cycles %3d  longest GC pause <= %v",
		r.name, r.ticks, r.overruns, r.maxLate.Round(time.Microsecond), r.lateP999, r.peakRSS>>20, r.heapAfter>>20, r.gcCycles,
		time.Duration(r.gcPauseMax*1e9).Round(time.Microsecond))
}

// runAttacked runs the demo for dur with the shipped real-time settings
// and an embedded broker, attacked from a child process if attack is
// set, with hogs goroutines in the process that keep a CPU busy. mode
// is "new" (as shipped) or "before" (GOMAXPROCS and the collector left
// alone, as before issue 12), optionally followed by "@N": GOMAXPROCS N
// before the run (the daemon raises it to loopProcs unless "before").
func runAttacked(t *testing.T, name string, dur time.Duration, attack bool, hogs int, mode, traceTo string) attackRun {
	t.Helper()
	mode, procs, _ := strings.Cut(mode, "@")
	addr := mqtttest.FreeAddr(t)
	h, err := bcrypt.GenerateFromPassword([]byte("right"), 10)
	if err != nil {
		t.Fatal(err)
	}
	tel := fmt.Sprintf(telSection, "attack", t.TempDir(), fmt.Sprintf(`  embedded:
    listen: %s
    users:
      - {name: op, hash: '%s', command: true}
  commands:
    hold: {kind: pause}
`, addr, h))
	tel = strings.Replace(tel, "every: 50ms", "every: 100ms", 1)
	s := quietDemoText() + "realtime: {cpu: 1, priority: 50, spin: 200us}\n" + tel
	cfg, err := Parse([]byte(s), "demo.yaml", demoNetwork)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	log := zerolog.New(logs).Level(zerolog.WarnLevel)
	d, err := New(cfg, Options{Logger: &log, SummaryEvery: -1})
	if err != nil {
		t.Fatal(err)
	}
	if mode == "before" {
		d.clock = plainClock{d.clock.(*realClock)}
	}
	if n, _ := strconv.Atoi(procs); n > 0 {
		defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(n))
	}
	runtime.GC()
	pauses0, cycles0 := gcPauses()
	clearPeak()
	ctx, stop := context.WithTimeout(context.Background(), dur)
	defer stop()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	waitListen(t, addr)
	var child *exec.Cmd
	if attack {
		if traceTo != "" {
			f, err := os.Create(traceTo)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if err := trace.Start(f); err != nil {
				t.Fatal(err)
			}
			defer trace.Stop()
		}
		child = exec.Command(os.Args[0], "-test.run=^TestAttacker$")
		child.Env = append(os.Environ(), attackEnv+"="+addr+","+(dur-time.Second).String())
		child.Stdout, child.Stderr = io.Discard, io.Discard
		if err := child.Start(); err != nil {
			t.Fatal(err)
		}
	}
	if attack && hogs > 0 {
		// Work inside the daemon's process: goroutines that keep a CPU
		// busy (as password checks, packet decoding or a reload do).
		for range hogs {
			go func() {
				b := make([]byte, 64<<10)
				for ctx.Err() == nil {
					for i := range b {
						b[i] += byte(i * 7)
					}
				}
			}()
		}
	}
	var peak int64
	poll := time.NewTicker(50 * time.Millisecond)
	defer poll.Stop()
	var runErr error
	var polls int
	var live, rssAt []int64
wait:
	for {
		select {
		case runErr = <-done:
			break wait
		case <-poll.C:
			now := rss()
			peak = max(peak, now)
			if polls++; polls%100 == 0 {
				live = append(live, liveHeap())
				rssAt = append(rssAt, now)
			}
		}
	}
	if child != nil {
		child.Process.Kill()
		child.Wait()
	}
	if runErr != nil {
		t.Fatalf("run: %v\n%s", runErr, logs.String())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	pauses1, cycles1 := gcPauses()
	r := attackRun{name: name, ticks: d.stats.Ticks, overruns: d.stats.Overruns, maxLate: d.stats.MaxLateness,
		lateP999: d.stats.Lateness.Quantile(0.999), peakRSS: max(peak, hwm()), heapAfter: ms.HeapInuse,
		gcCycles: cycles1 - cycles0, live: live, rssAt: rssAt}
	for i := range pauses1.Counts {
		if pauses1.Counts[i] > pauses0.Counts[i] {
			r.gcPauseMax = pauses1.Buckets[i+1]
		}
	}
	return r
}

// plainClock is the wall clock without the daemon knowing it is one:
// the run keeps GOMAXPROCS and the collector as they are (no
// tuneRuntime), as before issue 12.
type plainClock struct{ *realClock }

// gcPauses is the runtime's histogram of stop-the-world pauses for GC
// and its count of finished cycles.
func gcPauses() (*metrics.Float64Histogram, uint32) {
	s := []metrics.Sample{{Name: "/sched/pauses/total/gc:seconds"}, {Name: "/gc/cycles/total:gc-cycles"}}
	metrics.Read(s)
	h := s[0].Value.Float64Histogram()
	c := *h
	c.Counts = append([]uint64(nil), h.Counts...)
	return &c, uint32(s[1].Value.Uint64())
}

// liveHeap is the heap the last GC found live.
func liveHeap() int64 {
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// rss is the process's resident set now, hwm its peak since clearPeak.
func rss() int64 { return procStatus("VmRSS:") }
func hwm() int64 { return procStatus("VmHWM:") }

func clearPeak() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

func procStatus(key string) int64 {
	b, _ := os.ReadFile("/proc/self/status")
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, key); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// TestLoopUnderAttack is issue 12's attack against a baseline of the
// same length in one run, with GOMAXPROCS and the collector left alone
// (as before tuneRuntime) and as the daemon sets them. Wall-clock figures on a shared
// machine are not a test that always passes, so it runs on request:
//
//	SPIKELOOP_ATTACK=1 go test -run TestLoopUnderAttack -v ./daemon/
//
// SPIKELOOP_ATTACK_DURATION sets each run's length (default 10s);
// SPIKELOOP_ATTACK_HOGS=N adds N goroutines that keep a CPU busy inside
// the process during the attack; SPIKELOOP_ATTACK_TRACE=file writes an
// execution trace of the last attacked run (go tool trace file);
// SPIKELOOP_ATTACK_MODES=before@2,new@2,... runs only attacks, one per
// mode (see runAttacked), and prints them.
func TestLoopUnderAttack(t *testing.T) {
	if os.Getenv("SPIKELOOP_ATTACK") == "" {
		t.Skip("wall-clock measurement on a shared machine; set SPIKELOOP_ATTACK=1 to run it")
	}
	dur := 10 * time.Second
	if s := os.Getenv("SPIKELOOP_ATTACK_DURATION"); s != "" {
		var err error
		if dur, err = time.ParseDuration(s); err != nil {
			t.Fatal(err)
		}
	}
	hogs, _ := strconv.Atoi(os.Getenv("SPIKELOOP_ATTACK_HOGS"))
	trace := os.Getenv("SPIKELOOP_ATTACK_TRACE")
	t.Logf("GOMAXPROCS %d, %d CPUs, %d busy goroutines during the attacks", runtime.GOMAXPROCS(0), runtime.NumCPU(), hogs)
	if m := os.Getenv("SPIKELOOP_ATTACK_MODES"); m != "" {
		for _, mode := range strings.Split(m, ",") {
			t.Log(runAttacked(t, "attack, "+mode, dur, true, hogs, mode, trace))
		}
		return
	}
	runs := []attackRun{
		runAttacked(t, "baseline", dur, false, 0, "new", ""),
		runAttacked(t, "attack, before", dur, true, hogs, "before", ""),
		runAttacked(t, "attack", dur, true, hogs, "new", trace),
	}
	for _, r := range runs {
		t.Log(r)
	}
	base, after := runs[0], runs[2]
	if after.overruns > 2*base.overruns+5 {
		t.Errorf("attacked: %d overruns, over 2 x the baseline's %d + 5", after.overruns, base.overruns)
	}
	if after.maxLate >= 20*time.Millisecond {
		t.Errorf("attacked: max lateness %v, want below 20 ms", after.maxLate)
	}
	if after.peakRSS >= 200<<20 {
		t.Errorf("attacked: peak RSS %d MB, want below 200 MB", after.peakRSS>>20)
	}
}

// TestLoopSoak runs the demo under the attack (login flood, 20 MB
// publishes, 300 abandoned sessions) for SPIKELOOP_SOAK, e.g. 10m, and
// checks that memory stays flat: the live heap and the RSS of the run's
// second half stay within 25% + 4 MB of the first half's highest.
//
//	SPIKELOOP_SOAK=10m go test -run TestLoopSoak -v -timeout 20m ./daemon/
func TestLoopSoak(t *testing.T) {
	s := os.Getenv("SPIKELOOP_SOAK")
	if s == "" {
		t.Skip("a long run; set SPIKELOOP_SOAK=10m to soak the daemon under the attack that long")
	}
	dur, err := time.ParseDuration(s)
	if err != nil || dur < 30*time.Second {
		t.Fatalf("SPIKELOOP_SOAK=%q: want a duration of at least 30s", s)
	}
	r := runAttacked(t, "soak", dur, true, 0, "new", "")
	t.Log(r)
	for _, series := range []struct {
		name string
		v    []int64
	}{{"live heap", r.live}, {"RSS", r.rssAt}} {
		half := len(series.v) / 2
		first, second := slices.Max(series.v[:half]), slices.Max(series.v[half:])
		t.Logf("%s every 5 s (MB): %v", series.name, mb(series.v))
		if second > first+first/4+4<<20 {
			t.Errorf("%s grew: highest %d MB in the first half, %d MB in the second", series.name, first>>20, second>>20)
		}
	}
}

func mb(v []int64) []int64 {
	out := make([]int64, len(v))
	for i, x := range v {
		out[i] = x >> 20
	}
	return out
}
