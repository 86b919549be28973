package dev.spool.cpu;


import dev.spool.spi.BinaryOp;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;

/**
 * Elementwise drivers: each walks its operands with a {@link StridedLoop}, split across threads,
 * and hands every segment to the operands' {@link Lane}. Written once for all dtypes. With the
 * Vector API, {@link SimdElementwise} takes float32/float64 first (contiguous and scalar
 * operands, and float32 math at any layout); what it declines runs here.
 */
final class Elementwise {
    private Elementwise() {
    }

    static void unary(Parallel par, UnaryOp op, View x, CpuBuffer out) {
        if (VectorSupport.ENABLED && SimdElementwise.unary(par, op, x, out)) {
            return;
        }
        Object src = CpuBuffer.data(x);
        Object dst = out.data();
        Lane lane = Lane.of(x.dtype());
        StridedLoop loop = new StridedLoop(x.shape(), new long[] {x.offset(), 0},
                x.strides(), View.rowMajorStrides(x.shape()));
        int sx = loop.innerStride(0);
        int so = loop.innerStride(1);
        par.forRange(loop.size(), Parallel.GRAIN, (lo, hi) -> {
            Object v = lane.scratch(loop.chunk());
            loop.forEach(lo, hi, (p, n) -> {
                lane.load(src, p[0], sx, n, v);
                lane.unary(op, v, v, n);
                lane.store(v, n, dst, p[1], so);
            });
        });
    }

    static void binary(Parallel par, BinaryOp op, View a, View b, CpuBuffer out) {
        if (VectorSupport.ENABLED && SimdElementwise.binary(par, op, a, b, out)) {
            return;
        }
        Object srcA = CpuBuffer.data(a);
        Object srcB = CpuBuffer.data(b);
        Object dst = out.data();
        Lane lane = Lane.of(a.dtype());
        StridedLoop loop = new StridedLoop(a.shape(), new long[] {a.offset(), b.offset(), 0},
                a.strides(), b.strides(), View.rowMajorStrides(a.shape()));
        int sa = loop.innerStride(0);
        int sb = loop.innerStride(1);
        int so = loop.innerStride(2);
        boolean compare = op.isComparison();
        if (dst instanceof float[] r && sa == 1 && sb == 1 && so == 1 && Float32Direct.handles(op)) {
            float[] x = (float[]) srcA;
            float[] y = (float[]) srcB;
            par.forRange(loop.size(), Parallel.GRAIN, (lo, hi) ->
                    loop.forEach(lo, hi, (p, n) -> Float32Direct.binary(op, x, p[0], y, p[1], r, p[2], n)));
            return;
        }
        par.forRange(loop.size(), Parallel.GRAIN, (lo, hi) -> {
            Object x = lane.scratch(loop.chunk());
            Object y = lane.scratch(loop.chunk());
            long[] flags = compare ? new long[loop.chunk()] : null;
            loop.forEach(lo, hi, (p, n) -> {
                lane.load(srcA, p[0], sa, n, x);
                lane.load(srcB, p[1], sb, n, y);
                if (compare) {
                    lane.compare(op, x, y, flags, n);
                    LongLane.INSTANCE.store(flags, n, dst, p[2], so);
                } else {
                    lane.binary(op, x, y, x, n);
                    lane.store(x, n, dst, p[2], so);
                }
            });
        });
    }

    static void select(Parallel par, View cond, View a, View b, CpuBuffer out) {
        if (VectorSupport.ENABLED && SimdElementwise.select(par, cond, a, b, out)) {
            return;
        }
        Object srcC = CpuBuffer.data(cond);
        Object srcA = CpuBuffer.data(a);
        Object srcB = CpuBuffer.data(b);
        Object dst = out.data();
        Lane lane = Lane.of(a.dtype());
        StridedLoop loop = new StridedLoop(a.shape(),
                new long[] {cond.offset(), a.offset(), b.offset(), 0},
                cond.strides(), a.strides(), b.strides(), View.rowMajorStrides(a.shape()));
        int sc = loop.innerStride(0);
        int sa = loop.innerStride(1);
        int sb = loop.innerStride(2);
        int so = loop.innerStride(3);
        par.forRange(loop.size(), Parallel.GRAIN, (lo, hi) -> {
            long[] c = new long[loop.chunk()];
            Object x = lane.scratch(loop.chunk());
            Object y = lane.scratch(loop.chunk());
            loop.forEach(lo, hi, (p, n) -> {
                LongLane.INSTANCE.load(srcC, p[0], sc, n, c);
                lane.load(srcA, p[1], sa, n, x);
                lane.load(srcB, p[2], sb, n, y);
                lane.select(c, x, y, x, n);
                lane.store(x, n, dst, p[3], so);
            });
        });
    }

    /**
     * Copies the strided elements of {@code src} into the strided elements of {@code dst} (both
     * of {@code shape}), converting between the arrays' element types. Used for copy/cast, for
     * reads into host arrays and for packing matmul operands.
     */
    static void copy(Parallel par, int[] shape, Object src, long srcOffset, long[] srcStrides,
                     Object dst, long dstOffset, long[] dstStrides) {
        StridedLoop loop = new StridedLoop(shape, new long[] {srcOffset, dstOffset},
                srcStrides, dstStrides);
        Lane lane = Lane.ofArray(src);
        int ss = loop.innerStride(0);
        int sd = loop.innerStride(1);
        boolean direct = ss == 1 && sd == 1 && src.getClass() == dst.getClass();
        par.forRange(loop.size(), Parallel.GRAIN, (lo, hi) -> {
            Object v = direct ? null : lane.scratch(loop.chunk());
            loop.forEach(lo, hi, (p, n) -> {
                if (direct) {
                    System.arraycopy(src, p[0], dst, p[1], n);
                } else {
                    lane.load(src, p[0], ss, n, v);
                    lane.store(v, n, dst, p[1], sd);
                }
            });
        });
    }
}
