#!/usr/bin/python3
"""CUBA in Brian2 cpp_standalone: the anchor of "spikeloop bench engine --brian2".

Runs the CUBA network of "spikeloop bench engine" (the network-file text of
cpu.CUBASource(n), apu/cpu/benchnets.go) in Brian2's C++ standalone mode
with OpenMP, for each N given, and prints one JSON line per N:

    {"n": 4000, "threads": 1, "wall_s_per_simsec": 0.12, "spikes": 22400,
     "rate_hz": 5.6, "warmup_s": 1.0, "seconds": 1.0, "synapses": 320123,
     "build_dir": "...", "brian2": "2.5.1"}

The model, as spikeloop's ExpLIF (NEST iaf_psc_exp) with two current ports:
n neurons, 4n/5 excitatory and n/5 inhibitory; tau_m 20 ms, C_m 250 pF
(R 0.08 GOhm), V_rest -49 mV, V_th -50 mV (spike at V >= V_th), V_reset
-60 mV, tau_ref 5 ms; exponential PSCs, tau 5 ms (excitatory port) and
10 ms (inhibitory); weights 20.25 pA and -112.5 pA, delay 0.1 ms; four
fixed-probability projections (exc and inh onto exc and inh) with
p = 80/n, autapses allowed; V(0) uniform in [-60, -50) mV; dt 0.1 ms;
exact (linear) integration; every spike recorded. Both simulators run
the same model, not the same random draw (connections and V(0) differ).

Brian2 keeps a neuron refractory while fewer than tau_ref/dt steps have
passed since its spike, so the step tau_ref/dt after the spike integrates
again; NEST (and spikeloop) hold V for tau_ref/dt steps after the spiking
step. The refractory period given to Brian2 is tau_ref + dt so that V is
held for the same 50 steps.

What is timed: --warmup model seconds run first, then --seconds; the
figure is Brian2's own timing of that last run (Network::run, read from
results/last_run_info.txt as device._last_run_time), which excludes code
generation, compilation, loading, connecting and writing results. With
openmp_threads >= 1 Brian2 times it with omp_get_wtime, the wall clock
(with 0 threads it would report CPU time, so --threads must be >= 1).
Spikes and rate_hz count the timed seconds only.

Threads: Brian2 2.5's OpenMP code updates the neurons on all threads but
applies the synaptic effects (on_pre) on one (an "omp master" block in
the generated synapses code), so in CUBA, where delivery costs most, a
second thread adds barriers more than it saves. OpenMP's environment
(OMP_WAIT_POLICY, GOMP_SPINCOUNT) passes through; the figures of
"spikeloop bench engine" use libgomp's defaults.

The project is generated and compiled in BUILD_DIR/cuba_n<N>_t<T>
(--dir, default a folder in the system's temporary directory). Brian2
rewrites only files whose content changed, so a second invocation with
the same N, threads and directory does not recompile: "spikeloop bench
engine" first calls this script with --build-only for each case, then
runs it once per round. With a fixed --seed the network is the same in
every round.

Needs Brian2 (Debian: apt-get install python3-brian) and a C++ compiler
with OpenMP (g++). Run it with the interpreter that has Brian2, e.g.

    /usr/bin/python3 bench/brian2/cuba.py --threads 2 4000 16000
"""

import argparse
import json
import os
import sys
import tempfile


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("n", type=int, nargs="+", help="network sizes (neurons)")
    ap.add_argument("--threads", type=int, default=1,
                    help="OpenMP threads (prefs.devices.cpp_standalone.openmp_threads), >= 1")
    ap.add_argument("--warmup", type=float, default=1.0, help="model seconds run before the timed run")
    ap.add_argument("--seconds", type=float, default=1.0, help="model seconds timed")
    ap.add_argument("--seed", type=int, default=1, help="Brian2's random seed (connections, V(0))")
    ap.add_argument("--dir", default=os.path.join(tempfile.gettempdir(), "spikeloop-brian2-cuba"),
                    help="folder holding the standalone projects, one per N and thread count")
    ap.add_argument("--build-only", action="store_true",
                    help="generate and compile the projects, do not run them")
    a = ap.parse_args(argv)
    if a.threads < 1:
        ap.error(f"--threads: must be >= 1, got {a.threads}")
    for n in a.n:
        if n < 5:
            ap.error(f"n: must be >= 5 (4:1 excitatory to inhibitory), got {n}")
    if not a.seconds > 0 or a.warmup < 0:
        ap.error(f"--seconds must be > 0 and --warmup >= 0, got {a.seconds} and {a.warmup}")
    return a


def run_one(b2, n, a):
    """Builds (and unless --build-only runs) CUBA with n neurons; returns the JSON record."""
    from brian2 import ms, mV, pA, pF, second  # units
    d = os.path.join(a.dir, f"cuba_n{n}_t{a.threads}")
    b2.device.reinit()
    b2.device.activate(directory=d, build_on_run=False)
    b2.prefs.devices.cpp_standalone.openmp_threads = a.threads
    b2.defaultclock.dt = 0.1 * ms
    b2.seed(a.seed)

    dt = 0.1 * ms
    ne, ni = n * 4 // 5, n // 5
    p = 80.0 / n
    ns = dict(tau_m=20 * ms, c_m=250 * pF, v_rest=-49 * mV, v_th=-50 * mV, v_reset=-60 * mV,
              tau_e=5 * ms, tau_i=10 * ms, w_e=20.25 * pA, w_i=-112.5 * pA)
    eqs = """
    dv/dt = (v_rest - v)/tau_m + (ie + ii)/c_m : volt (unless refractory)
    die/dt = -ie/tau_e : amp
    dii/dt = -ii/tau_i : amp
    """
    P = b2.NeuronGroup(ne + ni, eqs, threshold="v >= v_th", reset="v = v_reset",
                       refractory=5 * ms + dt, method="exact", namespace=ns)
    P.v = "v_reset + rand()*(v_th - v_reset)"
    Pe, Pi = P[:ne], P[ne:]
    syn = []
    for pre, w, port in ((Pe, "w_e", "ie"), (Pi, "w_i", "ii")):
        for post in (Pe, Pi):
            S = b2.Synapses(pre, post, on_pre=f"{port}_post += {w}", delay=0.1 * ms, namespace=ns)
            S.connect(p=p)
            syn.append(S)
    mon = b2.SpikeMonitor(P)
    net = b2.Network(P, *syn, mon)
    if a.warmup > 0:
        net.run(a.warmup * second)
    net.run(a.seconds * second)
    b2.device.build(directory=d, compile=True, run=not a.build_only, with_output=False)
    rec = {"n": n, "threads": a.threads, "build_dir": d, "brian2": b2.__version__}
    if a.build_only:
        rec["built"] = True
        return rec
    wall = float(b2.device._last_run_time)
    spikes = int((mon.t[:] >= a.warmup * second).sum())
    rec.update(wall_s_per_simsec=wall / a.seconds, spikes=spikes,
               rate_hz=spikes / n / a.seconds, warmup_s=a.warmup, seconds=a.seconds,
               synapses=int(sum(len(S) for S in syn)))
    return rec


def main(argv):
    a = parse_args(argv)
    try:
        import brian2 as b2
    except ImportError as e:
        sys.exit(f"cuba.py: cannot import brian2 with {sys.executable} ({e}); "
                 "install it (Debian: apt-get install python3-brian) or run this "
                 "script with the Python that has it")
    b2.set_device("cpp_standalone", build_on_run=False)
    os.makedirs(a.dir, exist_ok=True)
    for n in a.n:
        print(json.dumps(run_one(b2, n, a)), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
