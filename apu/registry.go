package apu

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Options are what a program asks of any backend it opens; a backend
// uses what applies to it.
type Options struct {
	// Threads is the number of threads a step may run on (<= 1: one).
	Threads int
	// CPUs are the CPUs to pin extra threads to (Linux), in turn.
	CPUs []int
	// Link reaches the chip of a backend that drives one ("apu"); nil
	// for in-process backends, which ignore it.
	Link *Link
}

// Opener makes a new, unloaded backend.
type Opener func(Options) (Backend, error)

// The backends by name. Programs register theirs once at start (package
// main's init: cmd/spikeloop registers "cpu"), so that library packages
// such as the daemon open a backend by the name a config gives without
// importing its package. Written only by Register, read by Open.
var registry struct {
	sync.RWMutex
	m map[string]Opener
	// standIn maps a backend that needs hardware to the in-process
	// backend that computes the same bit for bit (RegisterStandIn).
	standIn map[string]string
}

// RegisterStandIn says that backend standIn runs in-process, bit for
// bit, what backend name runs on its hardware ("fixed" for "apu": the
// chip's engine on the host), so that what needs no hardware (a
// config's check, a replay of a recording) runs on standIn. Both must
// be registered first; registering a name twice panics.
func RegisterStandIn(name, standIn string) {
	registry.Lock()
	defer registry.Unlock()
	if registry.m[name] == nil || registry.m[standIn] == nil {
		panic("apu: RegisterStandIn: " + name + " or " + standIn + " not registered")
	}
	if _, dup := registry.standIn[name]; dup {
		panic("apu: RegisterStandIn: " + name + " has a stand-in already")
	}
	if registry.standIn == nil {
		registry.standIn = map[string]string{}
	}
	registry.standIn[name] = standIn
}

// StandIn is the in-process backend that stands in for name
// (RegisterStandIn), or name itself.
func StandIn(name string) string {
	registry.RLock()
	defer registry.RUnlock()
	if s, ok := registry.standIn[name]; ok {
		return s
	}
	return name
}

// Register makes a backend available to Open under name. Registering a
// name twice, or an empty name or nil opener, is a programming error and
// panics.
func Register(name string, open Opener) {
	registry.Lock()
	defer registry.Unlock()
	if name == "" || open == nil {
		panic("apu: Register: empty name or nil opener")
	}
	if _, dup := registry.m[name]; dup {
		panic("apu: Register: backend " + name + " registered twice")
	}
	if registry.m == nil {
		registry.m = map[string]Opener{}
	}
	registry.m[name] = open
}

// Backends lists the registered backends' names, sorted.
func Backends() []string {
	registry.RLock()
	defer registry.RUnlock()
	names := make([]string, 0, len(registry.m))
	for n := range registry.m {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// Known says whether a backend is registered under name.
func Known(name string) bool {
	registry.RLock()
	defer registry.RUnlock()
	_, ok := registry.m[name]
	return ok
}

// Open makes a new backend of the given name. An unknown name is an
// error naming the registered ones.
func Open(name string, opt Options) (Backend, error) {
	registry.RLock()
	open, ok := registry.m[name]
	registry.RUnlock()
	if !ok {
		return nil, fmt.Errorf("backend %q: %w", name, UnknownBackend(name))
	}
	return open(opt)
}

// UnknownBackendError is Open's error for a name nothing registered.
type UnknownBackendError struct {
	Name  string
	Known []string
}

// UnknownBackend is the error for name, listing the registered backends.
func UnknownBackend(name string) *UnknownBackendError {
	return &UnknownBackendError{Name: name, Known: Backends()}
}

func (e *UnknownBackendError) Error() string {
	if len(e.Known) == 0 {
		return "no backend is registered"
	}
	return "not a backend; the backends are " + strings.Join(e.Known, ", ")
}
