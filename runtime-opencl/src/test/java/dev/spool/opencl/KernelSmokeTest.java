package dev.spool.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.Conv2dGeometry;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.FusedElementwise;
import dev.spool.spi.Philox;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.UnaryOp;
import dev.spool.spi.View;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Launches every kernel of every program at least once, on small inputs, with both kernel
 * strategies: the run that scripts/oclgrind-check.sh puts under the Oclgrind simulator to catch
 * out-of-bounds accesses, uninitialised reads and data races. Results are checked lightly here;
 * the other test classes check semantics.
 *
 * <p>Every dtype only with {@code -Dspool.test.allKernels=true} (the scripts set it): on PoCL
 * each kernel's first launch compiles it (~70 ms), and the other tests already launch most of
 * them, so the default run keeps to float32.
 */
@ExtendWith(TestDevices.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KernelSmokeTest {
    static final boolean ALL_KERNELS = Boolean.getBoolean("spool.test.allKernels");

    static List<DType> dtypes(List<DType> of, OpenClBackend b) {
        return KernelCatalog.types(of, b.info().fp64()).stream()
                .filter(t -> ALL_KERNELS || t == DType.FLOAT32).toList();
    }

    @Order(1)
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void everyKernelRunsOnce(OpenClBackend b) {
        for (DType t : dtypes(KernelCatalog.ALL, b)) {
            elementwise(b, t);
            copies(b, t);
            indexing(b, t);
            if (t.isNumeric()) {
                reductions(b, t);
            }
            if (t.isFloating()) {
                matmulAndRandom(b, t);
                softmaxes(b, t);
                attention(b, t);
                trainingUpdates(b, t);
                convolutions(b, t);
                convolutionsAndPooling(b, t);
                batchNorm(b, t);
                fusedElementwise(b, t);
            }
        }
        b.synchronize();
    }

    /** Reductions and matmul have other kernels for the other strategy (GPU tree vs CPU chunks). */
    @Order(2)
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#otherStyleStream")
    void strategyKernelsRunOnce(OpenClBackend b) {
        for (DType t : dtypes(KernelCatalog.NUMERIC, b)) {
            reductions(b, t);
            if (t.isFloating()) {
                matmulAndRandom(b, t);
                softmaxes(b, t);
                attention(b, t);
                convolutions(b, t);
            }
        }
        b.synchronize();
    }

    /**
     * After the two above, proof that they launched every kernel function of the catalog for
     * every element type, so that the Oclgrind run covers them all; and that no program declares
     * a kernel the catalog does not know (dead code that nothing would check). Variants of one
     * kernel built with other non-type options (accumulator, output or cast target type, tile
     * sizes) count once. For the dtypes this run launched: all in the scripts' mode, else float32.
     */
    @Order(3)
    @ParameterizedTest(name = "{0}", autoCloseArguments = false)
    @MethodSource("dev.spool.opencl.TestDevices#devices")
    void everyCatalogKernelRanForEveryType(OpenClBackend b) {
        Map<ProgramCache.Key, Set<String>> created = b.programs().kernelsCreated();
        List<KernelCatalog.KernelRef> table = KernelCatalog.all(b.info().fp64());
        Set<String> missed = new TreeSet<>();
        for (KernelCatalog.KernelRef ref : table) {
            if (!ALL_KERNELS && ref.dtype() != DType.FLOAT32) {
                continue;
            }
            String type = ClTypes.options(ref.source().equals(KernelSources.COPY) ? "S" : "T", ref.dtype());
            boolean ran = created.entrySet().stream().anyMatch(e -> e.getKey().source().equals(ref.source())
                    && (e.getKey().options() + " ").startsWith(type + " ") && e.getValue().contains(ref.kernel()));
            if (!ran) {
                missed.add(ref.kernel() + " " + ref.dtype());
            }
        }
        assertEquals(Set.of(), missed, "catalog kernels never launched on " + b.info().name());
        Set<String> known = new HashSet<>();
        table.forEach(ref -> known.add(ref.kernel()));
        Set<String> unknown = new TreeSet<>();
        created.keySet().forEach(key -> b.programs().kernelsDeclared(key).stream()
                .filter(name -> !known.contains(name)).forEach(name -> unknown.add(key.source() + ": " + name)));
        assertEquals(Set.of(), unknown, "kernels no catalog entry names");
    }

    /**
     * A traced function's generated kernel (FusedKernels), with a dense, a broadcast-scalar and a
     * strided input: {@code tanh(x * s) + yᵀ}, against the same three primitives unfused.
     */
    private static void fusedElementwise(OpenClBackend b, DType t) {
        double[] v = new double[15];
        for (int i = 0; i < 15; i++) {
            v[i] = (i % 7) - 2.5;
        }
        DeviceBuffer x = Host.upload(b, t, v);
        DeviceBuffer s = Host.upload(b, t, new double[] {0.75});
        View dense = View.contiguous(x, 5, 3);
        View scalar = new View(s, new int[] {5, 3}, new long[] {0, 0}, 0);
        View strided = new View(x, new int[] {5, 3}, new long[] {1, 5}, 0);
        FusedElementwise p = new FusedElementwise(t, 3, List.of(FusedElementwise.Step.binary(BinaryOp.MUL, 0, 1),
                FusedElementwise.Step.unary(UnaryOp.TANH, 3), FusedElementwise.Step.binary(BinaryOp.ADD, 4, 2)));
        int before = b.programs().generatedPrograms();
        DeviceBuffer fused = b.allocate(t, 15);
        b.fusedElementwise(p, new View[] {dense, scalar, strided}, fused);
        assertEquals(before + 1, b.programs().generatedPrograms(), "the fused kernel is generated");
        DeviceBuffer m = b.allocate(t, 15);
        DeviceBuffer th = b.allocate(t, 15);
        DeviceBuffer sum = b.allocate(t, 15);
        b.binary(BinaryOp.MUL, dense, scalar, m);
        b.unary(UnaryOp.TANH, View.contiguous(m, 5, 3), th);
        b.binary(BinaryOp.ADD, View.contiguous(th, 5, 3), strided, sum);
        assertArrayEquals(Host.read(b, sum), Host.read(b, fused), 0.0,
                "fused tanh(x * s) + xᵀ against the primitives");
        for (DeviceBuffer d : new DeviceBuffer[] {x, s, fused, m, th, sum}) {
            b.release(d);
        }
    }

    /** A [3, 5] buffer and its transpose [5, 3] as a strided view. */
    private static void elementwise(OpenClBackend b, DType t) {
        double[] v = new double[15];
        for (int i = 0; i < 15; i++) {
            v[i] = t == DType.BOOL ? i % 2 : (i % 7) - 2 + (t.isFloating() ? 0.5 : 0);
        }
        DeviceBuffer x = Host.upload(b, t, v);
        DeviceBuffer y = Host.upload(b, t, v);
        View dense = View.contiguous(x, 15);
        View strided = new View(x, new int[] {5, 3}, new long[] {1, 5}, 0);
        View denseY = View.contiguous(y, 15);
        View stridedY = new View(y, new int[] {5, 3}, new long[] {1, 5}, 0);
        View scalarY = new View(y, new int[] {15}, new long[] {0}, 4); // one element, broadcast
        View rows = View.contiguous(x, 5, 3);
        View rowsY = new View(y, new int[] {5, 3}, new long[] {0, 1}, 2); // one row of 3, repeated
        DeviceBuffer out = b.allocate(t, 15);
        DeviceBuffer bools = b.allocate(DType.BOOL, 15);
        for (UnaryOp op : UnaryOp.values()) {
            if (KernelCatalog.accepts(op, t)) {
                b.unary(op, dense, out);
                b.unary(op, strided, out);
            }
        }
        for (BinaryOp op : BinaryOp.values()) {
            if (KernelCatalog.accepts(op, t)) {
                DeviceBuffer o = op.isComparison() ? bools : out;
                b.binary(op, dense, denseY, o);
                b.binary(op, strided, stridedY, o);
                b.binary(op, dense, scalarY, o);
                b.binary(op, scalarY, dense, o);
                b.binary(op, rows, rowsY, o);
            }
        }
        // binaryUnary: every epilogue (one program each) with every variant of ADD, every op with relu
        for (UnaryOp epilogue : UnaryOp.values()) {
            if (KernelCatalog.acceptsBinaryUnary(BinaryOp.ADD, epilogue, t)) {
                b.binaryUnary(BinaryOp.ADD, epilogue, dense, denseY, out);
                b.binaryUnary(BinaryOp.ADD, epilogue, strided, stridedY, out);
                b.binaryUnary(BinaryOp.ADD, epilogue, dense, scalarY, out);
                b.binaryUnary(BinaryOp.ADD, epilogue, scalarY, dense, out);
                b.binaryUnary(BinaryOp.ADD, epilogue, rows, rowsY, out);
            }
        }
        for (BinaryOp op : BinaryOp.values()) {
            if (KernelCatalog.acceptsBinaryUnary(op, UnaryOp.RELU, t)) {
                for (View[] ab : new View[][] {{dense, denseY}, {strided, stridedY}, {dense, scalarY}, {scalarY, dense},
                    {rows, rowsY}}) {
                    b.binaryUnary(op, UnaryOp.RELU, ab[0], ab[1], out);
                }
            }
        }
        if (KernelCatalog.acceptsBinaryUnary(BinaryOp.ADD, UnaryOp.RELU, t)) {
            b.binaryUnary(BinaryOp.ADD, UnaryOp.RELU, dense, denseY, out);
            double[] sum = Host.read(b, out);
            for (int i = 0; i < 15; i++) {
                assertEquals(Math.max(0, 2 * v[i]), sum[i], "binaryUnary ADD RELU " + t + " at " + i);
            }
        }
        b.binary(BinaryOp.EQUAL, strided, stridedY, bools);
        b.select(View.contiguous(bools, 15), dense, denseY, out);
        b.select(new View(bools, new int[] {5, 3}, new long[] {3, 1}, 0), strided, stridedY, out);
        assertArrayEquals(Host.read(b, strided), Host.read(b, out), "select " + t);
        release(b, x, y, out, bools);
    }

    private static void copies(OpenClBackend b, DType t) {
        DeviceBuffer src = Host.upload(b, t, 1, 0, 1, 1, 0, 1);
        for (DType d : KernelCatalog.types(KernelCatalog.ALL, b.info().fp64())) {
            DeviceBuffer dst = b.allocate(d, 6);
            b.fill(dst, 0);
            b.copy(View.contiguous(src, 6), View.contiguous(dst, 6));
            b.copy(new View(src, new int[] {3, 2}, new long[] {1, 3}, 0), View.contiguous(dst, 3, 2));
            assertArrayEquals(new double[] {1, 1, 0, 0, 1, 1}, Host.read(b, dst), t + " to " + d);
            b.release(dst);
        }
        b.release(src);
    }

    private static void indexing(OpenClBackend b, DType t) {
        DeviceBuffer params = Host.upload(b, t, 1, 0, 1, 1, 0, 1, 0, 1);
        for (DType it : KernelCatalog.INDEX) {
            DeviceBuffer idx = Host.upload(b, it, 3, -1, 0, 4, 1);
            DeviceBuffer out = b.allocate(t, 10);
            b.gather(View.contiguous(params, 2, 4, 1), View.contiguous(idx, 5), out);
            assertArrayEquals(new double[] {1, 0, 1, 0, 0, 1, 0, 0, 0, 1}, Host.read(b, out), "gather " + t);
            if (t.isNumeric()) {
                DeviceBuffer acc = b.allocate(t, 8);
                b.scatterAdd(View.contiguous(out, 2, 5, 1), View.contiguous(idx, 5), acc);
                assertArrayEquals(new double[] {1, 0, 0, 1, 0, 1, 0, 1}, Host.read(b, acc), "scatterAdd " + t);
                b.release(acc);
            }
            b.release(idx);
            b.release(out);
        }
        b.release(params);
    }

    /** Short rows, long rows (split in chunks: two passes) and strided rows, for every op. */
    private static void reductions(OpenClBackend b, DType t) {
        int len = 5000;
        double[] v = new double[len];
        for (int i = 0; i < len; i++) {
            v[i] = i % 3;
        }
        v[4321] = 7;
        DeviceBuffer x = Host.upload(b, t, v);
        DeviceBuffer out = b.allocate(t, 70);
        DeviceBuffer idx = b.allocate(DType.INT64, 70);
        for (ReduceOp op : ReduceOp.values()) {
            DeviceBuffer o = op.isArg() ? idx : out;
            b.reduce(op, View.contiguous(x, 1, len), 1, o);
            double want = switch (op) {
                case SUM -> java.util.Arrays.stream(v).sum();
                case PROD -> 0;
                case MAX -> 7;
                case MIN -> 0;
                case ARGMAX -> 4321;
                case ARGMIN -> 0;
            };
            assertEquals(want, Host.read(b, View.contiguous(o, 1))[0], op + " " + t);
            b.reduce(op, View.contiguous(x, 20, 5), 1, o);
            b.reduce(op, new View(x, new int[] {70, 4}, new long[] {1, 70}, 3), 1, o);
            b.reduce(op, new View(x, new int[] {2, 130}, new long[] {1, 2}, 0), 1, o);
        }
        reduceGroup(b, t, x);
        release(b, x, out, idx);
    }

    /**
     * A traced function's generated reduce_group (ReductionKernels.runGroup): a dense row long
     * enough for 16-wide loads, rows side by side along a strided axis (reduce_OP_columns's case
     * on CPUs) and short dense rows, against each reduced alone.
     */
    private static void reduceGroup(OpenClBackend b, DType t, DeviceBuffer x) {
        List<ReduceOp> ops = List.of(ReduceOp.SUM, ReduceOp.MAX, ReduceOp.MIN);
        List<View> xs = List.of(View.contiguous(x, 1, 40), new View(x, new int[] {70, 4}, new long[] {1, 70}, 3),
                View.contiguous(x, 20, 5));
        int[] rows = {1, 70, 20};
        List<DeviceBuffer> grouped = new java.util.ArrayList<>();
        List<DeviceBuffer> alone = new java.util.ArrayList<>();
        for (int i = 0; i < ops.size(); i++) {
            grouped.add(b.allocate(t, rows[i]));
            alone.add(b.allocate(t, rows[i]));
            b.reduce(ops.get(i), xs.get(i), 1, alone.get(i));
        }
        long before = b.programs().generatedPrograms();
        b.reduceGroup(ops, xs, new int[] {1, 1, 1}, grouped);
        assertEquals(before + 1, b.programs().generatedPrograms(), "the reduce group's kernel is generated");
        for (int i = 0; i < ops.size(); i++) {
            assertArrayEquals(Host.read(b, alone.get(i)), Host.read(b, grouped.get(i)), 0.0, "reduce group member " + i);
            release(b, grouped.get(i), alone.get(i));
        }
    }

    private static void matmulAndRandom(OpenClBackend b, DType t) {
        DeviceBuffer a = Host.upload(b, t, Host.range(2 * 33 * 17));
        DeviceBuffer c = Host.upload(b, t, Host.range(2 * 17 * 9));
        DeviceBuffer out = b.allocate(t, 2 * 33 * 9);
        b.matmul(View.contiguous(a, 2, 33, 17), View.contiguous(c, 2, 17, 9), out);
        double want = 0;
        for (int k = 0; k < 17; k++) {
            want += (double) (32 * 17 + k) * (k * 9 + 8);
        }
        assertEquals(want, Host.read(b, View.contiguous(out, 33 * 9))[33 * 9 - 1], 1e-6 * want, "matmul " + t);
        for (GemmConfig g : b.gemmTuner().candidates()) { // every member of the family the tuner may pick
            b.matmul(g, View.contiguous(a, 2, 33, 17), View.contiguous(c, 2, 17, 9), out);
            assertEquals(want, Host.read(b, View.contiguous(out, 33 * 9))[33 * 9 - 1], 1e-6 * want, "matmul " + g + " " + t);
        }
        // the packed kernel with blocks smaller than the product: slices of K (8, 8, 1), blocks
        // of M (16, 16, 1) and a partial panel of N, every path of its packing and stores
        GemmConfig small = GemmConfig.packed(4, 8, 16, 16, 8);
        b.matmul(small, View.contiguous(a, 2, 33, 17), View.contiguous(c, 2, 17, 9), out);
        double[] got = Host.read(b, out);
        for (int z = 0; z < 2; z++) {
            for (int i = 0; i < 33; i++) {
                for (int j = 0; j < 9; j++) {
                    double w = 0;
                    for (int k = 0; k < 17; k++) {
                        w += (double) (z * 33 * 17 + i * 17 + k) * (z * 17 * 9 + k * 9 + j);
                    }
                    assertEquals(w, got[(z * 33 + i) * 9 + j], 1e-6 * Math.max(1, w), "matmul " + small + " " + t);
                }
            }
        }
        DeviceBuffer r = b.allocate(t, 300);
        b.randomUniform(r, 7);
        double expected = t == DType.FLOAT32 ? Philox.uniformFloat(7, 299) : Philox.uniformDouble(7, 299);
        assertEquals(expected, Host.read(b, r)[299], "random " + t);
        release(b, a, c, out, r);
    }

    /**
     * The fused attention pair on [1, 2, 5, 7] scores with a mask broadcast over the heads and
     * causal, dv 4: query 0 sees key 0 only (its mask bit is set), so its output is v's row 0.
     */
    private static void attention(OpenClBackend b, DType t) {
        double[] q = new double[2 * 5 * 3];
        double[] kv = new double[2 * 7 * 3];
        double[] v = new double[2 * 7 * 4];
        double[] g = new double[2 * 5 * 4];
        for (int i = 0; i < kv.length; i++) {
            kv[i] = Math.sin(i);
        }
        for (int i = 0; i < q.length; i++) {
            q[i] = Math.cos(i);
        }
        for (int i = 0; i < v.length; i++) {
            v[i] = i * 0.1;
        }
        java.util.Arrays.fill(g, 1);
        double[] mask = new double[5 * 7];
        for (int i = 0; i < mask.length; i++) {
            mask[i] = i % 3 == 1 ? 0 : 1;
        }
        DeviceBuffer qb = Host.upload(b, t, q);
        DeviceBuffer kb = Host.upload(b, t, kv);
        DeviceBuffer vb = Host.upload(b, t, v);
        DeviceBuffer gb = Host.upload(b, t, g);
        DeviceBuffer mb = Host.upload(b, DType.BOOL, mask);
        DeviceBuffer out = b.allocate(t, 2 * 5 * 4);
        DeviceBuffer lse = b.allocate(t, 2 * 5);
        DeviceBuffer dq = b.allocate(t, q.length);
        DeviceBuffer dk = b.allocate(t, kv.length);
        DeviceBuffer dv = b.allocate(t, v.length);
        View qv = View.contiguous(qb, 1, 2, 5, 3);
        View kvv = View.contiguous(kb, 1, 2, 7, 3);
        View vv = View.contiguous(vb, 1, 2, 7, 4);
        View mv = new View(mb, new int[] {1, 2, 5, 7}, new long[] {35, 0, 7, 1}, 0);
        b.attention(qv, kvv, vv, mv, true, 0.5, out, lse);
        b.attentionGrad(qv, kvv, vv, mv, true, 0.5, View.contiguous(out, 1, 2, 5, 4), View.contiguous(gb, 1, 2, 5, 4),
                View.contiguous(lse, 1, 2, 5), dq, dk, dv);
        double[] o = Host.read(b, View.contiguous(out, 40));
        assertEquals(v[3], o[3], 1e-6, "attention " + t);
        // every query's p sums to 1, and dOut is ones: dv's values add up to the number of queries
        double sum = 0;
        for (double x : Host.read(b, View.contiguous(dv, v.length))) {
            sum += x;
        }
        assertEquals(2 * 5 * 4, sum, 1e-4, "attentionGrad " + t);
        for (DeviceBuffer x : new DeviceBuffer[] {qb, kb, vb, gb, mb, out, lse, dq, dk, dv}) {
            b.release(x);
        }
    }

    /**
     * The five fused softmax primitives on rows of 3 and on a strided (transposed) view, each
     * checked at one value: softmax of (0, 1, 2), loss of one-hot labels, and the VJPs.
     */
    private static void softmaxes(OpenClBackend b, DType t) {
        DeviceBuffer x = Host.upload(b, t, 0, 1, 2, 0, 1, 2);
        DeviceBuffer labels = Host.upload(b, t, 0, 0, 1, 0, 0, 1);
        DeviceBuffer g = Host.upload(b, t, 1, 1);
        DeviceBuffer out = b.allocate(t, 6);
        DeviceBuffer lsm = b.allocate(t, 6);
        DeviceBuffer loss = b.allocate(t, 2);
        DeviceBuffer dx = b.allocate(t, 6);
        double e = Math.exp(2) / (1 + Math.E + Math.exp(2));
        b.softmax(View.contiguous(x, 2, 3), out, false);
        assertEquals(e, Host.read(b, View.contiguous(out, 6))[5], 1e-6, "softmax " + t);
        b.softmax(new View(x, new int[] {3, 2}, new long[] {1, 3}, 0), out, true); // rows (0, 0), (1, 1), (2, 2)
        assertEquals(Math.log(0.5), Host.read(b, View.contiguous(out, 6))[5], 1e-6, "logSoftmax " + t);
        b.softmaxGrad(View.contiguous(x, 2, 3), View.contiguous(labels, 2, 3), dx, false); // y (g - sum(g y))
        assertEquals(2 * (1 - 2), Host.read(b, View.contiguous(dx, 6))[5], 1e-6, "softmaxGrad " + t);
        b.softmaxGrad(View.contiguous(x, 2, 3), View.contiguous(labels, 2, 3), dx, true); // g - exp(y) sum(g)
        assertEquals(1 - Math.exp(2), Host.read(b, View.contiguous(dx, 6))[5], 1e-5, "logSoftmaxGrad " + t);
        b.softmaxCrossEntropy(View.contiguous(labels, 2, 3), View.contiguous(x, 2, 3), loss, lsm);
        assertEquals(-Math.log(e), Host.read(b, View.contiguous(loss, 2))[1], 1e-6, "softmaxCrossEntropy " + t);
        b.softmaxCrossEntropyGrad(View.contiguous(g, 2), View.contiguous(lsm, 2, 3), View.contiguous(labels, 2, 3), dx);
        assertEquals(e - 1, Host.read(b, View.contiguous(dx, 6))[5], 1e-6, "softmaxCrossEntropyGrad " + t);
        DeviceBuffer dx2 = b.allocate(t, 6);
        b.softmaxCrossEntropyWithGrad(View.contiguous(labels, 2, 3), View.contiguous(x, 2, 3), View.contiguous(g, 2),
                loss, lsm, dx2);
        assertEquals(-Math.log(e), Host.read(b, View.contiguous(loss, 2))[1], 1e-6, "softmaxCrossEntropyWithGrad " + t);
        assertEquals(e - 1, Host.read(b, View.contiguous(dx2, 6))[5], 1e-6, "softmaxCrossEntropyWithGrad " + t);
        release(b, x, labels, g, out, lsm, loss, dx, dx2);
    }

    /** Each update once, with offsets, on values whose results are exact in float32. */
    private static void trainingUpdates(OpenClBackend b, DType t) {
        DeviceBuffer w = Host.upload(b, t, 0, 1, 2, 3, 4);
        DeviceBuffer g = Host.upload(b, t, 9, 2, 4, 8, 16);
        DeviceBuffer s1 = Host.upload(b, t, 1, 1, 1, 1);
        DeviceBuffer s2 = Host.upload(b, t, 0, 0, 0, 0);
        View var = new View(w, new int[] {4}, new long[] {1}, 1);
        View grad = new View(g, new int[] {4}, new long[] {1}, 1);
        DeviceBuffer o1 = b.allocate(t, 4);
        DeviceBuffer o2 = b.allocate(t, 4);
        DeviceBuffer o3 = b.allocate(t, 4);
        b.applyGradientDescent(var, grad, 0.5, o1);
        assertArrayEquals(new double[] {0, 0, -1, -4}, Host.read(b, o1), "applyGradientDescent " + t);
        for (boolean keras : new boolean[] {false, true}) {
            b.applyMomentum(var, View.contiguous(s1, 4), grad, 0.5, 0.5, true, keras, o1, o2);
            // accum = 0.5 + g (TF) or 0.5 - g/2 (Keras)
            assertArrayEquals(keras ? new double[] {-0.5, -1.5, -3.5, -7.5} : new double[] {2.5, 4.5, 8.5, 16.5},
                    Host.read(b, o2), "applyMomentum " + t + (keras ? " keras" : ""));
        }
        b.applyAdam(var, View.contiguous(s2, 4), View.contiguous(s2, 4), grad, 0.5, 0.5, 0.75, 0, o1, o2, o3);
        assertArrayEquals(new double[] {1, 2, 4, 8}, Host.read(b, o2), "applyAdam m " + t);
        assertArrayEquals(new double[] {1, 4, 16, 64}, Host.read(b, o3), "applyAdam v " + t);
        // var - m * 0.5 / sqrt(v) = var - 0.5
        assertArrayEquals(new double[] {0.5, 1.5, 2.5, 3.5}, Host.read(b, o1), "applyAdam var " + t);
        release(b, w, g, s1, s2, o1, o2, o3);
    }

    /**
     * Each convolution kernel once, against the plain kernels at every element: the implicit
     * GEMMs (x [2, 5, 4, 3], a 3x3 window with pads on every side, 2 output channels) with the
     * style's default and with a packed configuration of blocks smaller than the product (slices
     * of 8 cells: several per window, and cells split across slices; partial panels), the
     * depthwise kernels (3 channels, multiplier 2), and the plain ones themselves. Every other
     * configuration runs in ConvKernelsTest; under Oclgrind each costs seconds.
     */
    private static void convolutions(OpenClBackend b, DType t) {
        Conv2dGeometry g = new Conv2dGeometry(2, 5, 4, 3, 3, 3, 2, 1, 5, 4, 1, 1, 1, 1, 1, 1);
        Conv2dGeometry dw = new Conv2dGeometry(2, 5, 4, 3, 3, 3, 6, 3, 3, 2, 2, 2, 1, 1, 1, 1);
        ConvGemmKernels gemms = b.convs().gemms();
        for (Conv2dGeometry geometry : List.of(g, dw)) {
            for (ConvKernels.Kind kind : List.of(ConvKernels.Kind.CONV2D, ConvKernels.Kind.BACKPROP_INPUT,
                    ConvKernels.Kind.BACKPROP_FILTER)) {
                long[] sizes = switch (kind) { // the two inputs and the output
                    case CONV2D -> new long[] {geometry.inputSize(), geometry.filterSize(), geometry.outputSize()};
                    case BACKPROP_INPUT -> new long[] {geometry.outputSize(), geometry.filterSize(), geometry.inputSize()};
                    default -> new long[] {geometry.inputSize(), geometry.outputSize(), geometry.filterSize()};
                };
                DeviceBuffer x = Host.upload(b, t, Host.range((int) sizes[0]));
                DeviceBuffer y = Host.upload(b, t, Host.range((int) sizes[1]));
                DeviceBuffer want = b.allocate(t, sizes[2]);
                DeviceBuffer got = b.allocate(t, sizes[2]);
                View xv = View.contiguous(x, (int) sizes[0]);
                View yv = View.contiguous(y, (int) sizes[1]);
                b.conv(kind, geometry, want, sizes[2], ConvKernels.Path.PLAIN, null, xv, yv);
                double[] expected = Host.read(b, want);
                List<GemmConfig> configs = new java.util.ArrayList<>();
                configs.add(null); // the backend's choice: the depthwise kernels for dw
                if (gemms.covers(kind.gemm(), geometry)) {
                    configs.add(GemmConfig.packed(4, 8, 16, 16, 8));
                }
                for (GemmConfig c : configs) {
                    b.conv(kind, geometry, got, sizes[2], ConvKernels.Path.CHOSEN, c, xv, yv);
                    double[] actual = Host.read(b, got);
                    for (int i = 0; i < expected.length; i++) {
                        assertEquals(expected[i], actual[i], 1e-6 * Math.abs(expected[i]),
                                kind + " " + c + " " + t + " " + geometry + " element " + i);
                    }
                }
                release(b, x, y, want, got);
            }
        }
    }

    /**
     * The three convolutions (the backend's chosen kernels) and the four pooling kernels on a
     * [1, 3, 3, 2] image (values 1..18, read from an offset of 1) with a 2x2 window, each checked
     * at one value.
     */
    private static void convolutionsAndPooling(OpenClBackend b, DType t) {
        double[] values = new double[19];
        for (int i = 1; i < values.length; i++) {
            values[i] = i;
        }
        DeviceBuffer xb = Host.upload(b, t, values);
        View x = new View(xb, new int[] {1, 3, 3, 2}, View.rowMajorStrides(new int[] {1, 3, 3, 2}), 1);
        DeviceBuffer f = Host.upload(b, t, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1);
        DeviceBuffer ones = Host.upload(b, t, 1, 1, 1, 1, 1, 1, 1, 1);
        Conv2dGeometry conv = new Conv2dGeometry(1, 3, 3, 2, 2, 2, 2, 1, 2, 2, 1, 1, 1, 1, 0, 0);
        Conv2dGeometry pool = new Conv2dGeometry(1, 3, 3, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0);
        DeviceBuffer y = b.allocate(t, 8);
        DeviceBuffer dx = b.allocate(t, 18);
        DeviceBuffer df = b.allocate(t, 16);
        b.conv2d(x, View.contiguous(f, 2, 2, 2, 2), conv, y);
        assertEquals(1 + 2 + 3 + 4 + 7 + 8 + 9 + 10, Host.read(b, View.contiguous(y, 8))[0], 1e-6, "conv2d " + t);
        b.conv2dBackpropInput(View.contiguous(ones, 1, 2, 2, 2), View.contiguous(f, 2, 2, 2, 2), conv, dx);
        assertEquals(8, Host.read(b, View.contiguous(dx, 18))[8], 1e-6, "conv2dBackpropInput (centre) " + t);
        b.conv2dBackpropFilter(x, View.contiguous(ones, 1, 2, 2, 2), conv, df);
        assertEquals(1 + 3 + 7 + 9, Host.read(b, View.contiguous(df, 16))[0], 1e-6, "conv2dBackpropFilter " + t);
        b.maxPool2d(x, x, pool, y);
        assertEquals(9, Host.read(b, View.contiguous(y, 8))[0], 1e-6, "maxPool2d " + t);
        b.maxPool2dGrad(x, View.contiguous(ones, 1, 2, 2, 2), pool, dx);
        assertEquals(1, Host.read(b, View.contiguous(dx, 18))[8], 1e-6, "maxPool2dGrad " + t);
        // windows that share no cell (2x2, stride 2) take max_pool_grad_windows_vec
        Conv2dGeometry disjoint = new Conv2dGeometry(1, 3, 3, 2, 2, 2, 2, 2, 1, 1, 2, 2, 1, 1, 0, 0);
        b.maxPool2dGrad(x, View.contiguous(ones, 1, 1, 1, 2), disjoint, dx);
        double[] windows = Host.read(b, View.contiguous(dx, 18));
        assertEquals(1, windows[8], 1e-6, "maxPool2dGrad, disjoint windows, selected cell " + t);
        assertEquals(0, windows[0], 1e-6, "maxPool2dGrad, disjoint windows, other cell " + t);
        b.avgPool2d(x, pool, y);
        assertEquals((1 + 3 + 7 + 9) / 4.0, Host.read(b, View.contiguous(y, 8))[0], 1e-6, "avgPool2d " + t);
        b.avgPool2dGrad(View.contiguous(ones, 1, 2, 2, 2), pool, dx);
        assertEquals(1, Host.read(b, View.contiguous(dx, 18))[8], 1e-6, "avgPool2dGrad (centre) " + t);
        release(b, xb, f, ones, y, dx, df);
    }

    /** Batch normalization's eight kernels on [3, 2] (offset 1): channel 0 is 1, 3, 5 (mean 3, variance 8/3). */
    private static void batchNorm(OpenClBackend b, DType t) {
        DeviceBuffer xb = Host.upload(b, t, 0, 1, 2, 3, 4, 5, 6);
        View x = new View(xb, new int[] {3, 2}, new long[] {2, 1}, 1);
        DeviceBuffer scale = Host.upload(b, t, 1, 1);
        DeviceBuffer offset = Host.upload(b, t, 0, 0);
        DeviceBuffer y = b.allocate(t, 6);
        DeviceBuffer mean = b.allocate(t, 2);
        DeviceBuffer var = b.allocate(t, 2);
        b.batchNormTraining(x, View.contiguous(scale, 2), View.contiguous(offset, 2), 0, y, mean, var);
        assertEquals(3, Host.read(b, View.contiguous(mean, 2))[0], 1e-6, "batchNormTraining mean " + t);
        assertEquals(8 / 3.0, Host.read(b, View.contiguous(var, 2))[0], 1e-5, "batchNormTraining variance " + t);
        DeviceBuffer dx = b.allocate(t, 6);
        DeviceBuffer dscale = b.allocate(t, 2);
        DeviceBuffer doffset = b.allocate(t, 2);
        b.batchNormTrainingGrad(x, x, View.contiguous(scale, 2), View.contiguous(mean, 2), View.contiguous(var, 2), 0,
                dx, dscale, doffset);
        assertEquals(9, Host.read(b, View.contiguous(doffset, 2))[0], 1e-5, "batchNormTrainingGrad doffset " + t);
        // and the three-launch kernels, which take over past the device's loop limit
        b.norms().forward(x, View.contiguous(scale, 2), View.contiguous(offset, 2), 0, (OpenClBuffer) y,
                (OpenClBuffer) mean, (OpenClBuffer) var, true);
        assertEquals(8 / 3.0, Host.read(b, View.contiguous(var, 2))[0], 1e-5, "batchNormTraining, chunked " + t);
        b.norms().backward(x, x, View.contiguous(scale, 2), View.contiguous(mean, 2), View.contiguous(var, 2), 0,
                (OpenClBuffer) dx, (OpenClBuffer) dscale, (OpenClBuffer) doffset, true);
        assertEquals(9, Host.read(b, View.contiguous(doffset, 2))[0], 1e-5, "batchNormTrainingGrad, chunked " + t);
        release(b, xb, scale, offset, y, mean, var, dx, dscale, doffset);
    }

    private static void release(OpenClBackend b, DeviceBuffer... buffers) {
        for (DeviceBuffer buf : buffers) {
            b.release(buf);
        }
    }
}
