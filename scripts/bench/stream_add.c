/*
 * The memory-bandwidth peer of the traced-function chain row (scripts/bench/functions.sh):
 * STREAM's "add", c[i] = a[i] + b[i], on N floats with OpenMP over every core, first-touched in
 * parallel. Prints the best and the median of REPS timed runs in GB/s (3 arrays moved per run:
 * STREAM's byte count, no write-allocate traffic counted).
 *
 *   cc -O3 -march=native -fopenmp stream_add.c -o stream_add && ./stream_add [N] [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 16L << 20;
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    float *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float)), *c = malloc(n * sizeof(float));
    if (!a || !b || !c) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
#pragma omp parallel for
    for (long i = 0; i < n; i++) {
        a[i] = 1.0f + (float)(i % 7);
        b[i] = 2.0f;
        c[i] = 0.0f;
    }
    double *gbs = malloc(reps * sizeof(double));
    for (int r = 0; r < reps; r++) {
        double t0 = now();
#pragma omp parallel for
        for (long i = 0; i < n; i++) {
            c[i] = a[i] + b[i];
        }
        gbs[r] = 3.0 * n * sizeof(float) / (now() - t0) / 1e9;
    }
    double check = 0;
    for (long i = 0; i < n; i += 4096) {
        check += c[i];
    }
    qsort(gbs, reps, sizeof(double), cmp);
    printf("{\"n\": %ld, \"reps\": %d, \"bestGBs\": %.2f, \"medianGBs\": %.2f, \"check\": %.1f}\n", n, reps,
           gbs[reps - 1], gbs[reps / 2], check);
    return 0;
}
