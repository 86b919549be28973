package dev.spool;

import dev.spool.internal.NullChecks;
import dev.spool.spi.Backend;
import dev.spool.spi.Conv2dGeometry;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;

/**
 * Convolutions and pooling over channels-last (NHWC) images with HWIO filters, TensorFlow's ops
 * and semantics: {@code tf.nn.conv2d} (grouped when the filter has fewer input channels than x),
 * {@code depthwise_conv2d}, {@code conv2d_transpose}, {@code max_pool2d}, {@code avg_pool2d}.
 *
 * <p>Each op is one backend primitive, and each primitive's VJP is another primitive of the same
 * group ({@link Backend#conv2d} ⇄ {@link Backend#conv2dBackpropInput} ⇄
 * {@link Backend#conv2dBackpropFilter}; {@link Backend#avgPool2d} ⇄ {@link Backend#avgPool2dGrad};
 * {@link Backend#maxPool2d} ⇄ {@link Backend#maxPool2dGrad}), recorded like any op, so gradients
 * of gradients work through them.
 *
 * <p>Max pooling's gradient goes, as TensorFlow's, to one cell of each window: the first maximal
 * cell in row-major window order (a NaN counts as the maximum), not split among ties as
 * {@code reduceMax}'s is.
 */
final class ConvOps {
    private ConvOps() {
    }

    // ---- public ops ------------------------------------------------------------------------

    /**
     * {@code tf.nn.conv2d}: x {@code [batch, height, width, inChannels]}, filters {@code
     * [kh, kw, inChannels / groups, outChannels]}; groups is {@code inChannels / filters.dim(2)}.
     */
    static Tensor conv2d(Tensor x, Tensor filters, int[] strides, Padding padding, int[] dilations) {
        String op = "conv2d";
        checkImageAndFilter(op, x, filters);
        int c = x.shape().dim(3);
        int fin = filters.shape().dim(2);
        int out = filters.shape().dim(3);
        if (!(c == 0 && fin == 0) && (fin == 0 || c % fin != 0)) {
            throw new ShapeException(op + ": x has " + c + " channels, which the filter's " + fin
                    + " input channels (dim 2 of filter shape " + filters.shape() + ") must divide");
        }
        int groups = fin == 0 ? 1 : c / fin;
        if (out % groups != 0) {
            throw new ShapeException(op + ": " + groups + " channel groups (x has " + c + " channels, the filter "
                    + fin + " per group) must divide the filter's " + out + " output channels");
        }
        Conv2dGeometry g = geometry(op, x.shape(), filters.shape().dim(0), filters.shape().dim(1), out, groups,
                strides, padding, dilations);
        return conv(x, filters, g);
    }

    /**
     * {@code tf.nn.depthwise_conv2d}: filter {@code [kh, kw, inChannels, multiplier]}; output
     * channel {@code c * multiplier + m} is channel c convolved with filter[:, :, c, m].
     */
    static Tensor depthwiseConv2d(Tensor x, Tensor filter, int[] strides, Padding padding, int[] dilations) {
        String op = "depthwiseConv2d";
        checkImageAndFilter(op, x, filter);
        int c = x.shape().dim(3);
        if (filter.shape().dim(2) != c) {
            throw new ShapeException(op + ": the filter's input channels (dim 2 of " + filter.shape()
                    + ") must equal x's " + c + " channels (x shape " + x.shape() + ")");
        }
        int multiplier = filter.shape().dim(3);
        Conv2dGeometry g = geometry(op, x.shape(), filter.shape().dim(0), filter.shape().dim(1), c * multiplier,
                Math.max(c, 1), strides, padding, dilations);
        // [kh, kw, C, M] is the grouped filter [kh, kw, 1, C*M] in the same memory order
        Tensor grouped = ShapeOps.reshape(filter, filter.shape().dim(0), filter.shape().dim(1), 1, c * multiplier);
        return conv(x, grouped, g);
    }

