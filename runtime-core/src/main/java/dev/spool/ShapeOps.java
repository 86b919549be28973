package dev.spool;

import dev.spool.internal.NullChecks;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Shape and indexing ops. Reshape (of a contiguous tensor), transpose, expandDims, squeeze,
 * broadcastTo and slice are views: no copy, the buffer is shared.
 */
final class ShapeOps {
    private ShapeOps() {
    }

    /** Internal: a contiguous tensor seen with another shape of the same size; not recorded. */
    static Tensor viewAs(Tensor x, Shape shape) {
        return Tensor.view(x, shape, shape.rowMajorStridesUnsafe(), x.offset);
    }

    /** Reshape; one dimension may be -1 (inferred). A view when x is contiguous, else a copy. */
    static Tensor reshape(Tensor x, int... dims) {
        NullChecks.nonNull(dims, "reshape", "dims");
        Shape shape = inferShape(x.shape(), dims);
        Tensor y;
        if (x.isContiguous()) {
            y = viewAs(x, shape);
        } else {
            try (Tensor dense = Prims.copy(x, x.dtype())) {
                y = viewAs(dense, shape);
            }
        }
        GradientTape.record("reshape", (g, in, out, needs) -> new Tensor[] {reshape(g, in[0].shape().toArray())},
                y, x);
        return y;
    }

