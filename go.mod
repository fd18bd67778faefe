module github.com/spikeloop/spikeloop

go 1.26

require (
	go.yaml.in/yaml/v3 v3.0.6
	periph.io/x/conn/v3 v3.7.3
)
