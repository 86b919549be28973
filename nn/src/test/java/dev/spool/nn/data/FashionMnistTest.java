package dev.spool.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.Shape;
import dev.spool.TensorScope;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Fashion-MNIST loader on small files written here, and on Debian's files
 * ({@code dataset-fashion-mnist}) where they are installed: skipped, with the reason, where they
 * are not, unless {@code SPOOL_REQUIRE_FASHION_MNIST=1} (CI, which installs them) makes that a
 * failure.
 */
class FashionMnistTest {
    @TempDir
    Path dir;

    /** Skips (or, where required, fails) when Debian's files are not installed. */
    static Path debianFiles() {
        Path where = FashionMnist.directory();
        boolean present = FashionMnist.available(where);
        if (!present && "1".equals(System.getenv("SPOOL_REQUIRE_FASHION_MNIST"))) {
            throw new AssertionError("SPOOL_REQUIRE_FASHION_MNIST=1 but Fashion-MNIST is not in " + where
                    + ": apt-get install dataset-fashion-mnist");
        }
        Assumptions.assumeTrue(present, "Fashion-MNIST is not in " + where + " (apt-get install dataset-fashion-mnist)");
        return where;
    }

    /** An IDX file of unsigned bytes, plain. */
    static void writeBytes(Path file, int[] dims, int[] values) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = new DataOutputStream(bytes);
        out.writeInt(0x0800 | dims.length);
        for (int d : dims) {
            out.writeInt(d);
        }
        for (int v : values) {
            out.writeByte(v);
        }
        Files.write(file, bytes.toByteArray());
    }

    /** {@code n} images whose pixel i of image k is (k·7 + i) mod 256, and labels k mod 10. */
    void writeSplit(FashionMnist.Split split, int n) throws IOException {
        int[] pixels = new int[n * 28 * 28];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (i / 784 * 7 + i % 784) % 256;
        }
        int[] labels = new int[n];
        for (int k = 0; k < n; k++) {
            labels[k] = (k * 3) % 10;
        }
        writeBytes(dir.resolve(split.imagesFile()), new int[] {n, 28, 28}, pixels);
        writeBytes(dir.resolve(split.labelsFile()), new int[] {n}, labels);
    }

    @Test
    void loadsScaledImagesAndLabelsFromADirectory() throws IOException {
        assertFalse(FashionMnist.available(dir));
        writeSplit(FashionMnist.Split.TRAIN, 5);
        writeSplit(FashionMnist.Split.TEST, 4);
        assertTrue(FashionMnist.available(dir));
        FashionMnist.Data train = FashionMnist.load(dir, FashionMnist.Split.TRAIN, 0);
        assertEquals(5, train.size());
        assertArrayEquals(new int[] {0, 3, 6, 9, 2}, train.labels());
        assertEquals(0f, train.images()[0]);
        assertEquals(255 / 255f, train.images()[255]);
        assertEquals(7 / 255f, train.images()[784], "image 1 starts at 7");
        FashionMnist.Data firstTwo = FashionMnist.load(dir, FashionMnist.Split.TEST, 2);
        assertEquals(2, firstTwo.size());
        assertEquals(2 * 784, firstTwo.images().length);
        assertEquals(4, FashionMnist.load(dir, FashionMnist.Split.TEST, 100).size(), "a limit above the size: all");
        try (Device.Scope on = Device.use(Device.cpu()); TensorScope s = new TensorScope()) {
            assertEquals(Shape.of(2, 28, 28, 1), firstTwo.imageTensor().shape());
            assertEquals(DType.FLOAT32, firstTwo.imageTensor().dtype());
            assertArrayEquals(new int[] {0, 3}, firstTwo.labelTensor().toIntArray());
            assertEquals(DType.INT32, firstTwo.labelTensor().dtype());
        }
    }

    @Test
    void missingFilesSayHowToInstallThem() {
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> FashionMnist.load(dir, FashionMnist.Split.TRAIN, 0));
        assertInstanceOf(FileNotFoundException.class, e.getCause());
        String m = e.getCause().getMessage();
        assertTrue(m.startsWith("Fashion-MNIST not found: no train-images-idx3-ubyte.gz (or train-images-idx3-ubyte) in "
                + dir), m);
        assertTrue(m.contains("sudo apt-get install dataset-fashion-mnist"), m);
        assertTrue(m.contains("-Dspool.fashionMnist.dir=DIR or SPOOL_FASHION_MNIST_DIR=DIR"), m);
    }

    @Test
    void filesThatAreNotFashionMnistAreRefused() throws IOException {
        writeSplit(FashionMnist.Split.TEST, 2);
        writeBytes(dir.resolve("t10k-images-idx3-ubyte"), new int[] {2, 27, 28}, new int[2 * 27 * 28]);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TEST, 0));
        assertEquals(dir.resolve("t10k-images-idx3-ubyte") + ": holds unsigned byte [2, 27, 28], not Fashion-MNIST's "
                + "unsigned byte [n, 28, 28] images", e.getMessage());
        writeSplit(FashionMnist.Split.TEST, 2);
        writeBytes(dir.resolve("t10k-labels-idx1-ubyte"), new int[] {3}, new int[] {1, 2, 3});
        assertTrue(assertThrows(IdxFormatException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TEST, 0))
                .getMessage().contains("not unsigned byte labels for the 2 images"));
        writeBytes(dir.resolve("t10k-labels-idx1-ubyte"), new int[] {2}, new int[] {1, 10});
        assertEquals(dir.resolve("t10k-labels-idx1-ubyte") + ": label 1 is 10; Fashion-MNIST's labels are 0 to 9",
                assertThrows(IdxFormatException.class, () -> FashionMnist.load(dir, FashionMnist.Split.TEST, 0))
                        .getMessage());
    }

    @Test
    void thePropertyNamesTheDirectory() {
        String before = System.getProperty(FashionMnist.DIRECTORY_PROPERTY);
        try {
            System.setProperty(FashionMnist.DIRECTORY_PROPERTY, dir.toString());
            assertEquals(dir, FashionMnist.directory());
            System.clearProperty(FashionMnist.DIRECTORY_PROPERTY);
            String env = System.getenv(FashionMnist.DIRECTORY_ENV);
            assertEquals(env != null && !env.isBlank() ? Path.of(env) : FashionMnist.DEBIAN_DIRECTORY,
                    FashionMnist.directory());
        } finally {
            if (before != null) {
                System.setProperty(FashionMnist.DIRECTORY_PROPERTY, before);
            }
        }
    }

    /** The labels of a split read straight from the gzipped file: the 8-byte header skipped. */
    static byte[] rawLabels(Path directory, FashionMnist.Split split) throws IOException {
        try (InputStream in = new GZIPInputStream(Files.newInputStream(directory.resolve(split.labelsFile() + ".gz")))) {
            byte[] all = in.readAllBytes();
            return java.util.Arrays.copyOfRange(all, 8, all.length);
        }
    }

    @Test
    void debiansFilesHoldZalandosDataSet() throws IOException {
        Path where = debianFiles();
        // Zalando's published sizes: 60,000 and 10,000 images, 6,000 and 1,000 of each class
        int[] expectedPerClass = {6000, 1000};
        FashionMnist.Split[] splits = {FashionMnist.Split.TRAIN, FashionMnist.Split.TEST};
        for (int s = 0; s < 2; s++) {
            FashionMnist.Data data = FashionMnist.load(where, splits[s], 0);
            assertEquals(expectedPerClass[s] * 10, data.size(), splits[s].name());
            int[] perClass = new int[10];
            for (int label : data.labels()) {
                perClass[label]++;
            }
            int[] balanced = new int[10];
            java.util.Arrays.fill(balanced, expectedPerClass[s]);
            assertArrayEquals(balanced, perClass, splits[s] + ": the classes are balanced");
            byte[] raw = rawLabels(where, splits[s]);
            for (int i = 0; i < data.size(); i++) {
                assertEquals(raw[i] & 0xFF, data.labels()[i], "label " + i);
            }
            float min = 1;
            float max = 0;
            double mean = 0;
            for (float v : data.images()) {
                min = Math.min(min, v);
                max = Math.max(max, v);
                mean += v / data.images().length;
            }
            assertEquals(0f, min);
            assertEquals(1f, max);
            assertTrue(mean > 0.2 && mean < 0.4, "mean grey level of clothes on black: " + mean);
        }
    }
}
