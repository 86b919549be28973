package dev.spool.cpu;

import static dev.spool.cpu.StridedLoop.CHUNK;

import dev.spool.spi.BinaryOp;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The SIMD form of {@link Elementwise}'s unary and binary drivers for float32 and float64: a
 * straight vector loop over the buffers' own arrays, with no scratch copy, where the operands are
 * contiguous or (binary) one of them is a scalar broadcast (stride 0). Each method returns false
 * for what it does not handle, and {@link Elementwise}'s lane path runs instead.
 *
 * <p>Results are those of the lane path bit for bit, except float32 transcendentals, which come
 * from {@link SimdMath} (error bounds there). Those are the float32 definition whenever the SIMD
 * paths are on, whatever the layout: a strided float32 operand is gathered into a scratch array
 * and computed by the same vector code, and the last partial vector of a run is computed in a
 * padded copy, so an element's result never depends on where it sits.
 *
 * <p>Only loaded when {@link VectorSupport#ENABLED}.
 */
final class SimdElementwise {
    private static final VectorSpecies<Float> F = SimdMath.F;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Bytes of a bool condition, as many lanes as {@link #F}. */
    private static final VectorSpecies<Byte> B = VectorSpecies.of(byte.class,
            VectorShape.forBitSize(Math.max(64, F.length() * Byte.SIZE))); // declined below if lanes differ

    private SimdElementwise() {
    }

    // ---- unary ---------------------------------------------------------------------------------

    static boolean handlesFloat(UnaryOp op) {
        return switch (op) {
            // RSQRT and SIGN stay on the lane path: 1/sqrt rounded twice in float is not the
            // lane's once-rounded double result, and SIGN is rare.
            case NEG, ABS, RELU, SQRT, EXP, LOG, LOG1P, TANH, SIGMOID, SIN, COS -> true;
            // Float32Erf's formulas in double lanes (SimdErf; GELU_TANH a scalar loop), far cheaper
            // than the lane path's float64-exact erfc
            case ERF, GELU, GELU_TANH -> true;
            default -> false;
        };
    }

    /** Ops whose float64 result is exact, so a vector loop gives the lane path's bits. */
    private static boolean handlesDouble(UnaryOp op) {
        return switch (op) {
            case NEG, ABS, RELU, SQRT -> true;
            default -> false;
        };
    }

    static boolean unary(Parallel par, UnaryOp op, View x, CpuBuffer out) {
        Object src = CpuBuffer.data(x);
        Object dst = out.data();
        boolean isFloat = src instanceof float[];
        if (!(isFloat ? handlesFloat(op) : src instanceof double[] && handlesDouble(op))) {
            return false;
        }
        if (x.size() <= CHUNK && x.isContiguous()) {
            // one segment, as the loop below would hand out, without building the loop
            int n = (int) x.size();
            if (isFloat) {
                unaryFloat(op, (float[]) src, (int) x.offset(), (float[]) dst, 0, n);
            } else {
                unaryDouble(op, (double[]) src, (int) x.offset(), (double[]) dst, 0, n);
            }
            return true;
        }
        StridedLoop loop = new StridedLoop(x.shape(), new long[] {x.offset(), 0},
                x.strides(), View.rowMajorStrides(x.shape()));
        int sx = loop.innerStride(0);
        if (!isFloat) {
            if (sx != 1) {
                return false; // strided float64: the lane path gives the same bits
            }
            double[] a = (double[]) src;
            double[] r = (double[]) dst;
            par.forRange(loop.size(), Parallel.GRAIN, (lo, hi) ->
                    loop.forEach(lo, hi, (p, n) -> unaryDouble(op, a, p[0], r, p[1], n)));
            return true;
        }
        float[] a = (float[]) src;
        float[] r = (float[]) dst;
        par.forRange(loop.size(), Parallel.GRAIN, (lo, hi) -> {
            float[] v = sx == 1 ? null : new float[CHUNK];
            loop.forEach(lo, hi, (p, n) -> {
                if (sx == 1) {
                    unaryFloat(op, a, p[0], r, p[1], n);
                } else {
                    for (int t = 0; t < n; t++) {
                        v[t] = a[p[0] + t * sx];
                    }
                    unaryFloat(op, v, 0, r, p[1], n);
                }
            });
        });
        return true;
    }

    /** {@code r[pr + t] = op(x[px + t])} for {@code t < n}. */
    static void unaryFloat(UnaryOp op, float[] x, int px, float[] r, int pr, int n) {
        int len = F.length();
        int body = n - n % len;
        unaryFloatBody(op, x, px, r, pr, body);
        if (body < n) { // the last partial vector, in a padded copy
            float[] pad = new float[len];
            System.arraycopy(x, px + body, pad, 0, n - body);
            unaryFloatBody(op, pad, 0, pad, 0, len);
            System.arraycopy(pad, 0, r, pr + body, n - body);
        }
    }

    /**
     * Whole vectors only ({@code n} a multiple of the vector length). One small loop method per
     * op: a vector handed to a method that the JIT does not inline is boxed on the heap, and C2
     * stops inlining once a method has grown large, so the math functions are not all called
     * from one switch.
     */
    private static void unaryFloatBody(UnaryOp op, float[] x, int px, float[] r, int pr, int n) {
        switch (op) {
            case NEG -> neg(x, px, r, pr, n);
            case ABS -> abs(x, px, r, pr, n);
            case RELU -> relu(x, px, r, pr, n);
            case SQRT -> sqrt(x, px, r, pr, n);
            case EXP -> SimdMath.exp(x, px, r, pr, n);
            case LOG -> SimdMath.log(x, px, r, pr, n);
            case LOG1P -> SimdMath.log1p(x, px, r, pr, n);
            case TANH -> SimdMath.tanh(x, px, r, pr, n);
            case SIGMOID -> SimdMath.sigmoid(x, px, r, pr, n);
            case SIN -> SimdMath.sin(x, px, r, pr, n);
            case COS -> SimdMath.cos(x, px, r, pr, n);
            case ERF -> SimdErf.erf(x, px, r, pr, n);
            case GELU -> SimdErf.gelu(x, px, r, pr, n);
            case GELU_TANH -> Float32Erf.geluTanh(x, px, r, pr, n);
            default -> throw new IllegalArgumentException(op + " has no SIMD float32 form");
        }
    }

    private static void neg(float[] x, int px, float[] r, int pr, int n) {
        for (int t = 0; t < n; t += F.length()) {
            FloatVector.fromArray(F, x, px + t).neg().intoArray(r, pr + t);
        }
    }

    private static void abs(float[] x, int px, float[] r, int pr, int n) {
        for (int t = 0; t < n; t += F.length()) {
            FloatVector.fromArray(F, x, px + t).abs().intoArray(r, pr + t);
        }
    }

    private static void relu(float[] x, int px, float[] r, int pr, int n) {
        for (int t = 0; t < n; t += F.length()) {
            SimdFloatOps.relu(FloatVector.fromArray(F, x, px + t)).intoArray(r, pr + t);
        }
    }

    private static void sqrt(float[] x, int px, float[] r, int pr, int n) {
        for (int t = 0; t < n; t += F.length()) {
            FloatVector.fromArray(F, x, px + t).sqrt().intoArray(r, pr + t);
        }
    }

    private static void unaryDouble(UnaryOp op, double[] x, int px, double[] r, int pr, int n) {
        int len = D.length();
        int t = 0;
        for (; t <= n - len; t += len) {
            DoubleVector v = DoubleVector.fromArray(D, x, px + t);
            DoubleVector y = switch (op) {
                case NEG -> v.neg();
                case ABS -> v.abs();
                case RELU -> v.blend(0d, v.compare(VectorOperators.LT, 0d));
                case SQRT -> v.sqrt();
                default -> throw new IllegalArgumentException(op + " has no SIMD float64 form");
            };
            y.intoArray(r, pr + t);
        }
        for (; t < n; t++) { // exact ops: the scalar tail gives the same bits
            double v = x[px + t];
            r[pr + t] = switch (op) {
                case NEG -> -v;
                case ABS -> Math.abs(v);
                case RELU -> v < 0 ? 0 : v;
                default -> Math.sqrt(v);
            };
        }
    }

    // ---- binary --------------------------------------------------------------------------------

    /**
     * Arithmetic (not POW) on float32/float64 where each input is contiguous or a broadcast
     * scalar and the output is contiguous.
     */
    static boolean binary(Parallel par, BinaryOp op, View a, View b, CpuBuffer out) {
        Object srcA = CpuBuffer.data(a);
        Object srcB = CpuBuffer.data(b);
        Object dst = out.data();
        if (!Float32Direct.exact(op) || !(dst instanceof float[] || dst instanceof double[])) {
            return false;
        }
        if (repeatedRows(par, op, null, a, b, out)) {
            return true;
        }
        long size = a.size();
        int da = size <= CHUNK ? runStride(a) : -1;
        int db = size <= CHUNK ? runStride(b) : -1;
        if (da >= 0 && db >= 0 && (da == 1 || db == 1 || size <= 1)) {
            // one segment, as the loop below would hand out, without building the loop
            if (dst instanceof float[] r) {
                binaryFloat(op, (float[]) srcA, (int) a.offset(), da, (float[]) srcB, (int) b.offset(), db, r, 0, (int) size);
            } else {
                binaryDouble(op, (double[]) srcA, (int) a.offset(), da, (double[]) srcB, (int) b.offset(), db,
                        (double[]) dst, 0, (int) size);
            }
            return true;
        }
        StridedLoop loop = new StridedLoop(a.shape(), new long[] {a.offset(), b.offset(), 0},
                a.strides(), b.strides(), View.rowMajorStrides(a.shape()));
        int sa = loop.innerStride(0);
        int sb = loop.innerStride(1);
        if (sa > 1 || sb > 1 || sa < 0 || sb < 0 || (sa == 0 && sb == 0 && loop.size() > 1)) {
            return false;
        }
        if (dst instanceof float[] r) {
            float[] x = (float[]) srcA;
            float[] y = (float[]) srcB;
            par.forRange(loop.size(), Parallel.GRAIN, (lo, hi) -> loop.forEach(lo, hi, (p, n) ->
                    binaryFloat(op, x, p[0], sa, y, p[1], sb, r, p[2], n)));
        } else {
            double[] r = (double[]) dst;
            double[] x = (double[]) srcA;
            double[] y = (double[]) srcB;
            par.forRange(loop.size(), Parallel.GRAIN, (lo, hi) -> loop.forEach(lo, hi, (p, n) ->
                    binaryDouble(op, x, p[0], sa, y, p[1], sb, r, p[2], n)));
        }
        return true;
    }

    /**
     * {@link #binary}, then with an epilogue {@link #unary} in place, where one operand is dense
     * and the other repeats a dense run of L elements along it (a bias over the last axis: the
     * trailing dims dense, the leading ones broadcast). A loop over rows of L elements, with no
     * strided-loop step per run, and the epilogue applied to each block of rows while it is in
     * cache, not in a second pass over the output. The per-element code is binaryFloat's or
     * binaryDouble's, then unaryFloat's or unaryDouble's, as the two primitives run them, so the
     * bits are theirs. Measured on [128, 26, 26, 32] + bias[32] (the CNN's first conv layer,
     * runs of 32): the strided loop and a second pass took the fused bias-add + relu several
     * times relu's own time. False for what it does not handle.
     */
    static boolean repeatedRows(Parallel par, BinaryOp op, UnaryOp epilogue, View a, View b, CpuBuffer out) {
        Object dst = out.data();
        if (op.isComparison() || op == BinaryOp.POW || !(dst instanceof float[] || dst instanceof double[])) {
            return false;
        }
        boolean isFloat = dst instanceof float[];
        if (epilogue != null && !(isFloat ? handlesFloat(epilogue) : handlesDouble(epilogue))) {
            return false;
        }
        boolean aDense = a.isContiguous();
        boolean bDense = b.isContiguous();
        long run = aDense == bDense ? -1 : repeatRun(aDense ? b : a);
        if (run <= 0 || a.size() % run != 0 || !(CpuBuffer.data(a) instanceof float[] == isFloat)) {
            return false;
        }
        int len = (int) run;
        long rows = a.size() / len;
        int aStep = aDense ? len : 0;
        int bStep = bDense ? len : 0;
        int ao = (int) a.offset();
        int bo = (int) b.offset();
        int block = Math.max(1, CHUNK / len); // rows whose output the epilogue takes while in cache
        Object srcA = CpuBuffer.data(a);
        Object srcB = CpuBuffer.data(b);
        par.forRange(rows, Math.max(1, Parallel.GRAIN / len), (lo, hi) -> {
            for (long s = lo; s < hi; s += block) {
                int first = (int) s;
                int end = (int) Math.min(hi, s + block);
                for (int row = first; row < end; row++) {
                    if (isFloat) {
                        binaryFloat(op, (float[]) srcA, ao + row * aStep, 1, (float[]) srcB, bo + row * bStep, 1,
                                (float[]) dst, row * len, len);
                    } else {
                        binaryDouble(op, (double[]) srcA, ao + row * aStep, 1, (double[]) srcB, bo + row * bStep,
                                1, (double[]) dst, row * len, len);
                    }
                }
                if (epilogue != null) {
                    int at = first * len;
                    int n = (end - first) * len;
                    if (isFloat) {
                        unaryFloat(epilogue, (float[]) dst, at, (float[]) dst, at, n);
                    } else {
                        unaryDouble(epilogue, (double[]) dst, at, (double[]) dst, at, n);
                    }
                }
            }
        });
        return true;
    }

    /**
     * L where v repeats a dense run of L elements (its trailing dims row-major dense with L
     * elements, every leading dim of stride 0 or extent 1) and has more than L elements; else -1.
     */
    private static long repeatRun(View v) {
        long run = 1;
        int d = v.rank() - 1;
        for (; d >= 0 && v.shape()[d] != 1 && v.strides()[d] == run; d--) {
            run *= v.shape()[d];
        }
        for (; d >= 0; d--) {
            if (v.shape()[d] != 1 && v.strides()[d] != 0) {
                return -1;
            }
        }
        return run > 1 && run < v.size() ? run : -1;
    }

    /** 1 for a dense row-major view, 0 for one element broadcast everywhere (all strides 0), else -1. */
    private static int runStride(View v) {
        if (v.isContiguous()) {
            return 1;
        }
        for (int d = 0; d < v.rank(); d++) {
            if (v.strides()[d] != 0 && v.shape()[d] != 1) {
                return -1;
            }
        }
        return 0;
    }

    /** {@code r[pr + t] = op(x[px + t*sx], y[py + t*sy])}, each stride 0 or 1. */
    static void binaryFloat(BinaryOp op, float[] x, int px, int sx, float[] y, int py, int sy,
                            float[] r, int pr, int n) {
        // One loop method per op, as for the unary ops (unaryFloatBody): each compiles small,
        // with its op known. With the op switched inside one vector loop, JFR put a fused
        // chain's time in that loop (SimdFused: 10-12 ms of CPU time for 16M floats on one
        // thread, against an add's 5); with a loop per op, 5.3-7.8 ms.
        int t = switch (op) {
            case ADD -> addFloat(x, px, sx, y, py, sy, r, pr, n);
            case SUB -> subFloat(x, px, sx, y, py, sy, r, pr, n);
            case MUL -> mulFloat(x, px, sx, y, py, sy, r, pr, n);
            case DIV -> divFloat(x, px, sx, y, py, sy, r, pr, n);
            case MAX -> maxFloat(x, px, sx, y, py, sy, r, pr, n);
            case MIN -> minFloat(x, px, sx, y, py, sy, r, pr, n);
            case RELU_GRAD -> reluGradFloat(x, px, sx, y, py, sy, r, pr, n);
            default -> throw new IllegalArgumentException(op + " has no SIMD form");
        };
        // The tail: these ops are exact in float, so scalar code gives the vector's bits.
        for (; t < n; t++) {
            float u = x[px + t * sx];
            float v = y[py + t * sy];
            r[pr + t] = switch (op) {
                case ADD -> u + v;
                case SUB -> u - v;
                case MUL -> u * v;
                case DIV -> u / v;
                case MAX -> Math.max(u, v);
                case MIN -> Math.min(u, v);
                case RELU_GRAD -> v > 0 ? u : 0;
                default -> throw new IllegalArgumentException(op + " has no SIMD form");
            };
        }
    }

    private static int addFloat(float[] x, int px, int sx, float[] y, int py, int sy, float[] r, int pr, int n) {
        int len = F.length();
        int t = 0;
        if (sx != 0 && sy != 0) {
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                u.add(v).intoArray(r, pr + t);
            }
        } else if (sx != 0) {
            FloatVector v = FloatVector.broadcast(F, y[py]);
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                u.add(v).intoArray(r, pr + t);
            }
        } else {
            FloatVector u = FloatVector.broadcast(F, x[px]);
            for (; t <= n - len; t += len) {
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                u.add(v).intoArray(r, pr + t);
            }
        }
        return t;
    }

    private static int subFloat(float[] x, int px, int sx, float[] y, int py, int sy, float[] r, int pr, int n) {
        int len = F.length();
        int t = 0;
        if (sx != 0 && sy != 0) {
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                u.sub(v).intoArray(r, pr + t);
            }
        } else if (sx != 0) {
            FloatVector v = FloatVector.broadcast(F, y[py]);
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                u.sub(v).intoArray(r, pr + t);
            }
        } else {
            FloatVector u = FloatVector.broadcast(F, x[px]);
            for (; t <= n - len; t += len) {
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                u.sub(v).intoArray(r, pr + t);
            }
        }
        return t;
    }

    private static int mulFloat(float[] x, int px, int sx, float[] y, int py, int sy, float[] r, int pr, int n) {
        int len = F.length();
        int t = 0;
        if (sx != 0 && sy != 0) {
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                u.mul(v).intoArray(r, pr + t);
            }
        } else if (sx != 0) {
            FloatVector v = FloatVector.broadcast(F, y[py]);
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                u.mul(v).intoArray(r, pr + t);
            }
        } else {
            FloatVector u = FloatVector.broadcast(F, x[px]);
            for (; t <= n - len; t += len) {
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                u.mul(v).intoArray(r, pr + t);
            }
        }
        return t;
    }

    private static int divFloat(float[] x, int px, int sx, float[] y, int py, int sy, float[] r, int pr, int n) {
        int len = F.length();
        int t = 0;
        if (sx != 0 && sy != 0) {
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                u.div(v).intoArray(r, pr + t);
            }
        } else if (sx != 0) {
            FloatVector v = FloatVector.broadcast(F, y[py]);
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                u.div(v).intoArray(r, pr + t);
            }
        } else {
            FloatVector u = FloatVector.broadcast(F, x[px]);
            for (; t <= n - len; t += len) {
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                u.div(v).intoArray(r, pr + t);
            }
        }
        return t;
    }

    private static int maxFloat(float[] x, int px, int sx, float[] y, int py, int sy, float[] r, int pr, int n) {
        int len = F.length();
        int t = 0;
        if (sx != 0 && sy != 0) {
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                u.max(v).intoArray(r, pr + t);
            }
        } else if (sx != 0) {
            FloatVector v = FloatVector.broadcast(F, y[py]);
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                u.max(v).intoArray(r, pr + t);
            }
        } else {
            FloatVector u = FloatVector.broadcast(F, x[px]);
            for (; t <= n - len; t += len) {
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                u.max(v).intoArray(r, pr + t);
            }
        }
        return t;
    }

    private static int minFloat(float[] x, int px, int sx, float[] y, int py, int sy, float[] r, int pr, int n) {
        int len = F.length();
        int t = 0;
        if (sx != 0 && sy != 0) {
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                u.min(v).intoArray(r, pr + t);
            }
        } else if (sx != 0) {
            FloatVector v = FloatVector.broadcast(F, y[py]);
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                u.min(v).intoArray(r, pr + t);
            }
        } else {
            FloatVector u = FloatVector.broadcast(F, x[px]);
            for (; t <= n - len; t += len) {
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                u.min(v).intoArray(r, pr + t);
            }
        }
        return t;
    }

    private static int reluGradFloat(float[] x, int px, int sx, float[] y, int py, int sy, float[] r, int pr, int n) {
        int len = F.length();
        int t = 0;
        if (sx != 0 && sy != 0) {
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                SimdFloatOps.reluGrad(u, v).intoArray(r, pr + t);
            }
        } else if (sx != 0) {
            FloatVector v = FloatVector.broadcast(F, y[py]);
            for (; t <= n - len; t += len) {
                FloatVector u = FloatVector.fromArray(F, x, px + t);
                SimdFloatOps.reluGrad(u, v).intoArray(r, pr + t);
            }
        } else {
            FloatVector u = FloatVector.broadcast(F, x[px]);
            for (; t <= n - len; t += len) {
                FloatVector v = FloatVector.fromArray(F, y, py + t);
                SimdFloatOps.reluGrad(u, v).intoArray(r, pr + t);
            }
        }
        return t;
    }

    /** The binary ops {@link #binaryFloat} has a vector form for (the cases of its switch). */
    static boolean handlesFloat(BinaryOp op) {
        return switch (op) {
            case ADD, SUB, MUL, DIV, MAX, MIN, RELU_GRAD -> true;
            default -> false;
        };
    }


    static void binaryDouble(BinaryOp op, double[] x, int px, int sx, double[] y, int py, int sy,
                             double[] r, int pr, int n) {
        int len = D.length();
        int t = 0;
        if (sx == 1 && sy == 1) {
            for (; t <= n - len; t += len) {
                apply(op, DoubleVector.fromArray(D, x, px + t), DoubleVector.fromArray(D, y, py + t))
                        .intoArray(r, pr + t);
            }
        } else if (sx == 1) {
            DoubleVector yv = DoubleVector.broadcast(D, y[py]);
            for (; t <= n - len; t += len) {
                apply(op, DoubleVector.fromArray(D, x, px + t), yv).intoArray(r, pr + t);
            }
        } else {
            DoubleVector xv = DoubleVector.broadcast(D, x[px]);
            for (; t <= n - len; t += len) {
                apply(op, xv, DoubleVector.fromArray(D, y, py + t)).intoArray(r, pr + t);
            }
        }
        for (; t < n; t++) {
            double u = x[px + t * sx];
            double v = y[py + t * sy];
            r[pr + t] = switch (op) {
                case ADD -> u + v;
                case SUB -> u - v;
                case MUL -> u * v;
                case DIV -> u / v;
                case MAX -> Math.max(u, v);
                case MIN -> Math.min(u, v);
                case RELU_GRAD -> v > 0 ? u : 0;
                default -> throw new IllegalArgumentException(op + " has no SIMD form");
            };
        }
    }

    private static DoubleVector apply(BinaryOp op, DoubleVector u, DoubleVector v) {
        return switch (op) {
            case ADD -> u.add(v);
            case SUB -> u.sub(v);
            case MUL -> u.mul(v);
            case DIV -> u.div(v);
            case MAX -> u.max(v);
            case MIN -> u.min(v);
            case RELU_GRAD -> u.blend(0d, v.compare(VectorOperators.GT, 0d).not());
            default -> throw new IllegalArgumentException(op + " has no SIMD form");
        };
    }

    // ---- select --------------------------------------------------------------------------------

    /**
     * float32 {@code where(cond, a, b)} with a contiguous condition and output, and each value
     * operand contiguous or a broadcast scalar (relu-like masks, {@code where(x > 0, x, 0)}).
     * A select copies values, so the result is the lane path's bit for bit.
     */
    static boolean select(Parallel par, View cond, View a, View b, CpuBuffer out) {
        if (!(out.data() instanceof float[] r) || B.length() != F.length()) {
            return false;
        }
        byte[] c = (byte[]) CpuBuffer.data(cond);
        float[] x = (float[]) CpuBuffer.data(a);
        float[] y = (float[]) CpuBuffer.data(b);
        StridedLoop loop = new StridedLoop(a.shape(),
                new long[] {cond.offset(), a.offset(), b.offset(), 0},
                cond.strides(), a.strides(), b.strides(), View.rowMajorStrides(a.shape()));
        int sc = loop.innerStride(0);
        int sa = loop.innerStride(1);
        int sb = loop.innerStride(2);
        if (sc != 1 || sa < 0 || sa > 1 || sb < 0 || sb > 1) {
            return false;
        }
        par.forRange(loop.size(), Parallel.GRAIN, (lo, hi) -> loop.forEach(lo, hi, (p, n) ->
                selectFloat(c, p[0], x, p[1], sa, y, p[2], sb, r, p[3], n)));
        return true;
    }

    private static void selectFloat(byte[] c, int pc, float[] x, int px, int sx, float[] y, int py, int sy,
                                    float[] r, int pr, int n) {
        int len = F.length();
        int t = 0;
        FloatVector xs = FloatVector.broadcast(F, x[px]);
        FloatVector ys = FloatVector.broadcast(F, y[py]);
        for (; t <= n - len; t += len) {
            // bool bytes are 0 or 1: widened to float, nonzero is true
            VectorMask<Float> m = ((FloatVector) ByteVector.fromArray(B, c, pc + t)
                    .convertShape(VectorOperators.B2F, F, 0)).compare(VectorOperators.NE, 0f);
            FloatVector u = sx == 0 ? xs : FloatVector.fromArray(F, x, px + t);
            FloatVector v = sy == 0 ? ys : FloatVector.fromArray(F, y, py + t);
            v.blend(u, m).intoArray(r, pr + t);
        }
        for (; t < n; t++) {
            r[pr + t] = c[pc + t] != 0 ? x[px + t * sx] : y[py + t * sy];
        }
    }
}
