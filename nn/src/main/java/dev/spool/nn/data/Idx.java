package dev.spool.nn.data;

import dev.spool.internal.NullChecks;
import java.io.BufferedInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * Reads IDX files, the format of MNIST and Fashion-MNIST (LeCun's "file formats" note): a
 * big-endian magic number {@code 0x0000TTDD} (two zero bytes, the element type {@code TT},
 * the number of dimensions {@code DD}), each dimension as a big-endian int32, then the elements
 * in row-major order, big-endian. Gzipped files ({@code .gz}, as distributed) are recognised by
 * their own magic bytes and decompressed on the fly, whatever their name.
 *
 * <p>A wrong magic number, an unknown type code, a header or body shorter than the header
 * promises, bytes after the data, or a corrupt gzip stream are an {@link IdxFormatException}
 * that says what was found; a file that cannot be opened is an {@link UncheckedIOException}.
 */
public final class Idx {
    private static final int GZIP_MAGIC = 0x1F8B;
    private static final int CHUNK = 1 << 16;

    /** The element types of IDX, by their code in the magic number. */
    public enum Type {
        UNSIGNED_BYTE(0x08, 1, byte[].class),
        SIGNED_BYTE(0x09, 1, byte[].class),
        SHORT(0x0B, 2, short[].class),
        INT(0x0C, 4, int[].class),
        FLOAT(0x0D, 4, float[].class),
        DOUBLE(0x0E, 8, double[].class);

        private final int code;
        private final int bytes;
        private final Class<?> hostArrayType;

        Type(int code, int bytes, Class<?> hostArrayType) {
            this.code = code;
            this.bytes = bytes;
            this.hostArrayType = hostArrayType;
        }

        /** The type's byte in the magic number ({@code 0x08} for unsigned bytes). */
        public int code() {
            return code;
        }

        /** Bytes per element. */
        public int bytes() {
            return bytes;
        }

        /** The Java array {@link IdxArray} holds these elements in. */
        public Class<?> hostArrayType() {
            return hostArrayType;
        }

        static Type of(int code) {
            for (Type t : values()) {
                if (t.code == code) {
                    return t;
                }
            }
            return null;
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT).replace('_', ' ');
        }
    }

    private Idx() {
    }

    /** Reads an IDX file, gzipped or not. */
    public static IdxArray read(Path file) {
        NullChecks.nonNull(file, "Idx.read", "file");
        try (InputStream in = Files.newInputStream(file)) {
            return read(in, file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }

    /** Reads IDX data, gzipped or not, from {@code in} (not closed); {@code source} names it in errors. */
    public static IdxArray read(InputStream in, String source) throws IOException {
        NullChecks.nonNull(in, "Idx.read", "in");
        NullChecks.nonNull(source, "Idx.read", "source");
        BufferedInputStream buffered = new BufferedInputStream(in, CHUNK);
        buffered.mark(2);
        int b0 = buffered.read();
        int b1 = buffered.read();
        buffered.reset();
        boolean gzipped = b0 >= 0 && b1 >= 0 && (b0 << 8 | b1) == GZIP_MAGIC;
        try {
            InputStream data = gzipped ? new GZIPInputStream(buffered, CHUNK) : buffered;
            return parse(data, source + (gzipped ? " (gzip)" : ""));
        } catch (ZipException e) {
            throw new IdxFormatException(source + ": corrupt gzip data: " + e.getMessage());
        } catch (EOFException e) { // the gzip header or trailer cut short (the data is checked as it is read)
            throw new IdxFormatException(source + ": truncated: the gzip stream ends early (" + e.getMessage() + ")");
        }
    }

    private static IdxArray parse(InputStream in, String source) throws IOException {
        byte[] magic = new byte[4];
        int got = readFully(in, magic, 0, 4);
        if (got < 4) {
            throw new IdxFormatException(source + ": truncated: " + got + " bytes, fewer than the 4 of an IDX magic "
                    + "number");
        }
        int magicNumber = ByteBuffer.wrap(magic).getInt();
        Type type = Type.of(magic[2] & 0xFF);
        int rank = magic[3] & 0xFF;
        if (magic[0] != 0 || magic[1] != 0 || type == null || rank == 0) {
            throw new IdxFormatException(source + ": not an IDX file: magic number "
                    + String.format(Locale.ROOT, "0x%08X", magicNumber) + "; an IDX file starts with two zero bytes, "
                    + "a type code (0x08 unsigned byte, 0x09 signed byte, 0x0B short, 0x0C int, 0x0D float, "
                    + "0x0E double) and the number of dimensions (at least 1)");
        }
        byte[] dimBytes = new byte[4 * rank];
        got = readFully(in, dimBytes, 0, dimBytes.length);
        if (got < dimBytes.length) {
            throw new IdxFormatException(source + ": truncated: the header has " + rank + " dimensions ("
                    + dimBytes.length + " bytes) but ends after " + got + " of them");
        }
        int[] shape = new int[rank];
        ByteBuffer dims = ByteBuffer.wrap(dimBytes);
        long size = 1;
        for (int i = 0; i < rank; i++) {
            shape[i] = dims.getInt();
            if (shape[i] < 0) {
                throw new IdxFormatException(source + ": dimension " + i + " is negative: " + shape[i]
                        + " (read as a big-endian int32)");
            }
            size *= shape[i];
            if (size * type.bytes() > Integer.MAX_VALUE - 8) {
                throw new IdxFormatException(source + ": the header's shape " + Arrays.toString(shape)
                        + " of " + type + " elements is larger than a Java array holds (2 GiB)");
            }
        }
        int bytes = (int) size * type.bytes();
        byte[] body = new byte[bytes];
        got = readFully(in, body, 0, bytes);
        if (got < bytes) {
            throw new IdxFormatException(source + ": truncated: the header promises " + shape(shape) + " " + type
                    + " elements (" + bytes + " bytes of data) but the data ends after " + got + " bytes");
        }
        if (in.read() >= 0) {
            throw new IdxFormatException(source + ": more bytes than the header describes: data for " + shape(shape)
                    + " " + type + " elements, then more; is the header or the file wrong?");
        }
        return new IdxArray(type, shape, elements(type, body, (int) size));
    }

    /** Reads up to {@code len} bytes; fewer only at the end of the data. A gzip stream cut short ends the data. */
    private static int readFully(InputStream in, byte[] into, int off, int len) throws IOException {
        int done = 0;
        try {
            while (done < len) {
                int n = in.read(into, off + done, Math.min(CHUNK, len - done));
                if (n < 0) {
                    break;
                }
                done += n;
            }
        } catch (EOFException e) { // GZIPInputStream: "Unexpected end of ZLIB input stream"
            return done;
        }
        return done;
    }

    private static Object elements(Type type, byte[] body, int size) {
        ByteBuffer b = ByteBuffer.wrap(body).order(ByteOrder.BIG_ENDIAN);
        return switch (type) {
            case UNSIGNED_BYTE, SIGNED_BYTE -> body;
            case SHORT -> {
                short[] out = new short[size];
                b.asShortBuffer().get(out);
                yield out;
            }
            case INT -> {
                int[] out = new int[size];
                b.asIntBuffer().get(out);
                yield out;
            }
            case FLOAT -> {
                float[] out = new float[size];
                b.asFloatBuffer().get(out);
                yield out;
            }
            case DOUBLE -> {
                double[] out = new double[size];
                b.asDoubleBuffer().get(out);
                yield out;
            }
        };
    }

    private static String shape(int[] shape) {
        StringBuilder s = new StringBuilder();
        for (int i = 0; i < shape.length; i++) {
            s.append(i == 0 ? "" : "x").append(shape[i]);
        }
        return s.toString();
    }
}
