package telemetry

import (
	"bytes"
	"os"
	"reflect"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spikeloop/spikeloop/io/telemetry/mqtttest"

	"github.com/rs/zerolog"
	"golang.org/x/crypto/bcrypt"
)

// TestBrokerFloodMeasure is a measurement, not a check (run it on
// purpose): a 20/s wrong-password login flood for 10 s against a broker
// with one user at bcrypt cost 10, then one 20 MB publish; it prints the
// process's CPU time and peak RSS and the bytes the broker logged.
//
//	SPIKELOOP_BROKER_MEASURE=1 go test -run TestBrokerFloodMeasure -v ./io/telemetry/
func TestBrokerFloodMeasure(t *testing.T) {
	if os.Getenv("SPIKELOOP_BROKER_MEASURE") == "" {
		t.Skip("a measurement; set SPIKELOOP_BROKER_MEASURE=1 to run it")
	}
	h, err := bcrypt.GenerateFromPassword([]byte("right"), 10)
	if err != nil {
		t.Fatal(err)
	}
	var logBuf lockedBuffer
	b, err := StartBroker(BrokerConfig{Listen: "127.0.0.1:0", Prefix: testPrefix,
		Users:  []User{{Name: "op", Hash: string(h), Command: true}},
		Logger: zerolog.New(&logBuf).Level(zerolog.WarnLevel)})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cpu0, _ := cpuAndPeak()
	start := time.Now()
	var wg sync.WaitGroup
	refused := 0
	var mu sync.Mutex
	for i := 0; i < 200; i++ { // 20/s for 10 s, each in its own goroutine as separate processes would
		time.Sleep(time.Until(start.Add(time.Duration(i) * 50 * time.Millisecond)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, code, err := rawConnect(b.Addr(), "", "op", "wrong", false)
			if err == nil {
				c.Close()
			}
			if err != nil || code != 0 {
				mu.Lock()
				refused++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	flood := time.Since(start)
	cpu1, peak := cpuAndPeak()
	t.Logf("login flood: 200 CONNECTs in %v, %d refused; CPU %.2f s (%.0f%% of one core); peak RSS %d MB; log %d bytes",
		flood.Round(time.Millisecond), refused, (cpu1 - cpu0).Seconds(), 100*(cpu1-cpu0).Seconds()/flood.Seconds(), peak>>20, logBuf.Len())

	if m := reflect.ValueOf(b).MethodByName("Stats"); m.IsValid() { // not before the limits
		t.Logf("broker stats after the flood: %+v", m.Call(nil)[0].Interface())
	}

	logBefore := logBuf.Len()
	c, code, err := rawConnect(b.Addr(), "big", "", "", false)
	if err != nil || code != 0 {
		t.Fatalf("anonymous connect: %v %d", err, code)
	}
	payload := bytes.Repeat([]byte{'x'}, 20<<20)
	c.Write(mqtttest.PublishHeader(testPrefix+"cmd/x", 1, len(payload)))
	c.Write(payload)
	c.closedWithin(3 * time.Second)
	c.Close()
	// mochi's listener logs the connection's end last ("not authorized"
	// before, "packet too large" after this change), or nothing at all
	for n := 0; n < 100 && !strings.Contains(logBuf.String()[logBefore:], "not authorized") && !strings.Contains(logBuf.String()[logBefore:], "refused"); n++ {
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	_, peak = cpuAndPeak()
	t.Logf("20 MB QoS 1 publish to a refused topic: log grew by %d bytes; peak RSS %d MB", logBuf.Len()-logBefore, peak>>20)
	if s := logBuf.String(); len(s) > 2000 {
		t.Logf("log (last 600 bytes): %s", strings.ToValidUTF8(s[len(s)-600:], "?"))
		t.Logf("log (first 2000 bytes): %s", strings.ToValidUTF8(s[:2000], "?"))
	} else {
		t.Logf("log: %s", s)
	}
}

// cpuAndPeak is the process's user+system CPU time and peak RSS (bytes).
func cpuAndPeak() (time.Duration, int64) {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), int64(ru.Maxrss) << 10
}

// lockedBuffer is a bytes.Buffer for a logger written from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Len()
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
