package dev.spool.nn.data;

import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.internal.NullChecks;
import java.io.FileNotFoundException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Zalando's Fashion-MNIST: 60,000 training and 10,000 test images of clothes, 28x28 grey levels,
 * in ten classes ({@link #CLASS_NAMES}), as the four IDX files Zalando distributes
 * ({@code train-images-idx3-ubyte.gz}, {@code train-labels-idx1-ubyte.gz}, {@code t10k-...}),
 * gzipped or not.
 *
 * <p>Where they are: the directory given to {@link #load(Path, Split, int)}, else
 * {@link #directory()}: the system property {@value #DIRECTORY_PROPERTY}, else the environment
 * variable {@value #DIRECTORY_ENV}, else Debian's {@code /usr/share/datasets/fashion-mnist}, which
 * {@code apt-get install dataset-fashion-mnist} fills. A missing file is an
 * {@link UncheckedIOException} (a {@link FileNotFoundException}) that says where it looked and how
 * to install the data.
 *
 * <p>Images come as Keras's {@code fashion_mnist.load_data()} gives them after the usual
 * {@code x / 255}: float32 in [0, 1], channels last, {@code [n, 28, 28, 1]}; labels as int32 0 to 9.
 */
public final class FashionMnist {
    /** Debian's location ({@code dataset-fashion-mnist}). */
    public static final Path DEBIAN_DIRECTORY = Path.of("/usr/share/datasets/fashion-mnist");
    /** The system property naming the directory of the four files. */
    public static final String DIRECTORY_PROPERTY = "spool.fashionMnist.dir";
    /** The environment variable naming the directory of the four files. */
    public static final String DIRECTORY_ENV = "SPOOL_FASHION_MNIST_DIR";
    /** The classes, by label. */
    public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
    /** Height and width of an image. */
    public static final int SIDE = 28;

    private static final Logger log = LoggerFactory.getLogger(FashionMnist.class);

    /** The training set (60,000 images) or the test set (10,000). */
    public enum Split {
        TRAIN("train"), TEST("t10k");

        private final String prefix;

        Split(String prefix) {
            this.prefix = prefix;
        }

        /** The images' file name, without {@code .gz}. */
        public String imagesFile() {
            return prefix + "-images-idx3-ubyte";
        }

        /** The labels' file name, without {@code .gz}. */
        public String labelsFile() {
            return prefix + "-labels-idx1-ubyte";
        }
    }

    /**
     * Images and labels on the host: {@code images} holds {@code labels.length} images of
     * 28x28x1 floats in [0, 1], row-major ({@code [n, 28, 28, 1]}).
     */
    public record Data(float[] images, int[] labels) {
        public Data {
            NullChecks.nonNull(images, "FashionMnist.Data", "images");
            NullChecks.nonNull(labels, "FashionMnist.Data", "labels");
            if (images.length != labels.length * SIDE * SIDE) {
                throw new dev.spool.ShapeException("FashionMnist.Data: " + images.length + " pixels for "
                        + labels.length + " labels; each image has " + SIDE * SIDE);
            }
        }

        /** Number of images. */
        public int size() {
            return labels.length;
        }

        /** The images as a float32 {@code [n, 28, 28, 1]} tensor on the current device. */
        public Tensor imageTensor() {
            return Spool.constant(images).reshape(size(), SIDE, SIDE, 1);
        }

        /** The labels as an int32 {@code [n]} tensor on the current device. */
        public Tensor labelTensor() {
            return Spool.constant(labels);
        }
    }

    private FashionMnist() {
    }

    /**
     * The directory to read from: the system property {@value #DIRECTORY_PROPERTY}, else the
     * environment variable {@value #DIRECTORY_ENV}, else {@link #DEBIAN_DIRECTORY}.
     */
    public static Path directory() {
        String property = System.getProperty(DIRECTORY_PROPERTY);
        if (property != null && !property.isBlank()) {
            return Path.of(property);
        }
        String env = System.getenv(DIRECTORY_ENV);
        if (env != null && !env.isBlank()) {
            return Path.of(env);
        }
        return DEBIAN_DIRECTORY;
    }

    /** Whether {@code directory} holds all four files (each gzipped or not). */
    public static boolean available(Path directory) {
        NullChecks.nonNull(directory, "FashionMnist.available", "directory");
        for (Split s : Split.values()) {
            if (find(directory, s.imagesFile()) == null || find(directory, s.labelsFile()) == null) {
                return false;
            }
        }
        return true;
    }

    /** The whole of {@code split} from {@link #directory()}. */
    public static Data load(Split split) {
        return load(directory(), split, 0);
    }

    /** The first {@code limit} images of {@code split} (all of them when {@code limit} is 0 or more than there are). */
    public static Data load(Path directory, Split split, int limit) {
        NullChecks.nonNull(directory, "FashionMnist.load", "directory");
        NullChecks.nonNull(split, "FashionMnist.load", "split");
        if (limit < 0) {
            throw new dev.spool.ShapeException("FashionMnist.load: limit must be >= 0 (0: all), got " + limit);
        }
        long start = System.nanoTime();
        Path imagesFile = require(directory, split.imagesFile());
        Path labelsFile = require(directory, split.labelsFile());
        IdxArray images = Idx.read(imagesFile);
        IdxArray labels = Idx.read(labelsFile);
        int[] shape = images.shape();
        if (images.type() != Idx.Type.UNSIGNED_BYTE || shape.length != 3 || shape[1] != SIDE || shape[2] != SIDE) {
            throw new IdxFormatException(imagesFile + ": holds " + images.type() + " " + Arrays.toString(shape)
                    + ", not Fashion-MNIST's unsigned byte [n, 28, 28] images");
        }
        if (labels.type() != Idx.Type.UNSIGNED_BYTE || labels.shape().length != 1 || labels.size() != shape[0]) {
            throw new IdxFormatException(labelsFile + ": holds " + labels.type() + " " + Arrays.toString(labels.shape())
                    + ", not unsigned byte labels for the " + shape[0] + " images of " + imagesFile);
        }
        int n = limit == 0 ? shape[0] : Math.min(limit, shape[0]);
        byte[] pixels = (byte[]) images.data();
        float[] scaled = new float[n * SIDE * SIDE];
        for (int i = 0; i < scaled.length; i++) {
            scaled[i] = (pixels[i] & 0xFF) / 255f;
        }
        int[] classes = Arrays.copyOf(labels.toIntArray(), n);
        for (int i = 0; i < n; i++) {
            if (classes[i] >= CLASS_NAMES.size()) {
                throw new IdxFormatException(labelsFile + ": label " + i + " is " + classes[i]
                        + "; Fashion-MNIST's labels are 0 to 9");
            }
        }
        log.info("Fashion-MNIST {}: {} of {} images from {} in {} ms", split.name().toLowerCase(java.util.Locale.ROOT),
                n, shape[0], directory, (System.nanoTime() - start) / 1_000_000);
        return new Data(scaled, classes);
    }

    /** {@code name.gz} or {@code name} in {@code directory}, or null. */
    private static Path find(Path directory, String name) {
        for (Path p : new Path[] {directory.resolve(name + ".gz"), directory.resolve(name)}) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    private static Path require(Path directory, String name) {
        Path p = find(directory, name);
        if (p == null) {
            throw new UncheckedIOException(new FileNotFoundException("Fashion-MNIST not found: no " + name + ".gz (or "
                    + name + ") in " + directory + ". Install Debian's package, which puts the four files in "
                    + DEBIAN_DIRECTORY + ": sudo apt-get install dataset-fashion-mnist; or download them from "
                    + "https://github.com/zalandoresearch/fashion-mnist and name their directory with -D"
                    + DIRECTORY_PROPERTY + "=DIR or " + DIRECTORY_ENV + "=DIR (the example takes --data DIR)"));
        }
        return p;
    }
}
