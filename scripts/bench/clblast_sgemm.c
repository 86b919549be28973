/*
 * The reference point for Spool's OpenCL matmul: CLBlast's tuned SGEMM on the same device and
 * size, timed the way the first benchmarks of Spool were (2 warm-up runs, median of 7, each run
 * waited for with clFinish). Run through scripts/bench/clblast-sgemm.sh.
 *
 * usage: clblast_sgemm [N] [device index]   (N x N x N, row-major, default 512 and 0)
 */
#define CL_TARGET_OPENCL_VERSION 120
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RUNS 7

static void check(cl_int err, const char *what) {
    if (err != CL_SUCCESS) {
        fprintf(stderr, "%s failed: %d\n", what, (int)err);
        exit(1);
    }
}

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 512;
    cl_uint want = argc > 2 ? (cl_uint)atoi(argv[2]) : 0;

    /* the want-th device over all platforms, in platform order: Spool's opencl:N numbering */
    cl_platform_id platforms[16];
    cl_uint np = 0;
    check(clGetPlatformIDs(16, platforms, &np), "clGetPlatformIDs");
    cl_device_id device = NULL;
    cl_uint seen = 0;
    for (cl_uint p = 0; p < np && device == NULL; p++) {
        cl_device_id ids[16];
        cl_uint nd = 0;
        if (clGetDeviceIDs(platforms[p], CL_DEVICE_TYPE_ALL, 16, ids, &nd) != CL_SUCCESS) {
            continue;
        }
        if (want < seen + nd) {
            device = ids[want - seen];
        }
        seen += nd;
    }
    if (device == NULL) {
        fprintf(stderr, "no OpenCL device %u\n", want);
        return 1;
    }
    char name[256];
    check(clGetDeviceInfo(device, CL_DEVICE_NAME, sizeof name, name, NULL), "clGetDeviceInfo");

    cl_int err;
    cl_context context = clCreateContext(NULL, 1, &device, NULL, NULL, &err);
    check(err, "clCreateContext");
    cl_command_queue queue = clCreateCommandQueue(context, device, 0, &err);
    check(err, "clCreateCommandQueue");

    size_t bytes = n * n * sizeof(float);
    float *host = malloc(bytes);
    for (size_t i = 0; i < n * n; i++) {
        host[i] = (float)(i % 7) * 0.25f;
    }
    cl_mem a = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, host, &err);
    check(err, "clCreateBuffer a");
    cl_mem b = clCreateBuffer(context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes, host, &err);
    check(err, "clCreateBuffer b");
    cl_mem c = clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, NULL, &err);
    check(err, "clCreateBuffer c");

    double t[RUNS];
    for (int r = -2; r < RUNS; r++) { /* two warm-up runs: kernel compilation, caches */
        double t0 = now_ms();
        CLBlastStatusCode s = CLBlastSgemm(CLBlastLayoutRowMajor, CLBlastTransposeNo, CLBlastTransposeNo,
                                           n, n, n, 1.0f, a, 0, n, b, 0, n, 0.0f, c, 0, n, &queue, NULL);
        if (s != CLBlastSuccess) {
            fprintf(stderr, "CLBlastSgemm failed: %d\n", (int)s);
            return 1;
        }
        check(clFinish(queue), "clFinish");
        if (r >= 0) {
            t[r] = now_ms() - t0;
        }
    }
    qsort(t, RUNS, sizeof t[0], compare);
    double ms = t[RUNS / 2];
    printf("clblast      sgemm %zux%zux%zu on %s: median %.3f ms, %.2f GFLOP/s\n", n, n, n, name, ms,
           2.0 * n * n * n / ms / 1e6);

    clReleaseMemObject(a);
    clReleaseMemObject(b);
    clReleaseMemObject(c);
    clReleaseCommandQueue(queue);
    clReleaseContext(context);
    free(host);
    return 0;
}
