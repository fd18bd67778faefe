package daemon

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
	"golang.org/x/crypto/bcrypt"

	"github.com/spikeloop/spikeloop/io/telemetry"
	"github.com/spikeloop/spikeloop/io/telemetry/mqtttest"
	"github.com/spikeloop/spikeloop/models"
)

// TestCommandFlood sends 5,000 valid setters of the search drive's
// amplitude in one burst, through the embedded broker, to the demo
// running on the wall clock with a command queue of 64, at QoS 0 and at
// QoS 1 (commands and replies). Command i sets 1000+i pA. Every command is answered exactly once, in
// the order sent: applied, or busy with the queue's length. The
// amplitude the loop holds after each tick only grows, is always that of
// a command answered ok (never of one refused), and ends on the last
// command answered ok. How many are refused depends on the machine's
// load; that each is answered, and the order, do not.
func TestCommandFlood(t *testing.T) {
	const n, queue, base = 5000, 64, 1000
	h, err := bcrypt.GenerateFromPassword([]byte("op-secret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	for _, qos := range []byte{0, 1} {
		t.Run(fmt.Sprintf("qos%d", qos), func(t *testing.T) {
			addr := mqtttest.FreeAddr(t)
			extra := fmt.Sprintf(`  embedded:
    listen: %s
    users: [{name: op, hash: '%s', command: true}]
  commands:
    drive: {kind: dc_amplitude, target: search, min: -1, max: %d}
  command_queue: %d
`, addr, h, base+n, queue)
			cfg := demoWith(t, "", fmt.Sprintf(telSection, "flood", t.TempDir(), extra))
			if got := cfg.Telemetry.CommandQueue; got != queue {
				t.Fatalf("command_queue %d, want %d", got, queue)
			}
			// The amplitude after each tick, when it changed.
			var mu sync.Mutex
			var seen []float64
			r := startRun(t, cfg, Options{AfterTick: func(d *Daemon, _ int64) {
				m, _ := engineOf(d).Model("search")
				v := m.State("I")[0]
				mu.Lock()
				if len(seen) == 0 || seen[len(seen)-1] != v {
					seen = append(seen, v)
				}
				mu.Unlock()
			}})
			waitListen(t, addr)

			var rmu sync.Mutex
			var replies []telemetry.Reply
			opts := mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetUsername("op").SetPassword("op-secret").
				SetAutoReconnect(false).SetConnectTimeout(3 * time.Second)
			op := mqtt.NewClient(opts)
			if tok := op.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Fatalf("connect: %v", tok.Error())
			}
			defer op.Disconnect(50)
			tok := op.Subscribe("spikeloop/flood/cmd/+/reply", qos, func(_ mqtt.Client, m mqtt.Message) {
				var rep telemetry.Reply
				if _, err := rep.UnmarshalMsg(m.Payload()); err != nil {
					rep.Error = "undecodable: " + err.Error()
				}
				rmu.Lock()
				replies = append(replies, rep)
				rmu.Unlock()
			})
			if !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
				t.Fatalf("subscribe: %v", tok.Error())
			}
			// count counts the replies to the burst (not to "ready").
			count := func() int {
				rmu.Lock()
				defer rmu.Unlock()
				n := 0
				for _, rep := range replies {
					if rep.ID != "ready" {
						n++
					}
				}
				return n
			}
			send := func(id string, v float64) mqtt.Token {
				return op.Publish("spikeloop/flood/cmd/drive", qos, false, command(t, id, number(v)))
			}
			// The loop takes commands once it runs: a first one, until
			// applied, says so (value -1, the lowest). The ones sent
			// after it may be answered only after the burst below has
			// started (a reply can take longer than the 20 ms here on a
			// loaded machine): they are told apart by id, not by time.
			// All were acknowledged by the broker before the burst, so
			// their replies come first.
			for end := time.Now().Add(5 * time.Second); ; {
				send("ready", -1).Wait()
				time.Sleep(20 * time.Millisecond)
				rmu.Lock()
				ready := len(replies) > 0 && replies[len(replies)-1].OK
				rmu.Unlock()
				if ready {
					break
				}
				if time.Now().After(end) {
					t.Fatalf("the daemon does not apply commands:\n%s", r.logs.String())
				}
			}

			start := time.Now()
			toks := make([]mqtt.Token, n)
			for i := range n {
				toks[i] = send(strconv.Itoa(i), float64(base+i))
			}
			for i, tok := range toks {
				if !tok.WaitTimeout(10*time.Second) || tok.Error() != nil {
					t.Fatalf("publish %d: %v", i, tok.Error())
				}
			}
			sent := time.Since(start)
			for end := time.Now().Add(20 * time.Second); count() < n && time.Now().Before(end); {
				time.Sleep(10 * time.Millisecond)
			}
			elapsed := time.Since(start)
			time.Sleep(100 * time.Millisecond) // a reply too many would show here
			rmu.Lock()
			rs := append([]telemetry.Reply(nil), replies...)
			rmu.Unlock()
			readies := 0
			for readies < len(rs) && rs[readies].ID == "ready" {
				readies++
			}
			rs = rs[readies:]
			if len(rs) != n {
				t.Fatalf("%d replies to %d commands, besides %d ready replies", len(rs), n, readies)
			}

			// One reply per command, in the order sent.
			okd := map[float64]bool{}
			busy, last := 0, -1
			for i, rep := range rs {
				if rep.ID != strconv.Itoa(i) || rep.Name != "drive" {
					t.Fatalf("reply %d: id %q name %q: replies out of order, or lost", i, rep.ID, rep.Name)
				}
				switch {
				case rep.OK && !rep.Busy:
					okd[float64(base+i)], last = true, i
				case !rep.OK && rep.Busy && rep.Queue == queue && strings.Contains(rep.Error, fmt.Sprintf("busy: %d commands are waiting for the loop", queue)):
					busy++
				default:
					t.Fatalf("reply %d: %+v, want ok, or busy with queue %d", i, rep, queue)
				}
			}
			if last < 0 {
				t.Fatal("no command applied")
			}
			// The loop's amplitude after each tick: growing, only values
			// of commands answered ok, the last one last. (Wait for the
			// tick after the last reply: the reply may leave before it.)
			r.finish(t)
			mu.Lock()
			amps := append([]float64(nil), seen...)
			mu.Unlock()
			prev := -1.0
			for _, v := range amps {
				if v < base { // the demo's own 500 pA, the ready command's -1
					if prev >= base {
						t.Fatalf("amplitude %v after %v", v, prev)
					}
					continue
				}
				if !okd[v] {
					t.Fatalf("after a tick the amplitude was %v pA: not a command answered ok", v)
				}
				if v <= prev {
					t.Fatalf("amplitude %v after %v: commands applied out of order", v, prev)
				}
				prev = v
			}
			if want := float64(base + last); prev != want {
				t.Fatalf("final amplitude %v pA, want %v (command %d, the last answered ok)", prev, want, last)
			}
			t.Logf("qos %d: %d commands sent in %v, %d replies in %v: %d applied, %d busy (queue %d), last applied %d; %d amplitude changes seen; %d ready replies",
				qos, n, sent.Round(time.Millisecond), len(rs), elapsed.Round(time.Millisecond), n-busy, busy, queue, last, len(amps), readies)
		})
	}
}

