/* Build and run (one thread, scalar branch-free variant 1 = what Go can reach; the
 * same file without -DNOSIMD -fno-tree-vectorize is the machine's SIMD limit):
 *   gcc -O3 -march=native -fopenmp -DNOSIMD -fno-tree-vectorize -o lif_scalar lif_kernel.c -lm
 *   OMP_NUM_THREADS=1 ./lif_scalar 1 100000 10000 3     # prints one JSON line per repeat
 */
/* Hand-written C "speed of light" for LIF100k: NEST iaf_psc_delta semantics
 * (exact propagator, V relative to E_L, refractory counter, V >= V_th),
 * state as structure of arrays (double V, int32 refractory counter),
 * spikes appended to a per-thread buffer (index, step).  Same parameters
 * and initial ramp as examples/lif100k.yaml; "spikeloop bench engine
 * --c-kernel BINARY" runs it beside the Go engine as LIF100k's anchor.
 *
 * usage: lif_kernel VARIANT N STEPS REPEATS   (threads from OMP_NUM_THREADS)
 *   VARIANT 0 = branchy scalar loop, as NEST / a naive port writes it
 *   VARIANT 1 = branch-free update (auto-vectorised by gcc) over blocks of
 *               1024 neurons, then a scan of a block only if it spiked
 * Built with -DNOSIMD -fno-tree-vectorize, variant 1 stays scalar: the code
 * a compiler without auto-vectorisation (such as Go's) would produce.
 * One barrier per time step (an engine with synapses needs it).
 * Prints one JSON line per repeat. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <omp.h>

#define BLK 1024

int main(int argc, char **argv) {
    int variant = argc > 1 ? atoi(argv[1]) : 1;
    long n = argc > 2 ? atol(argv[2]) : 100000;
    long steps = argc > 3 ? atol(argv[3]) : 10000;
    int reps = argc > 4 ? atoi(argv[4]) : 5;
    const double h = 0.1, tau = 10.0, C = 250.0, E_L = -70.0, V_th = -55.0,
                 V_reset = -70.0, t_ref = 2.0, I_e = 376.0;
    const double P33 = exp(-h / tau), P30 = -tau / C * expm1(-h / tau);
    const double c0 = P30 * I_e, th = V_th - E_L, vr = V_reset - E_L;
    const int32_t refc = (int32_t)lround(t_ref / h);
    double *y = aligned_alloc(64, ((n * 8 + 63) / 64) * 64);
    int32_t *r = aligned_alloc(64, ((n * 4 + 63) / 64) * 64);
    int nth = omp_get_max_threads();
    long cap = 1 << 22;
    int32_t **sbuf = malloc(sizeof(int32_t *) * nth);
    for (int k = 0; k < nth; k++) sbuf[k] = malloc(sizeof(int32_t) * cap);

    for (int rep = 0; rep < reps; rep++) {
        long total = 0;
        double t0 = 0, t1 = 0;
        clock_t ck0 = 0, ck1 = 0;
#pragma omp parallel reduction(+ : total)
        {
            int tid = omp_get_thread_num();
            int32_t *buf = sbuf[tid];
            long nbuf = 0;
#pragma omp for schedule(static)
            for (long i = 0; i < n; i++) {  /* first touch by the owning thread */
                y[i] = (E_L + (V_th - E_L) * (double)i / (double)n) - E_L;
                r[i] = 0;
            }
#pragma omp barrier
#pragma omp master
            { t0 = omp_get_wtime(); ck0 = clock(); }
#pragma omp barrier
            for (long s = 0; s < steps; s++) {
                if (variant == 0) {
#pragma omp for schedule(static)
                    for (long i = 0; i < n; i++) {
                        if (r[i] == 0) y[i] = c0 + P33 * y[i];
                        else --r[i];
                        if (y[i] >= th) {
                            r[i] = refc; y[i] = vr;
                            buf[nbuf++] = (int32_t)i;
                            if (nbuf == cap) { total += nbuf; nbuf = 0; }
                        }
                    }
                } else {
#pragma omp for schedule(static)
                    for (long b0 = 0; b0 < n; b0 += BLK) {
                        long b1 = b0 + BLK < n ? b0 + BLK : n;
                        int any = 0;
#ifndef NOSIMD
#pragma omp simd reduction(| : any)
#endif
                        for (long i = b0; i < b1; i++) {
                            double v = y[i];
                            int32_t ri = r[i];
                            double vn = c0 + P33 * v;
                            v = ri == 0 ? vn : v;
                            ri = ri == 0 ? 0 : ri - 1;
                            int sp = v >= th;
                            y[i] = sp ? vr : v;
                            r[i] = sp ? refc : ri;
                            any |= sp;
                        }
                        if (any) {
                            for (long i = b0; i < b1; i++)
                                if (r[i] == refc) {   /* just reset this step */
                                    buf[nbuf++] = (int32_t)i;
                                    if (nbuf == cap) { total += nbuf; nbuf = 0; }
                                }
                        }
                    }
                }
                /* implicit barrier at the end of each omp for = one step */
            }
#pragma omp barrier
#pragma omp master
            { t1 = omp_get_wtime(); ck1 = clock(); }
            total += nbuf;
        }
        double dt = t1 - t0;
#ifdef NOSIMD
        const int simd = 0;
#else
        const int simd = 1;
#endif
        printf("{\"kernel\":\"lif_c\",\"simd\":%d,\"variant\":%d,\"threads\":%d,\"N\":%ld,\"steps\":%ld,"
               "\"loop_s\":%.6f,\"cpu_s\":%.6f,\"spikes\":%ld,\"updates_per_s\":%.4g,\"ns_per_update\":%.4f}\n",
               simd, variant, nth, n, steps, dt, (double)(ck1 - ck0) / CLOCKS_PER_SEC, total, (double)n * steps / dt, dt * 1e9 / ((double)n * steps));
        fflush(stdout);
    }
    return 0;
}
