/*
 * sweep_loop.c: the plateau sweep as a plain compiled loop, the benchmark's native reference.
 *
 * Same work as xent_jax.sweep with SGD and the true gradient: from every start (w0[i], b0[j])
 * of an R x R grid, E updates of (w, b) along (x*g, g) with g = dC/dz, and the two metrics
 * with the library's definitions (g_t, a_t at theta_t after t updates):
 *   takeoff    = min t in [0, E-1] with |grad_{t+1}| < |grad_t|   (-1: censored)
 *   half-error = min t in [1, E]   with |a_t - y| <= |a_0 - y| / 2 (-1: censored)
 *   mse: g = (a - y) a (1 - a);  ce: g = a - y.
 * Epochs run innermost over a block of starts so their state stays in L1; blocks are shared
 * among threads when OpenMP is on.
 *
 * Build: cc -O3 -march=native [-fopenmp] sweep_loop.c -o sweep_loop -lm
 * Run:   ./sweep_loop mse|ce R E ETA X Y WLO WHI BLO BHI OUT.bin
 * Out:   int32 takeoff[R*R], int32 half[R*R] (index j*R + i); prints seconds of compute.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BLOCK 512

int main(int argc, char **argv) {
    if (argc != 12) {
        fprintf(stderr, "usage: %s mse|ce R E ETA X Y WLO WHI BLO BHI OUT.bin\n", argv[0]);
        return 2;
    }
    const int mse = strcmp(argv[1], "mse") == 0;
    const long R = atol(argv[2]);
    const int E = atoi(argv[3]);
    const float eta = strtof(argv[4], NULL), x = strtof(argv[5], NULL), y = strtof(argv[6], NULL);
    const double wlo = atof(argv[7]), whi = atof(argv[8]), blo = atof(argv[9]), bhi = atof(argv[10]);
    const long M = R * R;
    int *takeoff = malloc(M * sizeof(int)), *half = malloc(M * sizeof(int));
    if (R < 2 || E < 1 || !takeoff || !half) return 2;

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
#pragma omp parallel for schedule(dynamic)
    for (long start = 0; start < M; start += BLOCK) {
        const int n = (int)(start + BLOCK < M ? BLOCK : M - start);
        float w[BLOCK], b[BLOCK], g[BLOCK], norm[BLOCK], err0[BLOCK];
        int tk[BLOCK], hf[BLOCK];
        for (int k = 0; k < n; k++) {
            const long p = start + k;
            /* the grid as numpy.linspace builds it, in double, then rounded to float */
            w[k] = (float)(wlo + (whi - wlo) * (double)(p % R) / (double)(R - 1));
            b[k] = (float)(blo + (bhi - blo) * (double)(p / R) / (double)(R - 1));
            const float a = 1.f / (1.f + expf(-(w[k] * x + b[k])));
            g[k] = mse ? (a - y) * a * (1.f - a) : a - y;
            norm[k] = (x * g[k]) * (x * g[k]) + g[k] * g[k];
            err0[k] = fabsf(a - y);
            tk[k] = hf[k] = -1;
        }
        for (int t = 1; t <= E; t++) {
#pragma omp simd
            for (int k = 0; k < n; k++) {
                w[k] -= eta * (x * g[k]);  /* theta_t = theta_{t-1} - eta * grad_{t-1} */
                b[k] -= eta * g[k];
                const float a = 1.f / (1.f + expf(-(w[k] * x + b[k])));
                g[k] = mse ? (a - y) * a * (1.f - a) : a - y;
                const float nrm = (x * g[k]) * (x * g[k]) + g[k] * g[k];
                tk[k] = (tk[k] < 0 && nrm < norm[k]) ? t - 1 : tk[k];
                hf[k] = (hf[k] < 0 && fabsf(a - y) <= 0.5f * err0[k]) ? t : hf[k];
                norm[k] = nrm;
            }
        }
        memcpy(takeoff + start, tk, n * sizeof(int));
        memcpy(half + start, hf, n * sizeof(int));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    FILE *f = fopen(argv[11], "wb");
    if (!f || fwrite(takeoff, sizeof(int), M, f) != (size_t)M || fwrite(half, sizeof(int), M, f) != (size_t)M)
        return 1;
    fclose(f);
    printf("%.6f\n", (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec));
    return 0;
}
