package dev.spool.nn.data;

import dev.spool.Device;
import dev.spool.DeviceException;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.TensorScope;
import dev.spool.internal.NullChecks;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * Samples stored as tensors whose first axis indexes them, TF's
 * {@code Dataset.from_tensor_slices((features, labels))}, iterated in batches. Each element of
 * the iteration is one batch: the list of components, each a {@code [batch, ...]} tensor on
 * the components' device. A batch is valid until the next one is requested: the iterator then
 * closes it, so that device memory stays flat even in a {@code for (List<Tensor> batch : data)}
 * loop whose per-step {@link dev.spool.TensorScope} opens after the batch was made (copy a batch
 * tensor with {@code identity()} to keep it longer).
 *
 * <p>The pipeline is fixed and immutable: {@link #shuffle} reorders samples (a fresh order each
 * epoch, from the seed and the epoch number: the same sequence on every run and device),
 * {@link #batch} groups them, {@link #repeat} repeats epochs. Batches without shuffling are
 * views (no copy); shuffled batches are gathers by a small index tensor copied to the device.
 * Without {@link #batch} each element is a batch of one sample.
 *
 * <p>The dataset does not own its tensors: keep them open while iterating.
 */
public final class Dataset implements Iterable<List<Tensor>> {
    private final List<Tensor> components;
    private final int samples;
    private final int batchSize;
    private final boolean dropRemainder;
    private final Long shuffleSeed;
    private final long epochs; // < 0: forever

    private Dataset(List<Tensor> components, int batchSize, boolean dropRemainder, Long shuffleSeed, long epochs) {
        this.components = components;
        this.samples = components.get(0).shape().dim(0);
        this.batchSize = batchSize;
        this.dropRemainder = dropRemainder;
        this.shuffleSeed = shuffleSeed;
        this.epochs = epochs;
    }

    /** Samples along the first axis of each component; every component must have as many. */
    public static Dataset fromTensors(Tensor... components) {
        NullChecks.elements(components, "Dataset.fromTensors", "components");
        if (components.length == 0) {
            throw new ShapeException("Dataset.fromTensors: needs at least one tensor, got none");
        }
        int n = -1;
        Device device = components[0].device();
        for (Tensor t : components) {
            if (t.rank() == 0) {
                throw new ShapeException("Dataset.fromTensors: a component must have a sample axis, got shape " + t.shape());
            }
            if (n >= 0 && t.shape().dim(0) != n) {
                throw new ShapeException("Dataset.fromTensors: components have " + n + " and " + t.shape().dim(0)
                        + " samples (shapes " + components[0].shape() + " and " + t.shape() + ")");
            }
            if (t.device() != device) {
                throw new DeviceException("Dataset.fromTensors: components on " + device + " and " + t.device());
            }
            n = t.shape().dim(0);
        }
        return new Dataset(List.of(components), 1, false, null, 1);
    }

    /** Batches of {@code size} samples; the last one may be smaller. */
    public Dataset batch(int size) {
        return batch(size, false);
    }

    /** Batches of {@code size}; with {@code dropRemainder} a smaller last batch is left out. */
    public Dataset batch(int size, boolean dropRemainder) {
        if (size <= 0) {
            throw new ShapeException("Dataset.batch: size must be > 0, got " + size);
        }
        return new Dataset(components, size, dropRemainder, shuffleSeed, epochs);
    }

    /** A new order of all samples every epoch, determined by {@code seed}. */
    public Dataset shuffle(long seed) {
        return new Dataset(components, batchSize, dropRemainder, seed, epochs);
    }

    /** {@code count} epochs. */
    public Dataset repeat(long count) {
        if (count < 0) {
            throw new ShapeException("Dataset.repeat: count must be >= 0, got " + count);
        }
        return new Dataset(components, batchSize, dropRemainder, shuffleSeed, count);
    }

    /** Epochs without end. */
    public Dataset repeat() {
        return new Dataset(components, batchSize, dropRemainder, shuffleSeed, -1);
    }

    /** Number of samples in one epoch. */
    public int size() {
        return samples;
    }

    /** Batches in one epoch. */
    public int batchesPerEpoch() {
        return dropRemainder ? samples / batchSize : (samples + batchSize - 1) / batchSize;
    }

    /** The sample order of epoch {@code epoch} (from 0): Fisher–Yates from the seed and epoch. */
    int[] order(long epoch) {
        int[] idx = new int[samples];
        for (int i = 0; i < samples; i++) {
            idx[i] = i;
        }
        if (shuffleSeed != null) {
            SplittableRandom random = new SplittableRandom(shuffleSeed * 0x9E3779B97F4A7C15L + epoch);
            for (int i = samples - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int t = idx[i];
                idx[i] = idx[j];
                idx[j] = t;
            }
        }
        return idx;
    }

    @Override
    public Iterator<List<Tensor>> iterator() {
        return new Iterator<>() {
            private long epoch;
            private int start;
            private int[] order; // this epoch's sample order, when shuffling
            private final List<Tensor> previous = new ArrayList<>(); // the last batch handed out

            private void closePrevious() {
                for (Tensor t : previous) {
                    t.close(); // idempotent: fine when the caller's scope closed it already
                }
                previous.clear();
            }

            @Override
            public boolean hasNext() {
                if (start + (dropRemainder ? batchSize : 1) > samples) {
                    epoch++;
                    start = 0;
                    order = null;
                }
                boolean more = (epochs < 0 || epoch < epochs) && samples >= (dropRemainder ? batchSize : 1);
                if (!more) {
                    closePrevious();
                }
                return more;
            }

            @Override
            public List<Tensor> next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                closePrevious();
                int size = Math.min(batchSize, samples - start);
                List<Tensor> batch = new ArrayList<>(components.size());
                // Intermediates (the index tensor, views inside the ops) die with this scope; the
                // batch moves to the caller's scope, and is closed by the next call.
                try (TensorScope own = new TensorScope()) {
                    if (shuffleSeed == null) {
                        for (Tensor c : components) {
                            batch.add(own.keep(sliceRows(c, start, size)));
                        }
                    } else {
                        if (order == null) {
                            order = order(epoch);
                        }
                        Tensor indices; // one small host-to-device copy per batch
                        try (Device.Scope on = Device.use(components.get(0).device())) {
                            indices = Spool.constant(Arrays.copyOfRange(order, start, start + size));
                        }
                        for (Tensor c : components) {
                            batch.add(own.keep(c.gather(indices, 0)));
                        }
                    }
                }
                start += size;
                previous.addAll(batch);
                return List.copyOf(batch);
            }
        };
    }

    private static Tensor sliceRows(Tensor c, int start, int size) {
        int[] begin = new int[c.rank()];
        int[] sizes = c.shape().toArray();
        begin[0] = start;
        sizes[0] = size;
        return c.slice(begin, sizes);
    }
}