// BenchmarkApplyControls is the loop's work for a full command queue:
// 64 amplitude settings of the demo's search drive applied at the start
// of one tick (per op), answered to a done that does nothing.
//
//	go test ./daemon -run XXX -bench ApplyControls -benchmem
func BenchmarkApplyControls(b *testing.B) {
	d := quietDaemon(b)
	reqs := make([]*ctlRequest, cap(d.ctl))
	for i := range reqs {
		reqs[i] = &ctlRequest{kind: telemetry.KindDCAmplitude, pop: "search", values: []float64{float64(i)}, done: func(err error) {
			if err != nil {
				b.Fatal(err)
			}
		}}
	}
	b.ReportAllocs()
	for b.Loop() {
		for _, r := range reqs {
			d.ctl <- r
		}
		d.applyControls()
	}
	b.ReportMetric(float64(len(reqs)), "commands/op")
}

// TestControlsSubmit: the daemon's side of a command without the loop
// running: queued up to command_queue, then refused as busy with the
// queue's length; with no loop attached, refused; when the loop stops,
// every command still queued is answered, not applied; a reload without
// Serve is refused. Each done is called exactly once.
func TestControlsSubmit(t *testing.T) {
	cfg := demoWith(t, "", "telemetry:\n  command_queue: 3\n")
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	c := &controls{reload: make(chan struct{}, 1)}
	outcomes := map[int][]error{}
	submit := func(i int, kind telemetry.Kind) {
		c.Submit(telemetry.Action{Name: "x", Kind: kind, Target: "search", Values: []float64{float64(i)}},
			func(err error) { outcomes[i] = append(outcomes[i], err) })
	}
	submit(0, telemetry.KindDCAmplitude)
	if errs := outcomes[0]; len(errs) != 1 || errs[0] == nil || !strings.Contains(errs[0].Error(), "the loop is not running") {
		t.Fatalf("no loop: %v", errs)
	}
	c.attach(d)
	for i := 1; i <= 5; i++ {
		submit(i, telemetry.KindDCAmplitude)
	}
	for i := 1; i <= 3; i++ {
		if len(outcomes[i]) != 0 {
			t.Fatalf("command %d answered before the loop took it: %v", i, outcomes[i])
		}
	}
	for i := 4; i <= 5; i++ {
		var busy *telemetry.BusyError
		if errs := outcomes[i]; len(errs) != 1 || !errors.As(errs[0], &busy) || busy.Queue != 3 || !errors.Is(errs[0], telemetry.ErrBusy) {
			t.Fatalf("command %d over the queue: %v, want busy with queue 3", i, errs)
		}
	}
	// The loop applies the three, in order: the last accepted stays.
	d.applyControls()
	for i := 1; i <= 3; i++ {
		if errs := outcomes[i]; len(errs) != 1 || errs[0] != nil {
			t.Fatalf("command %d applied: %v", i, errs)
		}
	}
	m, _ := engineOf(d).Model("search")
	amp := make([]float64, m.Size())
	if m.(*models.DCGenerator).Emit(d.backend.Now(), amp); amp[0] != 3 {
		t.Fatalf("amplitude %v after commands 1, 2, 3 (4 and 5 busy), want 3", amp[0])
	}
	submit(6, telemetry.KindPause)
	c.detach(d)
	if errs := outcomes[6]; len(errs) != 1 || errs[0] == nil || !strings.Contains(errs[0].Error(), "the loop stopped before applying it") {
		t.Fatalf("queued when the loop stopped: %v", errs)
	}
	if d.paused {
		t.Fatal("the pause queued when the loop stopped was applied")
	}
	submit(7, telemetry.KindReload)
	if errs := outcomes[7]; len(errs) != 1 || errs[0] == nil || !strings.Contains(errs[0].Error(), "reload is not available") {
		t.Fatalf("reload without Serve: %v", errs)
	}
}

