package dev.spool.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import dev.spool.nn.data.Csv;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The training examples as shipped, on every device Spool finds ({@code cpu} and each OpenCL
 * device; {@link AutodiffTutorialTest#openClIsPresentWhenRequired} fails CI without OpenCL).
 */
class TrainingExamplesTest {

    static Stream<Device> devices() {
        return Device.list().stream();
    }

    private static PrintStream capture(ByteArrayOutputStream bytes) {
        return new PrintStream(bytes, true, StandardCharsets.UTF_8);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void customTrainingBasicsFitsThreeXPlusTwo(Device device) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CustomTrainingBasics.Result r = new CustomTrainingBasics(capture(bytes)).run(device);
        assertEquals(3.0, r.w(), 0.1, "W");
        assertEquals(2.0, r.b(), 0.1, "b");
        assertEquals(CustomTrainingBasics.EPOCHS, r.losses().size());
        assertTrue(r.losses().get(r.losses().size() - 1) < 0.2 * r.losses().get(0), "loss falls: " + r.losses());
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("Epoch  0: W=") && printed.contains("Fitted W = "), printed);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void irisClassifierGeneralisesToHeldOutFlowers(Device device) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        IrisWalkthrough.Result r = new IrisWalkthrough(capture(bytes)).run(device);
        assertTrue(r.testAccuracy() >= 0.9, "held-out accuracy " + r.testAccuracy() + "\n" + bytes);
        assertTrue(r.epochLosses().get(IrisWalkthrough.EPOCHS - 1) < 0.5 * r.epochLosses().get(0), "loss falls");
        assertTrue(bytes.toString(StandardCharsets.UTF_8).contains("Test set accuracy: "));
    }

    /** The shipped data against the published per-species means of Fisher's Iris data. */
    @Test
    void irisDataHasFishersSpeciesMeans() {
        Csv csv = Csv.readResource(IrisWalkthrough.class, "iris.csv", true);
        assertEquals(150, csv.rows());
        double[][] published = { // sepal length, sepal width, petal length, petal width
                {5.006, 3.428, 1.462, 0.246}, {5.936, 2.770, 4.260, 1.326}, {6.588, 2.974, 5.552, 2.026}};
        double[][] sums = new double[3][4];
        int[] counts = new int[3];
        for (int r = 0; r < 150; r++) {
            int species = (int) csv.get(r, 4);
            counts[species]++;
            for (int c = 0; c < 4; c++) {
                sums[species][c] += csv.get(r, c);
            }
        }
        for (int s = 0; s < 3; s++) {
            assertEquals(50, counts[s]);
            for (int c = 0; c < 4; c++) {
                assertEquals(published[s][c], sums[s][c] / 50, 1e-9, "species " + s + " column " + c);
            }
        }
        // First and last rows of the classic table.
        assertEquals(5.1, csv.get(0, 0));
        assertEquals(0.2, csv.get(0, 3));
        assertEquals(5.9, csv.get(149, 0));
        assertEquals(1.8, csv.get(149, 3));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void twoSpiralsAreSeparatedAndPlotted(Device device, @TempDir Path dir) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TwoSpirals.Result r = new TwoSpirals(capture(bytes)).run(device, dir, TwoSpirals.DEFAULT_STEPS);
        assertTrue(r.testAccuracy() >= 0.95, "test accuracy " + r.testAccuracy());
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("steps/s") && printed.contains(" loss "), "progress bar shows loss and speed");
        for (Path png : new Path[] {r.lossPlot(), r.boundaryPlot()}) {
            assertTrue(Files.isRegularFile(png), png + " exists");
            BufferedImage image = ImageIO.read(png.toFile());
            assertEquals(TwoSpirals.WIDTH, image.getWidth(), png.toString());
            assertEquals(TwoSpirals.HEIGHT, image.getHeight(), png.toString());
            assertTrue(lumaVariance(image) > 100, png + " is not blank: variance " + lumaVariance(image));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void twoSpiralsTrainAsATracedFunctionAsEagerly(Device device, @TempDir Path dir) throws Exception {
        int steps = 120; // the cosine schedule and Adam's step count advance inside the function
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TwoSpirals.Result eager = new TwoSpirals(capture(new ByteArrayOutputStream())).run(device,
                Files.createDirectories(dir.resolve("eager")), steps, false);
        TwoSpirals.Result traced = new TwoSpirals(capture(bytes)).run(device,
                Files.createDirectories(dir.resolve("function")), steps, true);
        for (int i = 0; i < steps; i++) {
            assertEquals(eager.losses().get(i), traced.losses().get(i), 1e-5 * Math.abs(eager.losses().get(i)),
                    "loss at step " + i);
        }
        assertEquals(eager.testAccuracy(), traced.testAccuracy());
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("as a traced function") && printed.contains("traces=1, replays=" + (steps - 1)),
                printed);
    }

    /** Variance of the pixels' brightness (0–255): about 0 for a blank or single-colour image. */
    static double lumaVariance(BufferedImage image) {
        double sum = 0;
        double sumSq = 0;
        long n = (long) image.getWidth() * image.getHeight();
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int rgb = image.getRGB(x, y);
                double l = 0.299 * (rgb >> 16 & 0xFF) + 0.587 * (rgb >> 8 & 0xFF) + 0.114 * (rgb & 0xFF);
                sum += l;
                sumSq += l * l;
            }
        }
        double mean = sum / n;
        return sumSq / n - mean * mean;
    }
}
