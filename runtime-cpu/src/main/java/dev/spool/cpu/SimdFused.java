package dev.spool.cpu;

import dev.spool.DType;
import dev.spool.spi.FusedElementwise;
import dev.spool.spi.View;

/**
 * A traced function's fused elementwise chain ({@link FusedElementwise}) in one pass: the output
 * is cut into tiles of {@link #TILE} elements, and each step runs over the tile with the same
 * vector loops {@link SimdElementwise} runs for the primitive alone, into a tile-sized temporary
 * that stays in L1, so the chain reads its inputs and writes its output once. Float32 with the
 * Vector API and ops that have a vector loop; anything else takes the SPI's default (each step
 * as its primitive), so results are the primitives' to the bit either way.
 */
final class SimdFused {
    /** Elements per tile: a few KiB per step's temporary. */
    static final int TILE = 2048;

    private SimdFused() {
    }

    /** Whether {@link #run} takes this program. */
    static boolean handles(FusedElementwise p) {
        if (!VectorSupport.ENABLED || p.dtype() != DType.FLOAT32) {
            return false;
        }
        for (FusedElementwise.Step s : p.steps()) {
            if (s.unary() != null ? !SimdElementwise.handlesFloat(s.unary())
                    : !SimdElementwise.handlesFloat(s.binary())) {
                return false;
            }
        }
        return true;
    }

    /** How an input is read within a tile. */
    private record Input(float[] data, long offset, boolean scalar, boolean contiguous, View view) {
    }

    static void run(Parallel par, FusedElementwise p, View[] inputs, CpuBuffer out) {
        float[] r = (float[]) out.data();
        long n = inputs[0].size();
        Input[] in = new Input[inputs.length];
        for (int i = 0; i < in.length; i++) {
            View v = inputs[i];
            boolean scalar = true;
            for (long s : v.strides()) {
                scalar &= s == 0;
            }
            in[i] = new Input((float[]) CpuBuffer.data(v), v.offset(), scalar, v.isContiguous(), v);
        }
        int steps = p.steps().size();
        int operands = in.length + steps;
        par.forRange(n, Parallel.GRAIN, (lo, hi) -> {
            // a piece's scratch, reused by each of its tiles
            float[][] temp = new float[operands][];
            float[][] arr = new float[operands][];
            int[] off = new int[operands];
            int[] stride = new int[operands];
            for (long t0 = lo; t0 < hi; t0 += TILE) {
                int len = (int) Math.min(TILE, hi - t0);
                tile(p, in, r, t0, len, temp, arr, off, stride);
            }
        });
    }

    /** Elements [t0, t0 + len) of the output; {@code arr}, {@code off}, {@code stride}: each operand's tile. */
    private static void tile(FusedElementwise p, Input[] in, float[] r, long t0, int len, float[][] temp,
                             float[][] arr, int[] off, int[] stride) {
        int inputs = in.length;
        int steps = p.steps().size();
        for (int i = 0; i < inputs; i++) {
            Input x = in[i];
            if (x.scalar()) {
                arr[i] = x.data();
                off[i] = (int) x.offset();
                stride[i] = 0;
            } else if (x.contiguous()) {
                arr[i] = x.data();
                off[i] = (int) (x.offset() + t0);
                stride[i] = 1;
            } else {
                float[] g = temp[steps + i] == null ? (temp[steps + i] = new float[TILE]) : temp[steps + i];
                gather(x.view(), x.data(), t0, len, g);
                arr[i] = g;
                off[i] = 0;
                stride[i] = 1;
            }
        }
        for (int j = 0; j < steps; j++) {
            FusedElementwise.Step s = p.steps().get(j);
            float[] dst;
            int pd;
            if (j == steps - 1) {
                dst = r;
                pd = (int) t0;
            } else {
                dst = temp[j] == null ? (temp[j] = new float[TILE]) : temp[j];
                pd = 0;
            }
            int a = s.a();
            if (s.unary() != null) {
                if (stride[a] == 0) { // a broadcast scalar: its tile, once
                    java.util.Arrays.fill(dst, pd, pd + len, arr[a][off[a]]);
                    SimdElementwise.unaryFloat(s.unary(), dst, pd, dst, pd, len);
                } else {
                    SimdElementwise.unaryFloat(s.unary(), arr[a], off[a], dst, pd, len);
                }
            } else {
                int b = s.b();
                if (stride[a] == 0 && stride[b] == 0) {
                    java.util.Arrays.fill(dst, pd, pd + len, arr[a][off[a]]);
                    SimdElementwise.binaryFloat(s.binary(), dst, pd, 1, arr[b], off[b], 0, dst, pd, len);
                } else {
                    SimdElementwise.binaryFloat(s.binary(), arr[a], off[a], stride[a], arr[b], off[b], stride[b],
                            dst, pd, len);
                }
            }
            arr[inputs + j] = dst;
            off[inputs + j] = pd;
            stride[inputs + j] = 1;
        }
    }

    /** Elements [t0, t0 + len) of a strided view (in row-major order of its shape) into {@code g}. */
    private static void gather(View v, float[] data, long t0, int len, float[] g) {
        int[] shape = v.shape();
        long[] strides = v.strides();
        int rank = shape.length;
        int[] idx = new int[rank];
        long rest = t0;
        long pos = v.offset();
        for (int d = rank - 1; d >= 0; d--) {
            idx[d] = (int) (rest % shape[d]);
            rest /= shape[d];
            pos += idx[d] * strides[d];
        }
        int last = rank - 1;
        for (int t = 0; t < len; t++) {
            g[t] = data[(int) pos];
            for (int d = last; d >= 0; d--) { // the odometer
                idx[d]++;
                pos += strides[d];
                if (idx[d] < shape[d]) {
                    break;
                }
                pos -= (long) idx[d] * strides[d];
                idx[d] = 0;
            }
        }
    }
}
