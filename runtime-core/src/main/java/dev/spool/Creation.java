package dev.spool;

/** Tensor factories: from host data (a counted transfer) or filled on the device (none). */
final class Creation {
    private Creation() {
    }

    static Tensor fromHost(Device device, Shape shape, DType dtype, Object hostArray) {
        Tensor t = Prims.empty(device, dtype, shape);
        try {
            device.write(t.storage.buffer, hostArray);
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
        return t;
    }

    /**
     * A tensor whose element {@code i} (row-major) is {@code value(i)}, computed on the host. The
     * device buffer is allocated first, so a size beyond the device's memory budget is a
     * {@link DeviceOutOfMemoryException} before any host array is made.
     */
    private static Tensor generated(Device device, Shape shape, DType dtype, java.util.function.IntToDoubleFunction value) {
        int n = shape.sizeAsInt("creating a tensor");
        Tensor t = Prims.empty(device, dtype, shape);
        try {
            double[] values = new double[n];
            for (int i = 0; i < n; i++) {
                values[i] = value.applyAsDouble(i);
            }
            device.write(t.storage.buffer, convert(values, dtype));
        } catch (RuntimeException | Error e) {
            t.close();
            throw e;
        }
        return t;
    }

    /** A tensor from a Java array of any nesting; the dtype follows the element type. */
    static Tensor constant(Device device, Object nestedArray) {
        HostArrays.Flat flat = HostArrays.flatten(nestedArray);
        return fromHost(device, flat.shape(), flat.dtype(), flat.array());
    }

    /** A scalar filled on the device: no host transfer, so VJP constants cost no copies. */
    static Tensor scalar(Device device, DType dtype, Number value) {
        return Prims.fill(device, dtype, Shape.scalar(), value);
    }

    /** A scalar of {@code like}'s dtype on its device. */
    static Tensor scalarLike(Tensor like, double value) {
        return scalar(like.device(), like.dtype(), value);
    }

    static Tensor fill(Device device, Shape shape, DType dtype, Number value) {
        return Prims.fill(device, dtype, shape, value);
    }

    static Tensor zeros(Device device, Shape shape, DType dtype) {
        return fill(device, shape, dtype, 0);
    }

    static Tensor ones(Device device, Shape shape, DType dtype) {
        return fill(device, shape, dtype, 1);
    }

    static Tensor zerosLike(Tensor t) {
        return zeros(t.device(), t.shape(), t.dtype());
    }

    static Tensor onesLike(Tensor t) {
        return ones(t.device(), t.shape(), t.dtype());
    }

    /** {@code [start, start + delta, ...)} up to but excluding {@code limit}, as TF's {@code tf.range}. */
    static Tensor range(Device device, double start, double limit, double delta, DType dtype) {
        if (delta == 0) {
            throw new ShapeException("range: delta must not be zero");
        }
        double count = Math.ceil((limit - start) / delta);
        if (Double.isNaN(count) || count > Integer.MAX_VALUE) {
            throw new ShapeException("range: start " + start + ", limit " + limit + " and delta " + delta
                    + " do not give a length that fits a tensor (" + count + " elements)");
        }
        int n = (int) Math.max(0, count);
        return generated(device, Shape.of(n), dtype, i -> start + i * delta);
    }

    /** {@code num} evenly spaced values from start to stop inclusive, as {@code tf.linspace}. */
    static Tensor linspace(Device device, double start, double stop, int num, DType dtype) {
        if (num < 0) {
            throw new ShapeException("linspace: num must be >= 0, got " + num);
        }
        return generated(device, Shape.of(num), dtype,
                i -> num == 1 ? start : start + (stop - start) * i / (num - 1));
    }

    /** The {@code rows x cols} identity matrix. */
    static Tensor eye(Device device, int rows, int cols, DType dtype) {
        Shape shape = Shape.of(rows, cols); // a negative size is a ShapeException here
        shape.sizeAsInt("eye");
        return generated(device, shape, dtype, i -> i / cols == i % cols ? 1 : 0);
    }

    /** Uniform in [min, max) from Philox keyed by {@code seed}: the same values on every device. */
    static Tensor randomUniform(Device device, Shape shape, long seed, double min, double max, DType dtype) {
        Prims.requireFloatingDType("randomUniform", dtype);
        Tensor u = Prims.randomUniform(device, dtype, shape, seed);
        if (min == 0 && max == 1) {
            return u;
        }
        try (Tensor scaled = ElementwiseOps.mul(u, scalar(device, dtype, max - min))) {
            return ElementwiseOps.add(scaled, scalar(device, dtype, min));
        } finally {
            u.close();
        }
    }

    /**
     * Normal with the given mean and standard deviation, by Box–Muller on two halves of one
     * Philox stream: {@code sqrt(-2 ln(1 - u1)) * cos(2 pi u2)}.
     */
    static Tensor randomNormal(Device device, Shape shape, long seed, double mean, double stddev, DType dtype) {
        Prims.requireFloatingDType("randomNormal", dtype);
        int n = shape.sizeAsInt("randomNormal");
        try (TensorScope scope = new TensorScope()) {
            Tensor u = Prims.randomUniform(device, dtype, Shape.of(2 * n), seed);
            Tensor u1 = ShapeOps.slice(u, new int[] {0}, new int[] {n});
            Tensor u2 = ShapeOps.slice(u, new int[] {n}, new int[] {n});
            Tensor oneMinusU1 = ElementwiseOps.sub(scalar(device, dtype, 1), u1); // in (0, 1]
            Tensor radius = ElementwiseOps.sqrt(ElementwiseOps.mul(scalar(device, dtype, -2),
                    ElementwiseOps.log(oneMinusU1)));
            Tensor angle = ElementwiseOps.cos(ElementwiseOps.mul(scalar(device, dtype, 2 * Math.PI), u2));
            Tensor z = ElementwiseOps.mul(radius, angle);
            if (mean != 0 || stddev != 1) {
                z = ElementwiseOps.add(ElementwiseOps.mul(z, scalar(device, dtype, stddev)),
                        scalar(device, dtype, mean));
            }
            return scope.keep(ShapeOps.reshape(z, shape.toArray()));
        }
    }

    static Object convert(double[] values, DType dtype) {
        Object out = dtype.newHostArray(values.length);
        for (int i = 0; i < values.length; i++) {
            switch (dtype) {
                case FLOAT32 -> ((float[]) out)[i] = (float) values[i];
                case FLOAT64 -> ((double[]) out)[i] = values[i];
                case INT32 -> ((int[]) out)[i] = (int) values[i];
                case INT64 -> ((long[]) out)[i] = (long) values[i];
                case BOOL -> ((byte[]) out)[i] = (byte) (values[i] != 0 ? 1 : 0);
            }
        }
        return out;
    }
}
