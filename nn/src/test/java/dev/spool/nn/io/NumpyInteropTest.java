package dev.spool.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.nn.layers.Activation;
import dev.spool.nn.layers.Dense;
import dev.spool.nn.layers.Sequential;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * CONDITIONAL: the cross-check with the real NumPy. Spool writes {@code .npy}/{@code .npz}
 * files and a model checkpoint, {@code numpy_interop.py} checks them in NumPy (by variable name,
 * computing the model's forward pass), then writes files for Spool to read, including the
 * big-endian, Fortran-order and object arrays Spool must refuse with a reason.
 *
 * <p>It runs only where {@code python3} can import {@code numpy}; elsewhere it is reported as
 * <em>skipped</em> with the reason (never passed), and with {@code SPOOL_REQUIRE_NUMPY=1} a
 * missing NumPy fails it. {@link NpyFormatTest} checks the format byte by byte without NumPy.
 */
public class NumpyInteropTest {

    static float[] f32() {
        float[] v = new float[12];
        for (int i = 0; i < 12; i++) {
            v[i] = i / 8f - 0.5f;
        }
        return v;
    }

    static double[] f64(double plus) {
        double[] v = new double[6];
        for (int i = 0; i < 6; i++) {
            v[i] = i * Math.PI + plus;
        }
        return v;
    }

    static Map<String, NpyArray> arrays() {
        Map<String, NpyArray> m = new LinkedHashMap<>();
        m.put("f32", new NpyArray(DType.FLOAT32, new int[] {3, 4}, f32()));
        m.put("f64", new NpyArray(DType.FLOAT64, new int[] {2, 3}, f64(0)));
        int[] i32 = new int[5];
        for (int i = 0; i < 5; i++) {
            i32[i] = i * -1000003;
        }
        m.put("i32", new NpyArray(DType.INT32, new int[] {5}, i32));
        long[] i64 = new long[4];
        for (int i = 0; i < 4; i++) {
            i64[i] = i * (1L << 40) - 7;
        }
        m.put("i64", new NpyArray(DType.INT64, new int[] {4}, i64));
        byte[] b = new byte[7];
        for (int i = 0; i < 7; i++) {
            b[i] = (byte) (i % 3 == 0 ? 1 : 0);
        }
        m.put("b", new NpyArray(DType.BOOL, new int[] {7}, b));
        m.put("scalar", new NpyArray(DType.FLOAT32, new int[0], new float[] {2.5f}));
        m.put("layer/kernel", new NpyArray(DType.FLOAT32, new int[] {0, 2}, new float[0]));
        return m;
    }

    /** "python3 can import numpy", or why not. */
    public static String numpyUnavailableReason() {
        try {
            Process p = new ProcessBuilder("python3", "-c", "import numpy").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return "python3 -c 'import numpy' did not finish";
            }
            return p.exitValue() == 0 ? null : "python3 cannot import numpy: " + out.strip();
        } catch (IOException e) {
            return "no python3: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    @Test
    void numpyReadsWhatSpoolWritesAndSpoolReadsWhatNumpyWrites(@TempDir Path dir) throws Exception {
        String why = numpyUnavailableReason();
        if (why != null && "1".equals(System.getenv("SPOOL_REQUIRE_NUMPY"))) {
            throw new AssertionError("SPOOL_REQUIRE_NUMPY=1 but " + why);
        }
        Assumptions.assumeTrue(why == null, "CONDITIONAL numpy cross-check skipped: " + why);

        Npz.writeArrays(dir.resolve("from_java.npz"), arrays());
        Npy.write(dir.resolve("from_java_f32.npy"), arrays().get("f32"));
        float[] spoolForward;
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope s = new TensorScope()) {
            Sequential model = new Sequential(new Dense(3, 5, Activation.RELU, 3), new Dense(5, 2, Activation.LINEAR, 4));
            model.variables().get("dense/bias").assign(Spool.constant(new float[] {0.1f, -0.2f, 0.3f, 0, 0.05f}));
            Checkpoint.save(dir.resolve("model.npz"), model);
            Tensor x = Spool.constant(new float[][] {{1, -2, 0.5f}, {0.3f, 0.3f, -1}, {2, 1, 0}});
            Npy.write(dir.resolve("x.npy"), x);
            spoolForward = model.call(x).toFloatArray();
        }

        Path script = dir.resolve("numpy_interop.py");
        try (InputStream in = NumpyInteropTest.class.getResourceAsStream("numpy_interop.py")) {
            Files.copy(in, script);
        }
        Process p = new ProcessBuilder("python3", script.toString(), dir.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "numpy script timed out");
        assertEquals(0, p.exitValue(), "numpy rejected Spool's files:\n" + out);
        assertTrue(out.startsWith("ok"), out);

        NpyArray numpyForward = Npy.read(dir.resolve("numpy_forward.npy"));
        assertArrayEquals(new int[] {3, 2}, numpyForward.shape());
        float[] nf = (float[]) numpyForward.data();
        for (int i = 0; i < nf.length; i++) {
            assertEquals(nf[i], spoolForward[i], 1e-5, "forward pass from the checkpoint, element " + i);
        }

        for (String file : new String[] {"from_numpy.npz", "from_numpy_compressed.npz"}) {
            Map<String, NpyArray> back = Npz.read(dir.resolve(file));
            Map<String, NpyArray> want = arrays();
            want.put("f64", new NpyArray(DType.FLOAT64, new int[] {2, 3}, f64(1)));
            assertEquals(want.keySet(), back.keySet(), file);
            for (String k : want.keySet()) {
                NpyArray w = want.get(k);
                NpyArray g = back.get(k);
                assertEquals(w.dtype(), g.dtype(), file + " " + k);
                assertArrayEquals(w.shape(), g.shape(), file + " " + k);
                assertTrue(java.util.Objects.deepEquals(w.data(), g.data()), file + " " + k);
            }
        }
        assertRefused(dir.resolve("big_endian.npy"), "big-endian");
        assertRefused(dir.resolve("fortran.npy"), "Fortran-order");
        assertRefused(dir.resolve("object.npy"), "object arrays");
        assertRefused(dir.resolve("uint8.npy"), "'|u1' is not supported");
    }

    private static void assertRefused(Path file, String reason) {
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> Npy.read(file));
        assertTrue(e.getMessage().contains(reason), e.getMessage());
    }
}
