package dev.spool.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import dev.spool.Device;
import dev.spool.Shape;
import dev.spool.TensorScope;
import dev.spool.nn.data.FashionMnist;
import dev.spool.nn.io.Checkpoint;
import dev.spool.nn.layers.Sequential;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The Fashion-MNIST CNN as shipped, on every device, trained for one epoch on the first training
 * images and tested on the first test images: 5,000 and 2,000 on {@code cpu}; 2,560 and 1,000 on
 * OpenCL devices, whose convolution kernels are still the plain ones (PoCL took 140 s for 5,000 on
 * a loaded 2-core machine, {@code cpu} 51 s). It needs Debian's {@code dataset-fashion-mnist}:
 * skipped, with the reason, where it is not installed, unless {@code SPOOL_REQUIRE_FASHION_MNIST=1}
 * (CI installs it) makes that a failure.
 */
class FashionMnistCnnTest {
    /**
     * A subset and the test accuracy it must reach. Adam's first 40 steps take this model from
     * chance (0.10) to about 0.70 on these images, its first 20 to about 0.63 (on cpu when
     * written); the bounds leave room for another device's rounding while failing a model that
     * does not learn.
     */
    record Plan(int train, int test, double minTestAccuracy) {
    }

    static Plan plan(Device device) {
        return device == Device.cpu() ? new Plan(5000, 2000, 0.60) : new Plan(2560, 1000, 0.50);
    }

    static Stream<Device> devices() {
        return Device.list().stream();
    }

    static Path data() {
        Path where = FashionMnist.directory();
        boolean present = FashionMnist.available(where);
        if (!present && "1".equals(System.getenv("SPOOL_REQUIRE_FASHION_MNIST"))) {
            throw new AssertionError("SPOOL_REQUIRE_FASHION_MNIST=1 but Fashion-MNIST is not in " + where
                    + ": apt-get install dataset-fashion-mnist");
        }
        Assumptions.assumeTrue(present, "Fashion-MNIST is not in " + where + " (apt-get install dataset-fashion-mnist)");
        return where;
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void oneEpochOnASubsetClassifiesTheTestImages(Device device, @TempDir Path dir) throws IOException {
        Path data = data();
        Plan plan = plan(device);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        FashionMnistCnn.Result r = new FashionMnistCnn(new PrintStream(bytes, true, StandardCharsets.UTF_8))
                .run(device, data, dir, new FashionMnistCnn.Options(1, plan.train(), plan.test(), 128, 1));
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertEquals(plan.train(), r.trainImages());
        assertEquals(plan.test(), r.testImages());
        assertTrue(r.finalTestAccuracy() >= plan.minTestAccuracy(), "test accuracy " + r.finalTestAccuracy() + "\n" + printed);
        assertTrue(r.trainLosses().get(0) < Math.log(10), "the mean loss is below chance's ln 10: " + r.trainLosses());
        assertTrue(printed.contains("epoch 1/1: loss ") && printed.contains("test accuracy"), printed);

        // the confusion matrix counts every test image once, its diagonal the right ones
        int total = 0;
        int right = 0;
        for (int t = 0; t < 10; t++) {
            for (int p = 0; p < 10; p++) {
                total += r.confusion()[t][p];
                right += t == p ? r.confusion()[t][p] : 0;
            }
        }
        assertEquals(plan.test(), total);
        assertEquals(r.finalTestAccuracy(), (double) right / plan.test(), 1e-12);

        assertPicture(r.confusionPlot(), 750, 700);
        assertPicture(r.samplesPlot(), 900, 600);

        // the checkpoint restores a model that predicts exactly as the trained one did
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            Sequential restored = FashionMnistCnn.model(99).build(Shape.of(1, 28, 28, 1), DType.FLOAT32);
            Checkpoint.restore(r.checkpoint(), restored);
            FashionMnist.Data test = FashionMnist.load(data, FashionMnist.Split.TEST, plan.test());
            int[] predicted = FashionMnistCnn.predict(restored, test);
            assertEquals(r.finalTestAccuracy(), FashionMnistCnn.accuracy(predicted, test.labels()), 1e-12);
        }
    }

    @org.junit.jupiter.api.Test
    void scheduleFlagTakesConstantOrCosineAndNamesABadValue() {
        assertEquals(false, FashionMnistCnn.schedule("constant"));
        assertEquals(true, FashionMnistCnn.schedule("cosine"));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> FashionMnistCnn.schedule("linear"));
        assertTrue(e.getMessage().contains("constant or cosine") && e.getMessage().contains("linear"), e.getMessage());
    }

    /** A PNG at least {@code width}x{@code height} with more than a few colours (not blank). */
    static void assertPicture(Path file, int width, int height) throws IOException {
        assertTrue(Files.size(file) > 10_000, file + " has " + Files.size(file) + " bytes");
        BufferedImage image = ImageIO.read(file.toFile());
        assertTrue(image.getWidth() >= width && image.getHeight() >= height,
                file + ": " + image.getWidth() + "x" + image.getHeight());
        Set<Integer> colours = new HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 3) {
            for (int x = 0; x < image.getWidth(); x += 3) {
                colours.add(image.getRGB(x, y));
            }
        }
        assertTrue(colours.size() > 50, file + ": " + colours.size() + " colours");
    }
}