    private static Shape inferShape(Shape from, int[] dims) {
        int infer = -1;
        long known = 1;
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == -1) {
                if (infer >= 0) {
                    throw new ShapeException("reshape: only one dimension may be -1, got " + Arrays.toString(dims));
                }
                infer = i;
            } else if (dims[i] < 0) {
                throw new ShapeException("reshape: negative dimension in " + Arrays.toString(dims));
            } else {
                known *= dims[i];
            }
        }
        int[] out = dims.clone();
        if (infer >= 0) {
            if (known == 0 || from.size() % known != 0) {
                throw new ShapeException("reshape: cannot reshape " + from + " to " + Arrays.toString(dims));
            }
            out[infer] = (int) (from.size() / known);
        }
        Shape s = Shape.of(out);
        if (s.size() != from.size()) {
            throw new ShapeException("reshape: cannot reshape " + from + " (" + from.size() + " elements) to "
                    + s + " (" + s.size() + " elements)");
        }
        return s;
    }

    /** Permutes dimensions: output dim i is input dim {@code perm[i]}. A null perm reverses them (TF's perm=None). */
    static Tensor transpose(Tensor x, int... perm) {
        int rank = x.rank();
        if (perm == null) {
            perm = new int[rank];
            for (int i = 0; i < rank; i++) {
                perm[i] = rank - 1 - i;
            }
        }
        if (perm.length != rank) {
            throw new ShapeException("transpose: permutation " + Arrays.toString(perm) + " for shape " + x.shape());
        }
        int[] p = new int[rank];
        boolean[] seen = new boolean[rank];
        for (int i = 0; i < rank; i++) {
            p[i] = Shape.normalizeAxis(perm[i], rank, "transpose");
            if (seen[p[i]]) {
                throw new ShapeException("transpose: " + Arrays.toString(perm) + " is not a permutation");
            }
            seen[p[i]] = true;
        }
        int[] dims = new int[rank];
        long[] strides = new long[rank];
        int[] inverse = new int[rank];
        for (int i = 0; i < rank; i++) {
            dims[i] = x.shape().dim(p[i]);
            strides[i] = x.strides[p[i]];
            inverse[p[i]] = i;
        }
        Tensor y = Tensor.view(x, Shape.of(dims), strides, x.offset);
        GradientTape.record("transpose", (g, in, out, needs) -> new Tensor[] {transpose(g, inverse)}, y, x);
        return y;
    }

    /** Inserts a dimension of size 1 at {@code axis} (in {@code [-rank-1, rank]}). */
    static Tensor expandDims(Tensor x, int axis) {
        int rank = x.rank();
        int a = Shape.normalizeAxis(axis, rank + 1, "expandDims");
        int[] dims = new int[rank + 1];
        for (int i = 0, j = 0; i <= rank; i++) {
            dims[i] = i == a ? 1 : x.shape().dim(j++);
        }
        return reshape(x, dims);
    }

    /** Removes the given size-1 dimensions, or every size-1 dimension when none (null or empty) are given: TF's rule. */
    static Tensor squeeze(Tensor x, int... axes) {
        int rank = x.rank();
        boolean[] drop = new boolean[rank];
        if (axes == null || axes.length == 0) {
            for (int i = 0; i < rank; i++) {
                drop[i] = x.shape().dim(i) == 1;
            }
        } else {
            for (int axis : axes) {
                int a = Shape.normalizeAxis(axis, rank, "squeeze");
                if (x.shape().dim(a) != 1) {
                    throw new ShapeException("squeeze: axis " + axis + " of shape " + x.shape() + " is not 1");
                }
                drop[a] = true;
            }
        }
        int[] dims = java.util.stream.IntStream.range(0, rank).filter(i -> !drop[i])
                .map(i -> x.shape().dim(i)).toArray();
        return reshape(x, dims);
    }

    /** Broadcasts to {@code dims} (NumPy rules) as a view with stride-0 dimensions. */
    static Tensor broadcastTo(Tensor x, int... dims) {
        NullChecks.nonNull(dims, "broadcastTo", "dims");
        for (int d : dims) {
            if (d < 0) {
                throw new ShapeException("broadcastTo: negative size in " + java.util.Arrays.toString(dims));
            }
        }
        Shape target = Shape.of(dims);
        Shape b = Shape.broadcast("broadcastTo", x.shape(), target);
        if (!b.equals(target)) {
            throw new ShapeException("broadcastTo: cannot broadcast " + x.shape() + " to " + target);
        }
        View v = Prims.broadcastView(x, target);
        Tensor y = Tensor.view(x, target, v.strides(), v.offset());
        GradientTape.record("broadcastTo", (g, in, out, needs) -> new Tensor[] {g}, y, x);
        return y;
    }

    /**
     * The block starting at {@code begin} of extent {@code size} (-1: to the end), as TF's
     * {@code tf.slice}. A view.
     */
    static Tensor slice(Tensor x, int[] begin, int[] size) {
        NullChecks.nonNull(begin, "slice", "begin");
        NullChecks.nonNull(size, "slice", "size");
        int rank = x.rank();
        if (begin.length != rank || size.length != rank) {
            throw new ShapeException("slice: begin " + Arrays.toString(begin) + " and size " + Arrays.toString(size)
                    + " must both have rank " + rank + " for shape " + x.shape());
        }
        int[] dims = new int[rank];
        long offset = x.offset;
        for (int i = 0; i < rank; i++) {
            int n = x.shape().dim(i);
            int s = size[i] == -1 ? n - begin[i] : size[i];
            if (begin[i] < 0 || s < 0 || begin[i] + s > n) {
                throw new ShapeException("slice: begin " + Arrays.toString(begin) + " size " + Arrays.toString(size)
                        + " is out of bounds for shape " + x.shape());
            }
            dims[i] = s;
            offset += (long) begin[i] * x.strides[i];
        }
        int[] from = begin.clone();
        Tensor y = Tensor.view(x, Shape.of(dims), x.strides, offset);
        GradientTape.record("slice", (g, in, out, needs) -> new Tensor[] {padInto(g, in[0].shape(), from)}, y, x);
        return y;
    }

    /** The adjoint of slice: zeros of {@code shape} with {@code x} written at {@code begin}. */
    static Tensor padInto(Tensor x, Shape shape, int[] begin) {
        Tensor out = Creation.zeros(x.device(), shape, x.dtype());
        if (x.size() > 0) {
            Prims.copyInto(x.spiView(), sliceView(out, begin, x.shape()), x.device(), x);
        }
        int[] sizes = x.shape().toArray();
        GradientTape.record("padInto", (g, in, y, needs) -> new Tensor[] {slice(g, begin, sizes)}, out, x);
        return out;
    }

    private static View sliceView(Tensor t, int[] begin, Shape size) {
        long offset = t.offset;
        for (int i = 0; i < begin.length; i++) {
            offset += (long) begin[i] * t.strides[i];
        }
        return new View(t.storage.buffer, size.toArray(), t.strides, offset);
    }

    /** Joins tensors along an existing axis. */
    static Tensor concat(List<Tensor> parts, int axis) {
        if (parts.isEmpty()) {
            throw new ShapeException("concat: no tensors");
        }
        Tensor first = parts.get(0);
        Device d = Prims.deviceOf("concat", parts.toArray(new Tensor[0]));
        int rank = first.rank();
        if (rank == 0) {
            throw new ShapeException("concat: scalars cannot be concatenated; use stack");
        }
        int a = Shape.normalizeAxis(axis, rank, "concat");
        int total = 0;
        for (Tensor t : parts) {
            Prims.requireSameDType("concat", first, t);
            if (t.rank() != rank) {
                throw new ShapeException("concat: shapes " + first.shape() + " and " + t.shape() + " differ in rank");
            }
            for (int i = 0; i < rank; i++) {
                if (i != a && t.shape().dim(i) != first.shape().dim(i)) {
                    throw new ShapeException("concat: shapes " + first.shape() + " and " + t.shape()
                            + " differ outside axis " + axis);
                }
            }
            total += t.shape().dim(a);
        }
        Shape outShape = first.shape().withDim(a, total);
        Tensor out = Prims.empty(d, first.dtype(), outShape);
        int[] begin = new int[rank];
        int[][] begins = new int[parts.size()][];
        try {
            for (int k = 0; k < parts.size(); k++) {
                Tensor t = parts.get(k);
                begins[k] = begin.clone();
                if (t.size() > 0) {
                    Prims.copyInto(t.spiView(), sliceView(out, begin, t.shape()), d, t);
                }
                begin[a] += t.shape().dim(a);
            }
        } catch (RuntimeException | Error e) {
            out.close(); // a part failed to copy: the half-written result is never seen
            throw e;
        }
        GradientTape.record("concat", (g, in, y, needs) -> {
            Tensor[] grads = new Tensor[in.length];
            for (int k = 0; k < in.length; k++) {
                grads[k] = needs[k] ? slice(g, begins[k], in[k].shape().toArray()) : null;
            }
            return grads;
        }, out, parts.toArray(new Tensor[0]));
        return out;
    }

    /** Stacks equally shaped tensors along a new axis. Composite: expandDims + concat. */
    static Tensor stack(List<Tensor> parts, int axis) {
        if (parts.isEmpty()) {
            throw new ShapeException("stack: no tensors");
        }
        for (Tensor t : parts) {
            if (!t.shape().equals(parts.get(0).shape())) {
                throw new ShapeException("stack: shapes " + parts.get(0).shape() + " and " + t.shape() + " differ");
            }
        }
        int a = Shape.normalizeAxis(axis, parts.get(0).rank() + 1, "stack");
        List<Tensor> expanded = new ArrayList<>(parts.size());
        for (Tensor t : parts) {
            expanded.add(expandDims(t, a));
        }
        return concat(expanded, a);
    }

    /** Repeats x {@code multiples[i]} times along dimension i. Composite: reshape, broadcast, reshape. */
    static Tensor tile(Tensor x, int... multiples) {
        NullChecks.nonNull(multiples, "tile", "multiples");
        int rank = x.rank();
        if (multiples.length != rank) {
            throw new ShapeException("tile: " + multiples.length + " multiples for shape " + x.shape());
        }
        int[] interleaved = new int[2 * rank];
        int[] broadcast = new int[2 * rank];
        int[] result = new int[rank];
        for (int i = 0; i < rank; i++) {
            if (multiples[i] < 0) {
                throw new ShapeException("tile: negative multiple in " + Arrays.toString(multiples));
            }
            interleaved[2 * i] = 1;
            interleaved[2 * i + 1] = x.shape().dim(i);
            broadcast[2 * i] = multiples[i];
            broadcast[2 * i + 1] = x.shape().dim(i);
            result[i] = multiples[i] * x.shape().dim(i);
        }
        return reshape(broadcastTo(reshape(x, interleaved), broadcast), result);
    }

    /**
     * {@code params} indexed along {@code axis} by int32/int64 {@code indices} of any shape, as
     * {@code tf.gather}: the result's shape is params.shape[:axis] + indices.shape +
     * params.shape[axis+1:]. Out-of-range indices give zeros (TF's GPU behaviour), unless checked
     * indices are on ({@link Spool#enableCheckIndices()}): then the first one throws
     * {@link IndexOutOfRangeException} with its position (TF's CPU behaviour).
     */
    static Tensor gather(Tensor params, Tensor indices, int axis) {
        requireIndices("gather", indices);
        int a = Shape.normalizeAxis(axis, params.rank(), "gather");
        int[] p = params.shape().toArray();
        if (CheckNumerics.indices) {
            CheckNumerics.checkIndices("gather", "indices", indices, p[a]);
        }
        int outer = 1;
        for (int i = 0; i < a; i++) {
            outer *= p[i];
        }
        int inner = 1;
        for (int i = a + 1; i < p.length; i++) {
            inner *= p[i];
        }
        int n = Math.toIntExact(indices.size());
        Tensor g3 = gather3(reshape(params, outer, p[a], inner), reshape(indices, n));
        int[] outDims = new int[p.length - 1 + indices.rank()];
        System.arraycopy(p, 0, outDims, 0, a);
        System.arraycopy(indices.shape().toArray(), 0, outDims, a, indices.rank());
        System.arraycopy(p, a + 1, outDims, a + indices.rank(), p.length - a - 1);
        return reshape(g3, outDims);
    }

    private static void requireIndices(String op, Tensor indices) {
        if (!indices.dtype().isInteger()) {
            throw new DTypeException(op + ": indices must be int32 or int64, got " + indices.dtype());
        }
    }

    /** Rank-3 gather {@code [outer, axis, inner]} x {@code [n]} -> {@code [outer, n, inner]}; VJP: scatterAdd3. */
    private static Tensor gather3(Tensor params3, Tensor indices1) {
        int axisSize = params3.shape().dim(1);
        Shape outShape = Shape.of(params3.shape().dim(0), indices1.shape().dim(0), params3.shape().dim(2));
        Tensor y = Prims.gather(params3, indices1, outShape);
        GradientTape.record("gather", (g, in, out, needs) -> new Tensor[] {scatterAdd3(g, in[1], axisSize), null},
                y, params3, indices1);
        return y;
    }

    /** Rank-3 scatter-add {@code [outer, n, inner]} -> {@code [outer, axisSize, inner]}; VJP: gather3. */
    private static Tensor scatterAdd3(Tensor updates3, Tensor indices1, int axisSize) {
        Prims.requireNumeric("scatterAdd", updates3);
        if (CheckNumerics.indices) {
            CheckNumerics.checkIndices("scatterAdd", "indices", indices1, axisSize);
        }
        Shape outShape = Shape.of(updates3.shape().dim(0), axisSize, updates3.shape().dim(2));
        Tensor y = Prims.scatterAdd(updates3, indices1, outShape);
        GradientTape.record("scatterAdd", (g, in, out, needs) -> new Tensor[] {gather3(g, in[1]), null},
                y, updates3, indices1);
        return y;
    }

    /**
     * One-hot encoding: a new last axis of size {@code depth} holding {@code on} at each index and
     * {@code off} elsewhere (an out-of-range index gives a row of {@code off}, or throws when checked
     * indices are on).
     */
    static Tensor oneHot(Tensor indices, int depth, double on, double off, DType dtype) {
        NullChecks.nonNull(dtype, "oneHot", "dtype");
        requireIndices("oneHot", indices);
        if (depth < 0) {
            throw new ShapeException("oneHot: depth must be non-negative, got " + depth);
        }
        if (CheckNumerics.indices) {
            CheckNumerics.checkIndices("oneHot", "indices", indices, depth);
        }
        Device d = indices.device();
        try (TensorScope scope = new TensorScope()) {
            Tensor positions = Creation.range(d, 0, depth, 1, indices.dtype());
            Tensor hit = ElementwiseOps.equal(expandDims(indices, -1), positions);
            return scope.keep(ElementwiseOps.where(hit, Creation.scalar(d, dtype, on), Creation.scalar(d, dtype, off)));
        }
    }
}
