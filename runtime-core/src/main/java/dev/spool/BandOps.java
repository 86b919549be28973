package dev.spool;

import java.util.List;

/**
 * {@code tf.linalg.band_part}, and the index vectors it is made of, built on the device: no host
 * array of the matrix's size is ever written (a causal mask of T x T needs none).
 */
final class BandOps {
    private BandOps() {
    }

    /**
     * {@code 0, 1, ..., n-1} as int32 [n], made on {@code device} by doubling,
     * {@code r ← concat(r, r + len)}: ⌈log₂ n⌉ concats and adds of at most n elements, and a
     * scalar per step, instead of an n-element host array.
     */
    static Tensor iota(Device device, int n) {
        if (n < 0) {
            throw new ShapeException("iota: n must be >= 0, got " + n);
        }
        Tensor r = Creation.zeros(device, Shape.of(Math.min(n, 1)), DType.INT32);
        for (int len = 1; len < n; len *= 2) {
            r = ShapeOps.concat(List.of(r, ElementwiseOps.add(r, Creation.scalar(device, DType.INT32, len))), 0);
        }
        return r.shape().dim(0) == n ? r : ShapeOps.slice(r, new int[] {0}, new int[] {n});
    }

    /**
     * bool [rows, cols]: true where {@code -numLower <= j - i <= numUpper}, a negative bound
     * meaning no bound on that side (TF's convention). {@code bandMask(T, T, -1, 0)} is the causal
     * mask, true where key j <= query i.
     */
    static Tensor bandMask(Device device, int rows, int cols, long numLower, long numUpper) {
        Tensor i = ShapeOps.reshape(iota(device, rows), rows, 1);
        Tensor j = ShapeOps.reshape(iota(device, cols), 1, cols);
        Tensor d = ElementwiseOps.sub(j, i); // [rows, cols]: j - i
        int lo = numLower < 0 ? Integer.MIN_VALUE : (int) -Math.min(numLower, Integer.MAX_VALUE);
        int hi = numUpper < 0 ? Integer.MAX_VALUE : (int) Math.min(numUpper, Integer.MAX_VALUE);
        // d == clamp(d, lo, hi) exactly when lo <= d <= hi
        Tensor clamped = ElementwiseOps.minimum(ElementwiseOps.maximum(d, Creation.scalar(device, DType.INT32, lo)),
                Creation.scalar(device, DType.INT32, hi));
        return ElementwiseOps.equal(clamped, d);
    }

    /**
     * {@code tf.linalg.band_part(x, numLower, numUpper)}: x (rank >= 2) with every element of its
     * last two axes outside the band set to zero; each matrix of a batch alike. The gradient passes
     * inside the band only (the where's).
     */
    static Tensor bandPart(Tensor x, long numLower, long numUpper) {
        if (x.rank() < 2) {
            throw new ShapeException("bandPart: x must have rank >= 2 ([..., M, N]), got " + x.shape());
        }
        Tensor mask = bandMask(x.device(), x.shape().dim(-2), x.shape().dim(-1), numLower, numUpper);
        return ElementwiseOps.where(mask, x, Creation.zeros(x.device(), Shape.of(), x.dtype()));
    }
}