    /**
     * {@code tf.nn.conv2d_transpose}: the gradient of {@link #conv2d} with respect to its input,
     * as an op. filters {@code [kh, kw, outputChannels, inputChannels]} (the filter of the conv2d
     * whose input gradient this is); {@code outputShape} {@code [batch, height, width,
     * outputChannels]} is that conv2d's input shape, which must map back onto {@code input}'s
     * spatial size under the same strides, padding and dilations.
     */
    static Tensor conv2dTranspose(Tensor input, Tensor filters, int[] outputShape, int[] strides, Padding padding,
                                  int[] dilations) {
        String op = "conv2dTranspose";
        checkImageAndFilter(op, input, filters);
        NullChecks.nonNull(outputShape, op, "outputShape");
        if (outputShape.length != 4) {
            throw new ShapeException(op + ": outputShape must have 4 dimensions [batch, height, width, channels], got "
                    + java.util.Arrays.toString(outputShape));
        }
        Shape outShape = Shape.of(outputShape);
        if (outputShape[0] != input.shape().dim(0) || outputShape[3] != filters.shape().dim(2)) {
            throw new ShapeException(op + ": outputShape " + outShape + " must have input's batch "
                    + input.shape().dim(0) + " and the filter's output channels " + filters.shape().dim(2)
                    + " (filter shape " + filters.shape() + ")");
        }
        if (filters.shape().dim(3) != input.shape().dim(3)) {
            throw new ShapeException(op + ": the filter's input channels (dim 3 of " + filters.shape()
                    + ") must equal input's " + input.shape().dim(3) + " channels");
        }
        Conv2dGeometry g = geometry(op, outShape, filters.shape().dim(0), filters.shape().dim(1),
                filters.shape().dim(3), 1, strides, padding, dilations);
        if (g.outHeight() != input.shape().dim(1) || g.outWidth() != input.shape().dim(2)) {
            throw new ShapeException(op + ": a conv2d of outputShape " + outShape + " with strides, padding "
                    + padding + " and dilations given gives " + g.outHeight() + "x" + g.outWidth()
                    + ", not input's " + input.shape().dim(1) + "x" + input.shape().dim(2) + " (input shape "
                    + input.shape() + ")");
        }
        return backpropInput(input, filters, g);
    }

    /** {@code tf.nn.max_pool2d}: the maximum of each window, per channel; padding cells ignored. */
    static Tensor maxPool2d(Tensor x, int[] poolSize, int[] strides, Padding padding) {
        String op = "maxPool2d";
        Conv2dGeometry g = poolGeometry(op, x, poolSize, strides, padding);
        return maxPoolSelect(x, x, g);
    }

    /** {@code tf.nn.avg_pool2d}: the mean of each window over its cells inside the input. */
    static Tensor avgPool2d(Tensor x, int[] poolSize, int[] strides, Padding padding) {
        String op = "avgPool2d";
        Conv2dGeometry g = poolGeometry(op, x, poolSize, strides, padding);
        return avgPool(x, g);
    }

    // ---- geometry: TensorFlow's rules ---------------------------------------------------------

    /** The geometry of a window of {@code kh × kw} over {@code in} (NHWC) giving {@code outChannels}. */
    static Conv2dGeometry geometry(String op, Shape in, int kh, int kw, int outChannels, int groups, int[] strides,
                                   Padding padding, int[] dilations) {
        NullChecks.nonNull(padding, op, "padding");
        int[] s = pair(op, "strides", strides);
        int[] d = pair(op, "dilations", dilations);
        if (kh < 1 || kw < 1) {
            throw new ShapeException(op + ": the window " + kh + "x" + kw + " must be at least 1x1");
        }
        int[] rows = axis(op, "height", in.dim(1), kh, s[0], d[0], padding.isExplicit(), padding.top(),
                padding.bottom(), padding);
        int[] cols = axis(op, "width", in.dim(2), kw, s[1], d[1], padding.isExplicit(), padding.left(),
                padding.right(), padding);
        return new Conv2dGeometry(in.dim(0), in.dim(1), in.dim(2), in.dim(3), kh, kw, outChannels, groups,
                rows[0], cols[0], s[0], s[1], d[0], d[1], rows[1], cols[1]);
    }

    /** {out, padBefore} along one spatial axis. */
    private static int[] axis(String op, String name, int in, int k, int stride, int dilation, boolean explicit,
                              int before, int after, Padding padding) {
        long window = (long) (k - 1) * dilation + 1;
        long out;
        long padBefore;
        if (padding.isSame()) {
            out = (in + (long) stride - 1) / stride;
            long total = Math.max((out - 1) * stride + window - in, 0);
            padBefore = total / 2;
        } else {
            padBefore = explicit ? before : 0;
            long padded = in + padBefore + (explicit ? after : 0);
            if (padded < window) {
                throw new ShapeException(op + ": the window spans " + window + " cells of " + name + " (size " + k
                        + ", dilation " + dilation + ") but the " + (explicit ? "padded " : "") + name + " is "
                        + padded + " with " + padding + " padding");
            }
            out = (padded - window) / stride + 1;
        }
        if (out > Integer.MAX_VALUE) {
            throw new ShapeException(op + ": the output " + name + " " + out + " does not fit an int");
        }
        return new int[] {(int) out, (int) padBefore};
    }

