package dev.spool;

import dev.spool.spi.View;
import java.util.Arrays;

/** Matrix products. */
final class LinalgOps {
    private LinalgOps() {
    }

    /**
     * {@code op(a) @ op(b)} where op transposes the last two dimensions when asked. Both operands
     * have rank >= 2; leading (batch) dimensions broadcast. Transposes are strided views, never
     * copies.
     */
    static Tensor matmul(Tensor a, Tensor b, boolean transposeA, boolean transposeB) {
        Device d = Prims.deviceOf("matmul", a, b);
        Prims.requireSameDType("matmul", a, b);
        Prims.requireFloating("matmul", a);
        if (a.rank() < 2 || b.rank() < 2) {
            throw new ShapeException("matmul: operands need rank >= 2, got " + a.shape() + " and " + b.shape());
        }
        View av = lastTwoSwapped(a.spiView(), transposeA);
        View bv = lastTwoSwapped(b.spiView(), transposeB);
        int m = av.shape()[av.rank() - 2];
        int k = av.shape()[av.rank() - 1];
        int k2 = bv.shape()[bv.rank() - 2];
        int n = bv.shape()[bv.rank() - 1];
        if (k != k2) {
            throw new ShapeException("matmul: inner dimensions differ: " + a.shape()
                    + (transposeA ? "ᵀ" : "") + " and " + b.shape() + (transposeB ? "ᵀ" : ""));
        }
        Shape batch = Shape.broadcast("matmul", Shape.of(Arrays.copyOf(av.shape(), av.rank() - 2)),
                Shape.of(Arrays.copyOf(bv.shape(), bv.rank() - 2)));
        int[] outDims = Arrays.copyOf(batch.toArray(), batch.rank() + 2);
        outDims[batch.rank()] = m;
        outDims[batch.rank() + 1] = n;
        Tensor y = Prims.matmul(broadcastBatch(av, batch), broadcastBatch(bv, batch), d, a.dtype(),
                Shape.of(outDims), a, b);
        GradientTape.record("matmul", (g, in, out, needs) -> {
            Tensor x0 = in[0];
            Tensor x1 = in[1];
            Tensor ga = null;
            Tensor gb = null;
            if (!transposeA && !transposeB) {
                ga = needs[0] ? matmul(g, x1, false, true) : null;
                gb = needs[1] ? matmul(x0, g, true, false) : null;
            } else if (transposeA && !transposeB) {
                ga = needs[0] ? matmul(x1, g, false, true) : null;
                gb = needs[1] ? matmul(x0, g, false, false) : null;
            } else if (!transposeA) {
                ga = needs[0] ? matmul(g, x1, false, false) : null;
                gb = needs[1] ? matmul(g, x0, true, false) : null;
            } else {
                ga = needs[0] ? matmul(x1, g, true, true) : null;
                gb = needs[1] ? matmul(g, x0, true, true) : null;
            }
            return new Tensor[] {ga, gb};
        }, y, a, b);
        return y;
    }

    private static View lastTwoSwapped(View v, boolean swap) {
        if (!swap) {
            return v;
        }
        int r = v.rank();
        int[] shape = v.shape().clone();
        long[] strides = v.strides().clone();
        shape[r - 2] = v.shape()[r - 1];
        shape[r - 1] = v.shape()[r - 2];
        strides[r - 2] = v.strides()[r - 1];
        strides[r - 1] = v.strides()[r - 2];
        return new View(v.buffer(), shape, strides, v.offset());
    }

    /** The view with its batch dimensions broadcast to {@code batch} (stride 0 where added). */
    private static View broadcastBatch(View v, Shape batch) {
        int r = v.rank();
        int outRank = batch.rank() + 2;
        int[] shape = new int[outRank];
        long[] strides = new long[outRank];
        int lead = outRank - r;
        for (int i = 0; i < outRank; i++) {
            if (i >= outRank - 2) {
                shape[i] = v.shape()[i - lead];
                strides[i] = v.strides()[i - lead];
            } else {
                shape[i] = batch.dim(i);
                int j = i - lead;
                strides[i] = j < 0 || (v.shape()[j] == 1 && shape[i] != 1) ? 0 : v.strides()[j];
            }
        }
        return new View(v.buffer(), shape, strides, v.offset());
    }
}
