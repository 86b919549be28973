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
            throw new IllegalArgumentException("range: delta must not be zero");
        }
        long n = Math.max(0, (long) Math.ceil((limit - start) / delta));
        Shape shape = Shape.of(Math.toIntExact(n));
        double[] values = new double[(int) n];
        for (int i = 0; i < n; i++) {
            values[i] = start + i * delta;
        }
        return fromHost(device, shape, dtype, convert(values, dtype));
    }

    /** {@code num} evenly spaced values from start to stop inclusive, as {@code tf.linspace}. */
    static Tensor linspace(Device device, double start, double stop, int num, DType dtype) {
        if (num < 0) {
            throw new IllegalArgumentException("linspace: num must be >= 0, got " + num);
        }
        double[] values = new double[num];
        for (int i = 0; i < num; i++) {
            values[i] = num == 1 ? start : start + (stop - start) * i / (num - 1);
        }
        return fromHost(device, Shape.of(num), dtype, convert(values, dtype));
    }

    /** The {@code rows x cols} identity matrix. */
    static Tensor eye(Device device, int rows, int cols, DType dtype) {
        double[] values = new double[Math.multiplyExact(rows, cols)];
        for (int i = 0; i < Math.min(rows, cols); i++) {
            values[i * cols + i] = 1;
        }
        return fromHost(device, Shape.of(rows, cols), dtype, convert(values, dtype));
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
