package daemon

import _ "embed"

// The demo's config and network, built into the binary so that
// `spikeloop run` with no config runs anywhere. The same files are
// shipped as examples/demo/spikeloop.yaml and examples/demo/braitenberg.yaml,
// for users to copy and change (TestDemoFilesShipped keeps them equal).
var (
	//go:embed demo.yaml
	demoConfig []byte
	//go:embed braitenberg.yaml
	demoNetwork []byte
)

// DemoConfig returns the built-in demo config, checked: a Braitenberg
// vehicle on the emulated board, steered by a small LIF network.
func DemoConfig() (*Config, error) {
	return Parse(demoConfig, "demo.yaml", demoNetwork)
}

// DemoFiles returns the demo's config and network file contents (the
// tests use them to build variants of the demo).
func DemoFiles() (config, network []byte) {
	return append([]byte(nil), demoConfig...), append([]byte(nil), demoNetwork...)
}
