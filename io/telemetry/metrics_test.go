package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestMetrics(t *testing.T) {
	b := startTestBroker(t)
	m := NewMetrics("test")
	q := newQueue(t, 8)
	pub := testPublisher(t, PublisherConfig{Broker: b.URL(), Username: DaemonUser, Password: b.DaemonPassword(), Metrics: m}, q)
	ln, err := ListenMetrics("127.0.0.1:0", false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- ServeMetrics(ctx, ln, m, nil) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
	}()

	var s Telemetry
	sample(7, &s)
	s.Loop.LatenessP99us, s.Dropped = 48, 2
	q.Push(&s)
	scrape := func() string {
		resp, err := http.Get("http://" + ln.Addr().String() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	var text string
	waitFor(t, 5*time.Second, "sample and connection in /metrics", func() bool {
		text = scrape()
		return strings.Contains(text, "spikeloop_tick") && strings.Contains(text, `spikeloop_mqtt_connected{board="test"} 1`)
	})
	for _, want := range []string{
		`spikeloop_tick{board="test"} 70`,
		`spikeloop_population_rate_hz{board="test",population="right"} 14`,
		`spikeloop_population_spikes{board="test",population="left"} 7`,
		`spikeloop_sensor_value{board="test",sensor="light_l"} 7`,
		`spikeloop_plant_state{board="test",var="x"} 7`,
		`spikeloop_loop_lateness_microseconds{board="test",quantile="0.99"} 48`,
		`spikeloop_loop_overruns_total{board="test"} 7`,
		`spikeloop_mqtt_connected{board="test"} 1`,
		`spikeloop_mqtt_published_total{board="test"}`,
		`spikeloop_telemetry_dropped_total{board="test"} 0`, // Dropped is the queue's count, not the loop's
		`spikeloop_run_info{board="test",run="` + pub.RunID() + `"} 1`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, text)
		}
	}
}

func TestListenMetricsLoopbackOnly(t *testing.T) {
	if _, err := ListenMetrics("0.0.0.0:0", false); err == nil || !strings.Contains(err.Error(), `metrics: listen: must be a loopback address (set allow_non_loopback to serve a network), got "0.0.0.0:0"`) {
		t.Errorf("ListenMetrics on 0.0.0.0: %v", err)
	}
}

// The link's figures reach /metrics when a sample has them, and are left
// out when it has none (a network on the host).
func TestMetricsLink(t *testing.T) {
	m := NewMetrics("test")
	var s Telemetry
	sample(3, &s)
	m.observe(&s)
	text := gather(t, m)
	if strings.Contains(text, "spikeloop_link_") {
		t.Errorf("a sample without a link gave link metrics:\n%s", text)
	}
	s.Link = Link{Frames: 2000, Bytes: 90000, CRCErrors: 3, Retries: 4, Timeouts: 1, ChipResets: 1, Faults: 1, Reloads: 1, TransferUs: 41.5}
	m.observe(&s)
	text = gather(t, m)
	for _, want := range []string{
		`spikeloop_link_frames_total{board="test"} 2000`, `spikeloop_link_bytes_total{board="test"} 90000`,
		`spikeloop_link_crc_errors_total{board="test"} 3`, `spikeloop_link_retries_total{board="test"} 4`,
		`spikeloop_link_timeouts_total{board="test"} 1`, `spikeloop_link_chip_resets_total{board="test"} 1`,
		`spikeloop_link_faults_total{board="test"} 1`, `spikeloop_link_reloads_total{board="test"} 1`,
		`spikeloop_link_transfer_microseconds{board="test"} 41.5`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

// gather renders m's metrics in the text format, as /metrics serves them.
func gather(t *testing.T, m *Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}
