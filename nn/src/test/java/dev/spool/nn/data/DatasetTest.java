package dev.spool.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.ShapeException;
import dev.spool.Shape;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

class DatasetTest {

    /** Features x[i] = (i, 10 i), labels y[i] = i, for i < n. */
    static Dataset numbered(int n) {
        float[][] x = new float[n][2];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            x[i][0] = i;
            x[i][1] = 10 * i;
            y[i] = i;
        }
        return Dataset.fromTensors(Spool.constant(x), Spool.constant(y));
    }

    static List<int[]> labelsOf(Dataset d) {
        List<int[]> out = new ArrayList<>();
        for (List<Tensor> batch : d) {
            float[] x = batch.get(0).toFloatArray();
            int[] y = batch.get(1).toIntArray();
            for (int i = 0; i < y.length; i++) {
                assertEquals(y[i], x[2 * i], "features and labels stay paired");
                assertEquals(10 * y[i], x[2 * i + 1]);
            }
            out.add(y);
        }
        return out;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void batchesInOrderWithTheRemainderLast(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Dataset d = numbered(7).batch(3);
            assertEquals(3, d.batchesPerEpoch());
            List<int[]> batches = labelsOf(d);
            assertEquals(3, batches.size());
            assertArrayEquals(new int[] {0, 1, 2}, batches.get(0));
            assertArrayEquals(new int[] {6}, batches.get(2));
            assertEquals(2, labelsOf(numbered(7).batch(3, true)).size());
            assertEquals(6, labelsOf(numbered(7).batch(3).repeat(2)).size());
            for (List<Tensor> b : numbered(7).batch(3)) {
                assertSame(device, b.get(0).device());
                assertEquals(Shape.of(b.get(1).shape().dim(0), 2), b.get(0).shape());
            }
            assertEquals(7, labelsOf(numbered(7)).size(), "without batch(): batches of one");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.spool.nn.NnDevices#devices")
    void shuffleIsASeededPermutationThatChangesEachEpoch(Device device) {
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            List<int[]> a = labelsOf(numbered(20).shuffle(5).batch(20).repeat(3));
            List<int[]> again = labelsOf(numbered(20).shuffle(5).batch(20).repeat(3));
            List<int[]> other = labelsOf(numbered(20).shuffle(6).batch(20));
            assertEquals(3, a.size());
            for (int e = 0; e < 3; e++) {
                int[] sorted = a.get(e).clone();
                Arrays.sort(sorted);
                int[] all = new int[20];
                Arrays.setAll(all, i -> i);
                assertArrayEquals(all, sorted, "every sample once per epoch");
                assertArrayEquals(a.get(e), again.get(e), "same seed, same order");
            }
            assertFalse(Arrays.equals(a.get(0), a.get(1)), "a new order each epoch");
            assertFalse(Arrays.equals(a.get(0), other.get(0)), "another seed, another order");
            int[] identity = new int[20];
            Arrays.setAll(identity, i -> i);
            assertFalse(Arrays.equals(identity, a.get(0)), "actually shuffled");
        }
    }

    @Test
    void repeatForeverKeepsGoing() {
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope s = new TensorScope()) {
            var it = numbered(3).batch(2).repeat().iterator();
            for (int i = 0; i < 25; i++) {
                assertTrue(it.hasNext());
                it.next();
            }
            assertThrows(ShapeException.class, () -> Dataset.fromTensors(Spool.zeros(3, 2), Spool.zeros(4)));
            assertThrows(ShapeException.class, () -> numbered(3).batch(0));
        }
    }

    @Test
    void csvOfNumbersWithHeaderAndErrors() throws IOException {
        Csv csv = Csv.read(new StringReader("a,b,label\n1.5,2,0\n\n-3,4e-1,2\n"), "inline", true);
        assertEquals(List.of("a", "b", "label"), csv.header());
        assertEquals(2, csv.rows());
        assertEquals(3, csv.columns());
        assertEquals(0.4, csv.get(1, 1));
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope s = new TensorScope()) {
            Tensor x = csv.columns(DType.FLOAT32, 0, 1);
            assertArrayEquals(new float[] {1.5f, 2, -3, 0.4f}, x.toFloatArray());
            assertEquals(Shape.of(2, 2), x.shape());
            Tensor y = csv.column(DType.INT32, 2);
            assertEquals(DType.INT32, y.dtype());
            assertArrayEquals(new int[] {0, 2}, y.toIntArray());
            assertThrows(dev.spool.DTypeException.class, () -> csv.column(DType.INT32, 0), "1.5 is not an integer");
        }
        CsvFormatException e = assertThrows(CsvFormatException.class,
                () -> Csv.read(new StringReader("1,2\n3,x\n"), "bad.csv", false));
        assertEquals("bad.csv line 2, column 2: 'x' is not a number", e.getMessage());
        CsvFormatException ragged = assertThrows(CsvFormatException.class,
                () -> Csv.read(new StringReader("1,2\n3\n"), "ragged.csv", false));
        assertEquals("ragged.csv line 2: 1 columns, expected 2", ragged.getMessage());
    }
}