// TestApplyControlsBudget: per-unit settings of a large generator are
// applied one tick after the other when their values pass
// maxValuesPerTick, in order; scalar ones all in one tick.
func TestApplyControlsBudget(t *testing.T) {
	const size = maxValuesPerTick/2 + 1 // two pass the budget
	net := bytes.Replace(demoNetwork, []byte("  search:\n    model: DCGenerator\n    size: 1\n"),
		[]byte(fmt.Sprintf("  search:\n    model: DCGenerator\n    size: %d\n", size)), 1)
	if bytes.Equal(net, demoNetwork) {
		t.Fatal("the demo network has no search drive of size 1 to enlarge")
	}
	cfg, err := Parse([]byte(quietDemoText()), "demo.yaml", net)
	if err != nil {
		t.Fatal(err)
	}
	d, err := New(cfg, Options{Clock: &FakeClock{}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var answered []int
	queue := func(i int, values []float64) {
		d.ctl <- &ctlRequest{kind: telemetry.KindDCAmplitude, pop: "search", values: values, done: func(err error) {
			if err != nil {
				t.Errorf("command %d: %v", i, err)
			}
			answered = append(answered, i)
		}}
	}
	list := func(x float64) []float64 {
		v := make([]float64, size)
		for i := range v {
			v[i] = x
		}
		return v
	}
	queue(0, list(10))
	queue(1, list(11))
	queue(2, list(12))
	queue(3, []float64{13})
	m, _ := engineOf(d).Model("search")
	amp := func() float64 {
		out := make([]float64, size)
		m.(*models.DCGenerator).Emit(d.backend.Now(), out)
		return out[size-1]
	}
	for tick, want := range []struct {
		answered string
		amp      float64
	}{{"[0 1]", 11}, {"[0 1 2 3]", 13}} {
		d.applyControls()
		if fmt.Sprint(answered) != want.answered || amp() != want.amp {
			t.Fatalf("after tick %d: answered %v, amplitude %v; want %s, %v", tick, answered, amp(), want.answered, want.amp)
		}
	}
	for i := range 64 {
		queue(4+i, []float64{float64(i)})
	}
	d.applyControls()
	if len(answered) != 4+64 || amp() != 63 {
		t.Fatalf("64 scalar settings: %d answered in one tick, amplitude %v", len(answered)-4, amp())
	}
}
