package dev.spool.testing;

import java.util.Arrays;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;

/**
 * Plain-Java references for the forward tests: row-major double arrays with an explicit shape,
 * written for clarity rather than speed (NumPy semantics).
 */
public final class HostRef {
    private HostRef() {
    }

    /** A row-major array and its shape. */
    public record Nd(double[] data, int[] shape) {
        public Nd {
            if (data.length != size(shape)) {
                throw new IllegalArgumentException(data.length + " values for shape " + Arrays.toString(shape));
            }
        }

        public double at(int... index) {
            return data[flat(index, shape)];
        }
    }

    public static int size(int[] shape) {
        int n = 1;
        for (int d : shape) {
            n *= d;
        }
        return n;
    }

    public static int[] strides(int[] shape) {
        int[] s = new int[shape.length];
        int k = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = k;
            k *= shape[i];
        }
        return s;
    }

    public static int[] unravel(int flat, int[] shape) {
        int[] idx = new int[shape.length];
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] > 0) {
                idx[i] = flat % shape[i];
                flat /= shape[i];
            }
        }
        return idx;
    }

    public static int flat(int[] index, int[] shape) {
        int f = 0;
        for (int i = 0; i < shape.length; i++) {
            f = f * shape[i] + index[i];
        }
        return f;
    }

    public static double[] map(double[] x, DoubleUnaryOperator f) {
        return Arrays.stream(x).map(f).toArray();
    }

    /** NumPy's broadcast shape. */
    public static int[] broadcastShape(int[] a, int[] b) {
        int rank = Math.max(a.length, b.length);
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = i < rank - a.length ? 1 : a[i - (rank - a.length)];
            int db = i < rank - b.length ? 1 : b[i - (rank - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("not broadcastable");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** The element of {@code x} (of shape {@code shape}) that broadcasts to {@code outIndex}. */
    private static double broadcastAt(Nd x, int[] outIndex) {
        int lead = outIndex.length - x.shape().length;
        int[] idx = new int[x.shape().length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = x.shape()[i] == 1 ? 0 : outIndex[i + lead];
        }
        return x.at(idx);
    }

    public static Nd zip(Nd a, Nd b, DoubleBinaryOperator f) {
        int[] shape = broadcastShape(a.shape(), b.shape());
        double[] out = new double[size(shape)];
        for (int i = 0; i < out.length; i++) {
            int[] idx = unravel(i, shape);
            out[i] = f.applyAsDouble(broadcastAt(a, idx), broadcastAt(b, idx));
        }
        return new Nd(out, shape);
    }

    public static Nd broadcastTo(Nd a, int[] shape) {
        return zip(a, new Nd(new double[size(shape)], shape), (x, y) -> x);
    }

    /** Reduces {@code axes} (null: all; empty: none, as TF) with {@code f} from {@code init}; kept dims only (no keepDims). */
    public static Nd reduce(Nd x, int[] axes, double init, DoubleBinaryOperator f) {
        int rank = x.shape().length;
        boolean[] reduced = new boolean[rank];
        if (axes == null) {
            Arrays.fill(reduced, true);
            axes = new int[0];
        }
        for (int a : axes) {
            reduced[a < 0 ? a + rank : a] = true;
        }
        int[] outShape = java.util.stream.IntStream.range(0, rank).filter(i -> !reduced[i])
                .map(i -> x.shape()[i]).toArray();
        double[] out = new double[size(outShape)];
        Arrays.fill(out, init);
        for (int i = 0; i < x.data().length; i++) {
            int[] idx = unravel(i, x.shape());
            int[] o = java.util.stream.IntStream.range(0, rank).filter(k -> !reduced[k]).map(k -> idx[k]).toArray();
            int of = flat(o, outShape);
            out[of] = f.applyAsDouble(out[of], x.data()[i]);
        }
        return new Nd(out, outShape);
    }

    /** Output dim i is input dim perm[i]. */
    public static Nd transpose(Nd x, int... perm) {
        int rank = x.shape().length;
        int[] outShape = new int[rank];
        for (int i = 0; i < rank; i++) {
            outShape[i] = x.shape()[perm[i]];
        }
        double[] out = new double[x.data().length];
        for (int i = 0; i < out.length; i++) {
            int[] o = unravel(i, outShape);
            int[] in = new int[rank];
            for (int k = 0; k < rank; k++) {
                in[perm[k]] = o[k];
            }
            out[i] = x.at(in);
        }
        return new Nd(out, outShape);
    }

    /** Swaps the last two dimensions. */
    public static Nd swapLastTwo(Nd x) {
        int rank = x.shape().length;
        int[] perm = java.util.stream.IntStream.range(0, rank).toArray();
        perm[rank - 1] = rank - 2;
        perm[rank - 2] = rank - 1;
        return transpose(x, perm);
    }

    /** Batched matmul with broadcast batch dimensions and optional transposes of the last two dims. */
    public static Nd matmul(Nd a, Nd b, boolean ta, boolean tb) {
        Nd x = ta ? swapLastTwo(a) : a;
        Nd y = tb ? swapLastTwo(b) : b;
        int xr = x.shape().length;
        int yr = y.shape().length;
        int m = x.shape()[xr - 2];
        int k = x.shape()[xr - 1];
        int n = y.shape()[yr - 1];
        int[] batch = broadcastShape(Arrays.copyOf(x.shape(), xr - 2), Arrays.copyOf(y.shape(), yr - 2));
        int[] outShape = Arrays.copyOf(batch, batch.length + 2);
        outShape[batch.length] = m;
        outShape[batch.length + 1] = n;
        double[] out = new double[size(outShape)];
        for (int i = 0; i < out.length; i++) {
            int[] o = unravel(i, outShape);
            double s = 0;
            for (int kk = 0; kk < k; kk++) {
                int[] xi = o.clone();
                xi[xi.length - 1] = kk;
                int[] yi = o.clone();
                yi[yi.length - 2] = kk;
                s += broadcastAt(x, xi) * broadcastAt(y, yi);
            }
            out[i] = s;
        }
        return new Nd(out, outShape);
    }

    /** A Java-array {@code double[]} of {@code n} values from a seeded generator in {@code [lo, hi)}. */
    public static double[] uniform(long seed, int n, double lo, double hi) {
        java.util.Random r = new java.util.Random(seed);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = lo + (hi - lo) * r.nextDouble();
        }
        return out;
    }
}
