package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/spikeloop/spikeloop/firmware/chip"
	"github.com/spikeloop/spikeloop/firmware/emulator"
)

var apuDoc = cmdDoc{
	usage: []string{"apu serve --listen unix:PATH|tcp:127.0.0.1:PORT [flags]"},
	text: `The APU's tools. "spikeloop apu serve --help" describes serve: the emulated
chip on a stream socket.
`,
}

var apuServeDoc = cmdDoc{
	usage: []string{"apu serve --listen unix:PATH|tcp:127.0.0.1:PORT [flags]"},
	text: `Serves an emulated APU (the firmware and its fixed-point engine) on a stream
socket, with the frames of the SPI link (firmware/README.md, "Frame
protocol" and "Link"): the development-kit path for a host that has no
board. One connection is served at a time; the chip's image and state
carry over from one connection to the next, as a board's chip outlives a
host that restarts. The fault flags inject seeded, repeatable faults.
It runs until interrupted (or for --duration) and then prints its counts.

arguments: none
`,
}

func cmdAPU(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 {
		switch args[0] {
		case "-h", "-help", "--help", "help":
			return helpRequest{helpText(newFlags("apu"), apuDoc)}
		case "serve":
			return cmdAPUServe(args[1:], stdout, stderr)
		}
	}
	what := "nothing"
	if len(args) > 0 {
		what = fmt.Sprintf("%q", args[0])
	}
	return usageError{fmt.Sprintf("subcommand: must be \"apu serve\", got %s", what)}
}

func cmdAPUServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("apu serve")
	listen := fs.String("listen", "", "where to listen: `ADDR` is unix:PATH or tcp:HOST:PORT with a loopback HOST (port 0 picks one)")
	memory := fs.Uint("memory", chip.DefaultMemory, "the chip's memory in `BYTES`, for an image and its run-time state")
	boot := fs.Uint("boot-count", 0, "the boot counter at start, `N`")
	firmware := fs.String("firmware", "", "the firmware version HELLO reports, `X.Y.Z` (default the firmware's own; another one tests a host's version check)")
	stepCost := durationFlag(fs, "step-cost", 0, "emulated compute time per network step (counted in the printed figures), e.g. 2us")
	seed := fs.Uint64("seed", 1, "the seed of the injected faults, `N`")
	flipReq := fs.Float64("flip-requests", 0, "flip one bit of a request with probability `P` (0..1)")
	flipResp := fs.Float64("flip-responses", 0, "flip one bit of a response with probability `P` (0..1)")
	drop := fs.Float64("drop-responses", 0, "lose a response with probability `P` (0..1): a dropped data-ready on a stream")
	resetFrame := fs.Uint64("reset-at-frame", 0, "reset the chip (image and state lost, boot counter + 1) at request frame `N`, counting from 1, instead of answering it")
	resetStep := fs.Int64("reset-at-step", 0, "reset the chip in the RUN that reaches step `N`, instead of answering it")
	duration := durationFlag(fs, "duration", 0, "stop after this long (default: until interrupted)")
	pos, err := parseFlags(fs, apuServeDoc, args)
	if err != nil {
		return err
	}
	if helpArg(pos, false) {
		return helpRequest{helpText(fs, apuServeDoc)}
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	network, addr, err := listenAddr(*listen)
	if err != nil {
		return usageError{err.Error()}
	}
	if *memory == 0 || *memory > 1<<32-1 {
		return usageError{fmt.Sprintf("--memory: must be 1..4294967295 bytes, got %d", *memory)}
	}
	if *boot > 1<<32-1 {
		return usageError{fmt.Sprintf("--boot-count: must be 0..4294967295, got %d", *boot)}
	}
	var fw uint32
	if *firmware != "" {
		if fw, err = parseVersion(*firmware); err != nil {
			return usageError{"--firmware: " + err.Error()}
		}
	}
	for _, p := range []struct {
		name string
		v    float64
	}{{"flip-requests", *flipReq}, {"flip-responses", *flipResp}, {"drop-responses", *drop}} {
		if !(p.v >= 0 && p.v <= 1) {
			return usageError{fmt.Sprintf("--%s: must be a probability in 0..1, got %v", p.name, p.v)}
		}
	}
	switch {
	case *stepCost < 0:
		return usageError{fmt.Sprintf("--step-cost: must be >= 0, got %v", *stepCost)}
	case *resetStep < 0:
		return usageError{fmt.Sprintf("--reset-at-step: must be >= 0, got %d", *resetStep)}
	case *duration < 0:
		return usageError{fmt.Sprintf("--duration: must be >= 0, got %v", *duration)}
	}
	emu, err := emulator.New(emulator.Config{
		Chip:     chip.Config{Memory: uint32(*memory), BootCount: uint32(*boot)},
		StepCost: *stepCost,
		Faults: emulator.Faults{Seed: *seed, RequestFlip: *flipReq, ResponseFlip: *flipResp, DropReady: *drop,
			ResetAtFrame: *resetFrame, ResetAtStep: *resetStep, Firmware: fw},
	})
	if err != nil {
		return err
	}
	l, err := net.Listen(network, addr)
	if err != nil {
		if network == "unix" {
			if _, serr := os.Stat(addr); serr == nil {
				return fmt.Errorf("listen on unix:%s: %w (a server runs there, or a stale socket is left: remove it)", addr, err)
			}
		}
		return fmt.Errorf("listen on %s:%s: %w", network, addr, err)
	}
	if network == "unix" {
		defer os.Remove(addr)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	go func() {
		<-ctx.Done()
		l.Close()
	}()
	where := network + ":" + l.Addr().String()
	cfg := emu.Config()
	fmt.Fprintf(stdout, "apu serve: listening on %s (firmware %s, memory %d bytes, boot counter %d)\n",
		where, versionString(cfg.Chip.Firmware), cfg.Chip.Memory, cfg.Chip.BootCount)
	serveErr := emu.Serve(l)
	st := emu.Stats()
	fmt.Fprintf(stdout, "apu serve: %d requests, %d responses; injected %d request flips, %d response flips, %d lost responses, %d resets; compute %v emulated\n",
		st.Requests, st.Responses, st.RequestFlips, st.ResponseFlips, st.DroppedReady, st.SelfResets, st.Compute)
	if serveErr != nil {
		return fmt.Errorf("serve on %s: %w", where, serveErr)
	}
	return nil
}

// listenAddr splits --listen into a network and an address.
func listenAddr(s string) (string, string, error) {
	network, addr, ok := strings.Cut(s, ":")
	switch {
	case s == "":
		return "", "", errors.New("--listen: needed, e.g. unix:/tmp/apu.sock or tcp:127.0.0.1:7410")
	case !ok || addr == "":
		return "", "", fmt.Errorf("--listen: must be unix:PATH or tcp:HOST:PORT, got %q", s)
	}
	switch network {
	case "unix":
		return network, addr, nil
	case "tcp":
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			return "", "", fmt.Errorf("--listen: %q: %v", s, err)
		}
		if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			return "", "", fmt.Errorf("--listen: the host must be a loopback address (127.0.0.1, ::1 or localhost: the emulated chip takes frames from anyone who connects), got %q", s)
		}
		return network, addr, nil
	}
	return "", "", fmt.Errorf("--listen: the network must be unix or tcp, got %q", s)
}

// parseVersion reads X.Y.Z as major<<16 | minor<<8 | patch.
func parseVersion(s string) (uint32, error) {
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return 0, fmt.Errorf("must be X.Y.Z, e.g. 1.0.0, got %q", s)
	}
	var v uint32
	for _, p := range parts {
		n, err := strconv.ParseUint(p, 10, 8)
		if err != nil {
			return 0, fmt.Errorf("must be X.Y.Z with each part 0..255, got %q", s)
		}
		v = v<<8 | uint32(n)
	}
	if v == 0 {
		return 0, fmt.Errorf("must be a version above 0.0.0, got %q", s)
	}
	return v, nil
}

func versionString(v uint32) string {
	return fmt.Sprintf("%d.%d.%d", v>>16, v>>8&0xff, v&0xff)
}
