/**
 * JMH benchmarks for the GPU run (scripts/gpu-check.sh): SGEMM, streaming {@code add} and
 * {@code sum} with a bare-JOCL device-to-device copy as their bandwidth reference, one-element
 * dispatch and an MLP training step, each on one OpenCL device (parameter {@code device},
 * default {@code opencl}: the first GPU, else the first OpenCL device) and synchronised at the end
 * of every operation. scripts/bench/torch_gpu.py does the same work in PyTorch on CUDA.
 */
package dev.spool.bench.gpu;
