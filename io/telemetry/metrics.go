package telemetry

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics exposes the latest telemetry sample and the publisher's
// counters on a Prometheus /metrics endpoint, for users who scrape rather
// than subscribe. The publisher feeds it (PublisherConfig.Metrics) after
// each sample it takes from the queue, so the loop is not involved and a
// slow scrape holds nothing the loop needs.
type Metrics struct {
	mu   sync.Mutex
	last Telemetry // latest sample, a copy
	have bool
	pub  *Publisher // set by NewPublisher; nil: no MQTT counters

	reg *prometheus.Registry

	tick, timeMs, rate, spikes, sensor, actuator, plant *prometheus.Desc
	lateness, overruns, stale, dropped                  *prometheus.Desc
	published, failed, cmdBusy, cmdDropped, connected   *prometheus.Desc
	runInfo                                             *prometheus.Desc
	linkFrames, linkBytes, linkCRC, linkRetries         *prometheus.Desc
	linkTimeouts, linkResets, linkFaults, linkReloads   *prometheus.Desc
	linkTransfer                                        *prometheus.Desc
}

var _ prometheus.Collector = (*Metrics)(nil)

// NewMetrics returns the metrics of board, in a registry of their own
// (nothing is registered globally).
func NewMetrics(board string) *Metrics {
	c := prometheus.Labels{"board": board}
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("spikeloop_"+name, help, labels, c)
	}
	m := &Metrics{
		tick:       d("tick", "Loop tick of the latest telemetry sample."),
		timeMs:     d("network_time_ms", "Network time of the latest sample, ms."),
		rate:       d("population_rate_hz", "Firing rate over the latest telemetry interval, Hz.", "population"),
		spikes:     d("population_spikes", "Spikes over the latest telemetry interval.", "population"),
		sensor:     d("sensor_value", "Sensor value in the latest sample.", "sensor"),
		actuator:   d("actuator_value", "Actuator value in the latest sample.", "actuator"),
		plant:      d("plant_state", "Emulated plant's state in the latest sample.", "var"),
		lateness:   d("loop_lateness_microseconds", "Tick wake-up lateness over the latest interval, µs.", "quantile"),
		overruns:   d("loop_overruns_total", "Ticks that missed their deadline since start."),
		stale:      d("loop_stale_inputs", "Inputs stale at the latest sample."),
		dropped:    d("telemetry_dropped_total", "Telemetry samples the hand-off queue dropped since start."),
		published:  d("mqtt_published_total", "Messages handed to the MQTT client (sent or stored)."),
		failed:     d("mqtt_publish_failed_total", "Messages the MQTT client refused."),
		cmdBusy:    d("mqtt_commands_busy_total", "Commands refused as busy (answered): the queue to the loop was full."),
		cmdDropped: d("mqtt_commands_dropped_total", "Commands dropped unanswered: too many replies were waiting for the broker."),
		connected:  d("mqtt_connected", "1 while connected to the broker."),
		runInfo:    d("run_info", "Always 1; its run label is the run id in the status and in every sample.", "run"),
		reg:        prometheus.NewRegistry(),

		linkFrames:   d("link_frames_total", "Frames on the link to the chip (backend apu), both ways, resends included."),
		linkBytes:    d("link_bytes_total", "Bytes on the link to the chip, both ways."),
		linkCRC:      d("link_crc_errors_total", "Frames that failed their CRC or frame checks, either way."),
		linkRetries:  d("link_retries_total", "Requests resent to the chip."),
		linkTimeouts: d("link_timeouts_total", "Responses from the chip that did not come in time."),
		linkResets:   d("link_chip_resets_total", "Chip resets seen (boot counter changes)."),
		linkFaults:   d("link_faults_total", "Ticks whose network step failed on the link (outputs put safe)."),
		linkReloads:  d("link_reloads_total", "Chip reloads after a link fault: the network restarted from t = 0."),
		linkTransfer: d("link_transfer_microseconds", "Mean time on the link per tick over the latest interval, µs."),
	}
	m.reg.MustRegister(m)
	return m
}

// observe keeps a copy of the sample t.
func (m *Metrics) observe(t *Telemetry) {
	m.mu.Lock()
	copyTelemetry(&m.last, t)
	m.have = true
	m.mu.Unlock()
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.tick, m.timeMs, m.rate, m.spikes, m.sensor, m.actuator, m.plant,
		m.lateness, m.overruns, m.stale, m.dropped, m.published, m.failed, m.cmdBusy, m.cmdDropped, m.connected, m.runInfo,
		m.linkFrames, m.linkBytes, m.linkCRC, m.linkRetries, m.linkTimeouts, m.linkResets, m.linkFaults, m.linkReloads, m.linkTransfer} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	if m.pub != nil {
		st := m.pub.Stats()
		counter(m.published, float64(st.Published))
		counter(m.failed, float64(st.Failed))
		counter(m.cmdBusy, float64(st.CommandsBusy))
		counter(m.cmdDropped, float64(st.CommandsDropped))
		connected := 0.0
		if m.pub.client.IsConnectionOpen() {
			connected = 1
		}
		gauge(m.connected, connected)
		gauge(m.runInfo, 1, m.pub.run)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.have {
		return
	}
	t := &m.last
	gauge(m.tick, float64(t.Tick))
	gauge(m.timeMs, t.TimeMs)
	for k, v := range t.Rates {
		gauge(m.rate, v, k)
	}
	for k, v := range t.Counts {
		gauge(m.spikes, float64(v), k)
	}
	for k, v := range t.Sensors {
		gauge(m.sensor, v, k)
	}
	for k, v := range t.Actuators {
		gauge(m.actuator, v, k)
	}
	for k, v := range t.Plant {
		gauge(m.plant, v, k)
	}
	gauge(m.lateness, t.Loop.LatenessP50us, "0.5")
	gauge(m.lateness, t.Loop.LatenessP99us, "0.99")
	gauge(m.lateness, t.Loop.LatenessP999us, "0.999")
	counter(m.overruns, float64(t.Loop.Overruns))
	gauge(m.stale, float64(t.Loop.StaleInputs))
	counter(m.dropped, float64(t.Dropped))
	if l := t.Link; !l.IsZero() {
		counter(m.linkFrames, float64(l.Frames))
		counter(m.linkBytes, float64(l.Bytes))
		counter(m.linkCRC, float64(l.CRCErrors))
		counter(m.linkRetries, float64(l.Retries))
		counter(m.linkTimeouts, float64(l.Timeouts))
		counter(m.linkResets, float64(l.ChipResets))
		counter(m.linkFaults, float64(l.Faults))
		counter(m.linkReloads, float64(l.Reloads))
		gauge(m.linkTransfer, l.TransferUs)
	}
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// ListenMetrics listens on addr for the metrics endpoint: a loopback
// address unless allowNonLoopback (the config must say so).
func ListenMetrics(addr string, allowNonLoopback bool) (net.Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen %q: %w", addr, err)
	}
	if !allowNonLoopback && !IsLoopbackHost(host) {
		return nil, fmt.Errorf("metrics: listen: must be a loopback address (set allow_non_loopback to serve a network), got %q", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: listen %q: %w", addr, err)
	}
	return ln, nil
}

// ServeMetrics serves m on ln at /metrics, and other (nil: none) at
// every path but /metrics (the daemon's live page), until ctx ends.
func ServeMetrics(ctx context.Context, ln net.Listener, m *Metrics, other http.Handler) error {
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	if other != nil {
		mux.Handle("/", other)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shut, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: %w", err)
	}
	return nil
}