    /** TensorFlow's forms: one value for both axes, {@code {h, w}}, or {@code {1, h, w, 1}}; each ≥ 1. */
    private static int[] pair(String op, String name, int[] v) {
        NullChecks.nonNull(v, op, name);
        int[] hw = switch (v.length) {
            case 1 -> new int[] {v[0], v[0]};
            case 2 -> v.clone();
            case 4 -> {
                if (v[0] != 1 || v[3] != 1) {
                    throw new ShapeException(op + ": " + name + " " + java.util.Arrays.toString(v)
                            + " must be 1 in the batch and channel dimensions");
                }
                yield new int[] {v[1], v[2]};
            }
            default -> throw new ShapeException(op + ": " + name + " must have 1, 2 or 4 values, got "
                    + java.util.Arrays.toString(v));
        };
        if (hw[0] < 1 || hw[1] < 1) {
            throw new ShapeException(op + ": " + name + " must be positive, got " + java.util.Arrays.toString(v));
        }
        return hw;
    }

    private static Conv2dGeometry poolGeometry(String op, Tensor x, int[] poolSize, int[] strides, Padding padding) {
        checkImage(op, "x", x);
        Prims.requireFloating(op, x);
        int[] k = pair(op, "poolSize", poolSize);
        int c = x.shape().dim(3);
        Conv2dGeometry g = geometry(op, x.shape(), k[0], k[1], c, Math.max(c, 1), strides, padding, new int[] {1});
        // every window must reach the input, or max and mean would be of nothing
        if (g.padTop() >= k[0] || g.padLeft() >= k[1] || padding.bottom() >= k[0] || padding.right() >= k[1]) {
            throw new ShapeException(op + ": padding " + padding + " must be smaller than the pool " + k[0] + "x"
                    + k[1] + " on every side");
        }
        return g;
    }

    private static void checkImageAndFilter(String op, Tensor x, Tensor filter) {
        checkImage(op, "x", x);
        if (filter.rank() != 4) {
            throw new ShapeException(op + ": filter must have rank 4 [height, width, in, out], got shape "
                    + filter.shape());
        }
        Prims.requireFloating(op, x);
        Prims.requireSameDType(op, x, filter);
        Prims.deviceOf(op, x, filter);
    }

    private static void checkImage(String op, String name, Tensor x) {
        if (x.rank() != 4) {
            throw new ShapeException(op + ": " + name + " must have rank 4 [batch, height, width, channels] "
                    + "(NHWC), got shape " + x.shape());
        }
    }

    private static Shape outputShape(Conv2dGeometry g) {
        return Shape.of(g.batch(), g.outHeight(), g.outWidth(), g.outChannels());
    }

    private static Shape inputShape(Conv2dGeometry g) {
        return Shape.of(g.batch(), g.inHeight(), g.inWidth(), g.inChannels());
    }

    private static Shape filterShape(Conv2dGeometry g) {
        return Shape.of(g.filterHeight(), g.filterWidth(), g.inChannelsPerGroup(), g.outChannels());
    }

    // ---- the primitives and their VJPs ----------------------------------------------------------

    /** conv2d as recorded: VJPs are the two backprop primitives. */
    static Tensor conv(Tensor x, Tensor f, Conv2dGeometry g) {
        Tensor y = launch("conv2d", outputShape(g), (b, v, out) -> b.conv2d(v[0], v[1], g, out), x, f);
        GradientTape.record("conv2d", (h, in, out, needs) -> new Tensor[] {
                needs[0] ? backpropInput(h, in[1], g) : null,
                needs[1] ? backpropFilter(in[0], h, g) : null}, y, x, f);
        return y;
    }

    /** dx from dy; linear in both, so its VJPs are conv2d and the filter gradient. */
    static Tensor backpropInput(Tensor dy, Tensor f, Conv2dGeometry g) {
        Tensor dx = launch("conv2dBackpropInput", inputShape(g),
                (b, v, out) -> b.conv2dBackpropInput(v[0], v[1], g, out), dy, f);
        GradientTape.record("conv2dBackpropInput", (h, in, out, needs) -> new Tensor[] {
                needs[0] ? conv(h, in[1], g) : null,
                needs[1] ? backpropFilter(h, in[0], g) : null}, dx, dy, f);
        return dx;
    }

