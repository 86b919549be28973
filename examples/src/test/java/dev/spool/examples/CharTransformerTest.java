package dev.spool.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.Device;
import dev.spool.TensorScope;
import dev.spool.nn.io.Checkpoint;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The character transformer as shipped, shortened: the same split, baselines and model, 120 steps
 * of 32 words on each device, which must beat the bigram's test loss (the full run must beat the
 * best n-gram; see the README). Needs Debian's {@code wamerican}: skipped, with the reason, where
 * {@code /usr/share/dict/words} is missing, unless {@code SPOOL_REQUIRE_WORDS=1} (CI installs it)
 * makes that a failure.
 */
class CharTransformerTest {
    static Stream<Device> devices() {
        return Device.list().stream();
    }

    static Path words() {
        boolean present = Files.isReadable(CharTransformer.WORDS);
        if (!present && "1".equals(System.getenv("SPOOL_REQUIRE_WORDS"))) {
            throw new AssertionError("SPOOL_REQUIRE_WORDS=1 but " + CharTransformer.WORDS
                    + " is missing: apt-get install wamerican");
        }
        Assumptions.assumeTrue(present, CharTransformer.WORDS + " is missing (apt-get install wamerican)");
        return CharTransformer.WORDS;
    }

    /** The split and the n-gram baselines, worked out here from the words by a second, plain count. */
    @Test
    void splitAndBaselines() {
        CharTransformer.Split split = CharTransformer.load(words(), 1);
        assertEquals(63875 - 6387, split.train().size(), "wamerican has 63,875 lowercase a-z words");
        assertEquals(6387, split.test().size());
        assertTrue(split.train().stream().allMatch(w -> w.matches("[a-z]+")));
        assertTrue(java.util.Collections.disjoint(new java.util.HashSet<>(split.train()), split.test()));
        List<CharTransformer.NGramResult> ngrams = CharTransformer.ngramBaselines(split);
        assertEquals(4, ngrams.size());
        // the bigram with its chosen k, recounted here with a 27 x 27 table
        double k = ngrams.get(0).k();
        double[][] counts = new double[27][27];
        for (String w : split.train()) {
            int prev = 0;
            for (int i = 0; i <= w.length(); i++) {
                int next = i < w.length() ? w.charAt(i) - 'a' + 1 : 0;
                counts[prev][next]++;
                prev = next;
            }
        }
        double nll = 0;
        long n = 0;
        for (String w : split.test()) {
            int prev = 0;
            for (int i = 0; i <= w.length(); i++) {
                int next = i < w.length() ? w.charAt(i) - 'a' + 1 : 0;
                double row = 0;
                for (double c : counts[prev]) {
                    row += c;
                }
                nll -= Math.log((counts[prev][next] + k) / (row + 27 * k));
                n++;
                prev = next;
            }
        }
        assertEquals(nll / n, ngrams.get(0).testLoss(), 1e-9);
        // each longer context helps, as the figures (2.47, 2.15, 1.89, 1.70) say
        for (int i = 1; i < 4; i++) {
            assertTrue(ngrams.get(i).testLoss() < ngrams.get(i - 1).testLoss() - 0.1, ngrams.toString());
        }
        assertEquals(2.47, ngrams.get(0).testLoss(), 0.03);
        assertEquals(1.70, ngrams.get(3).testLoss(), 0.03);
    }

    /**
     * The training step as a traced function (the default) and eagerly ({@code --mode eager}):
     * the same losses at every evaluation, within rounding (the model has no random op).
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void theStepAsAFunctionTrainsAsTheEagerStep(Device device, @TempDir Path dir) throws IOException {
        Path words = words();
        CharTransformer.Options function = new CharTransformer.Options(40, 16, 32, 2, 2, 0.002, 20, 1, true);
        CharTransformer.Options eager = new CharTransformer.Options(40, 16, 32, 2, 2, 0.002, 20, 1, false);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CharTransformer.Result traced = new CharTransformer(new PrintStream(bytes, true, StandardCharsets.UTF_8))
                .run(device, words, dir.resolve("function"), function);
        CharTransformer.Result plain = new CharTransformer(new PrintStream(new ByteArrayOutputStream(), true,
                StandardCharsets.UTF_8)).run(device, words, dir.resolve("eager"), eager);
        assertEquals(2, traced.curve().size());
        for (int i = 0; i < traced.curve().size(); i++) {
            CharTransformer.CurvePoint t = traced.curve().get(i);
            CharTransformer.CurvePoint e = plain.curve().get(i);
            assertEquals(e.trainLoss(), t.trainLoss(), 1e-5 * e.trainLoss(), "train loss at step " + t.step());
            assertEquals(e.testLoss(), t.testLoss(), 1e-5 * e.testLoss(), "test loss at step " + t.step());
        }
        String printed = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(printed.contains("calls=40, traces=1, replays=39"), printed);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("devices")
    void aShortRunBeatsTheBigram(Device device, @TempDir Path dir) throws IOException {
        Path words = words();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        CharTransformer.Options options = new CharTransformer.Options(120, 32, 64, 4, 4, 0.002, 120, 1, true);
        CharTransformer.Result r = new CharTransformer(new PrintStream(bytes, true, StandardCharsets.UTF_8))
                .run(device, words, dir, options);
        String printed = bytes.toString(StandardCharsets.UTF_8);
        double bigram = r.ngrams().get(0).testLoss();
        assertTrue(r.testLoss() < bigram, "test loss " + r.testLoss() + " vs the bigram's " + bigram + "\n" + printed);
        assertTrue(printed.contains("5-gram") && printed.contains("transformer: train loss")
                && printed.contains("samples"), printed);
        assertEquals(20, r.samples().size());
        assertTrue(r.samples().stream().allMatch(w -> w.matches("[a-z]*")), r.samples().toString());
        FashionMnistCnnTest.assertPicture(r.lossPlot(), 900, 600);
        // the checkpoint restores a model with the same loss (on the first 300 test words)
        try (Device.Scope on = Device.use(device); TensorScope s = new TensorScope()) {
            CharTransformer.Model restored = new CharTransformer.Model(64, 4, 4, 99);
            CharTransformer.Rows some = CharTransformer.Rows.of(CharTransformer.load(words, 1).test().subList(0, 300));
            double before = CharTransformer.evaluate(restored, some);
            Checkpoint.restore(r.checkpoint(), restored);
            double want = CharTransformer.evaluate(r.model(), some);
            assertEquals(want, CharTransformer.evaluate(restored, some), 1e-6);
            assertTrue(Math.abs(before - want) > 0.05, "the restored model started elsewhere");
        }
    }
}