    /** dfilter from x and dy. */
    static Tensor backpropFilter(Tensor x, Tensor dy, Conv2dGeometry g) {
        Tensor df = launch("conv2dBackpropFilter", filterShape(g),
                (b, v, out) -> b.conv2dBackpropFilter(v[0], v[1], g, out), x, dy);
        GradientTape.record("conv2dBackpropFilter", (h, in, out, needs) -> new Tensor[] {
                needs[0] ? backpropInput(in[1], h, g) : null,
                needs[1] ? conv(in[0], h, g) : null}, df, x, dy);
        return df;
    }

    static Tensor avgPool(Tensor x, Conv2dGeometry g) {
        Tensor y = launch("avgPool2d", outputShape(g), (b, v, out) -> b.avgPool2d(v[0], g, out), x);
        GradientTape.record("avgPool2d", (h, in, out, needs) -> new Tensor[] {avgPoolGrad(h, g)}, y, x);
        return y;
    }

    static Tensor avgPoolGrad(Tensor dy, Conv2dGeometry g) {
        Tensor dx = launch("avgPool2dGrad", inputShape(g), (b, v, out) -> b.avgPool2dGrad(v[0], g, out), dy);
        GradientTape.record("avgPool2dGrad", (h, in, out, needs) -> new Tensor[] {avgPool(h, g)}, dx, dy);
        return dx;
    }

    /**
     * {@code values} at the selected cell of each window of {@code x}: max pooling when values is
     * x. Its gradient in values is the scatter back ({@link #maxPoolGrad}); none in x, whose only
     * role is which cell is selected (piecewise constant).
     */
    static Tensor maxPoolSelect(Tensor x, Tensor values, Conv2dGeometry g) {
        Tensor y = launch("maxPool2d", outputShape(g), (b, v, out) -> b.maxPool2d(v[0], v[1], g, out), x, values);
        if (x == values) {
            GradientTape.record("maxPool2d", (h, in, out, needs) -> new Tensor[] {maxPoolGrad(in[0], h, g)}, y, x);
        } else {
            GradientTape.record("maxPool2dSelect", (h, in, out, needs) -> new Tensor[] {
                    null, needs[1] ? maxPoolGrad(in[0], h, g) : null}, y, x, values);
        }
        return y;
    }

    /** dy scattered to each window's selected cell of x; its gradient in dy selects again. */
    static Tensor maxPoolGrad(Tensor x, Tensor dy, Conv2dGeometry g) {
        Tensor dx = launch("maxPool2dGrad", inputShape(g), (b, v, out) -> b.maxPool2dGrad(v[0], v[1], g, out), x, dy);
        GradientTape.record("maxPool2dGrad", (h, in, out, needs) -> new Tensor[] {
                null, needs[1] ? maxPoolSelect(in[0], h, g) : null}, dx, x, dy);
        return dx;
    }

    // ---- launching ---------------------------------------------------------------------------

    /** A primitive call with the inputs' contiguous views and the output buffer. */
    @FunctionalInterface
    private interface Launch {
        void run(Backend backend, View[] inputs, DeviceBuffer out);
    }

    /**
     * Runs one primitive into a new tensor of {@code shape}, the inputs made contiguous first
     * (the primitives take dense NHWC data). An empty output needs no launch; an empty input
     * (0 channels) makes every sum empty: zeros, without a launch.
     */
    private static Tensor launch(String op, Shape shape, Launch call, Tensor... inputs) {
        Device d = Prims.deviceOf(op, inputs);
        for (Tensor t : inputs) {
            Prims.requireSameDType(op, inputs[0], t);
        }
        DType dtype = inputs[0].dtype();
        boolean emptyInput = false;
        for (Tensor t : inputs) {
            emptyInput |= t.size() == 0;
        }
        if (shape.size() == 0 || emptyInput) {
            return Prims.fill(d, dtype, shape, 0);
        }
        Tensor[] dense = new Tensor[inputs.length];
        Tensor out = null;
        try {
            View[] views = new View[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                Tensor t = inputs[i];
                if (!t.isContiguous()) {
                    t = dense[i] = Prims.copy(t, dtype);
                }
                views[i] = t.spiView();
            }
            out = Prims.empty(d, dtype, shape);
            synchronized (d) {
                d.checkOpen();
                Prims.stillOpen(op, inputs);
                call.run(d.backend(), views, out.storage.buffer);
            }
            Tensor result = out;
            out = null;
            return result;
        } finally {
            if (out != null) {
                out.close();
            }
            for (Tensor t : dense) {
                if (t != null) {
                    t.close();
                }
            }
        }
    }
}
