package dev.spool.nn.io;

import dev.spool.DType;
import dev.spool.Operand;
import dev.spool.Tensor;
import dev.spool.internal.NullChecks;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * NumPy's {@code .npy} format (numpy.lib.format, versions 1.0–3.0): a magic string, a
 * little-endian header length, a Python-literal dict {@code {'descr': '<f4', 'fortran_order':
 * False, 'shape': (2, 3), }} padded with spaces and a newline so that the data starts at a
 * multiple of 64 bytes, then the raw elements.
 *
 * <p>Spool writes version 1.0 (2.0 when the header does not fit in 65535 bytes), as
 * {@code numpy.save} does, with the dtypes {@code <f4 <f8 <i4 <i8 |b1} in C order. It reads the
 * same dtypes from versions 1.0, 2.0 and 3.0, and refuses, with an {@link NpyFormatException}
 * that says what to do in NumPy, big-endian data, Fortran order, object (pickled) and structured
 * arrays, and every other dtype.
 */
public final class Npy {
    static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    static final int ALIGN = 64;

    private static final Pattern DESCR = Pattern.compile("['\"]descr['\"]\\s*:\\s*(['\"])(.*?)\\1");
    private static final Pattern DESCR_ANY = Pattern.compile("['\"]descr['\"]\\s*:\\s*([^'\"\\s])");
    private static final Pattern FORTRAN = Pattern.compile("['\"]fortran_order['\"]\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("['\"]shape['\"]\\s*:\\s*\\(([^)]*)\\)");

    private Npy() {
    }

    /** The {@code descr} NumPy uses for {@code dtype} ({@code <f4}, {@code |b1}, ...). */
    public static String descr(DType dtype) {
        return switch (NullChecks.nonNull(dtype, "Npy.descr", "dtype")) {
            case FLOAT32 -> "<f4";
            case FLOAT64 -> "<f8";
            case INT32 -> "<i4";
            case INT64 -> "<i8";
            case BOOL -> "|b1";
        };
    }

    /** The header dict exactly as {@code numpy.save} writes it (keys sorted, trailing comma). */
    static String headerDict(DType dtype, int[] shape) {
        StringBuilder s = new StringBuilder("{'descr': '").append(descr(dtype))
                .append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            s.append(i == 0 ? "" : ", ").append(shape[i]);
        }
        if (shape.length == 1) {
            s.append(','); // a Python 1-tuple
        }
        return s.append("), }").toString();
    }

    // ---- writing -------------------------------------------------------------------------

    public static void write(Path file, Operand x) {
        NullChecks.nonNull(file, "Npy.write", "file");
        NullChecks.nonNull(x, "Npy.write", "x");
        write(file, NpyArray.of(x));
    }

    public static void write(Path file, NpyArray array) {
        NullChecks.nonNull(file, "Npy.write", "file");
        NullChecks.nonNull(array, "Npy.write", "array");
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file))) {
            write(out, array);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file, e);
        }
    }

    /** Writes one {@code .npy} image to {@code out} (not closed). */
    public static void write(OutputStream out, NpyArray array) throws IOException {
        NullChecks.nonNull(out, "Npy.write", "out");
        NullChecks.nonNull(array, "Npy.write", "array");
        out.write(header(array.dtype(), array.shape()));
        writeData(out, array);
    }

    /** Magic, version, length and padded header: a multiple of 64 bytes. */
    static byte[] header(DType dtype, int[] shape) {
        byte[] dict = headerDict(dtype, shape).getBytes(StandardCharsets.US_ASCII);
        int version = 1;
        int lengthBytes = 2;
        int total = roundUp(MAGIC.length + 2 + lengthBytes + dict.length + 1);
        if (total - MAGIC.length - 2 - lengthBytes > 0xFFFF) {
            version = 2;
            lengthBytes = 4;
            total = roundUp(MAGIC.length + 2 + lengthBytes + dict.length + 1);
        }
        int headerLength = total - MAGIC.length - 2 - lengthBytes;
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(MAGIC).put((byte) version).put((byte) 0);
        if (lengthBytes == 2) {
            b.putShort((short) headerLength);
        } else {
            b.putInt(headerLength);
        }
        b.put(dict);
        while (b.position() < total - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n');
        return b.array();
    }

    private static int roundUp(int n) {
        return (n + ALIGN - 1) / ALIGN * ALIGN;
    }

    private static void writeData(OutputStream out, NpyArray array) throws IOException {
        int itemSize = array.dtype().byteSize();
        int chunk = Math.max(1, 8192 / itemSize);
        ByteBuffer b = ByteBuffer.allocate(chunk * itemSize).order(ByteOrder.LITTLE_ENDIAN);
        Object data = array.data();
        int n = array.size();
        for (int start = 0; start < n; start += chunk) {
            int end = Math.min(n, start + chunk);
            b.clear();
            switch (array.dtype()) {
                case FLOAT32 -> b.asFloatBuffer().put((float[]) data, start, end - start);
                case FLOAT64 -> b.asDoubleBuffer().put((double[]) data, start, end - start);
                case INT32 -> b.asIntBuffer().put((int[]) data, start, end - start);
                case INT64 -> b.asLongBuffer().put((long[]) data, start, end - start);
                case BOOL -> b.put((byte[]) data, start, end - start);
            }
            out.write(b.array(), 0, (end - start) * itemSize);
        }
    }

    // ---- reading -------------------------------------------------------------------------

    /** Reads a {@code .npy} file into a tensor on {@link dev.spool.Device#current()}. */
    public static Tensor readTensor(Path file) {
        return read(NullChecks.nonNull(file, "Npy.readTensor", "file")).toTensor();
    }

    public static NpyArray read(Path file) {
        NullChecks.nonNull(file, "Npy.read", "file");
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            return read(in, file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }

    /** Reads one {@code .npy} image from {@code in} (not closed); {@code source} names it in errors. */
    public static NpyArray read(InputStream in, String source) throws IOException {
        NullChecks.nonNull(in, "Npy.read", "in");
        NullChecks.nonNull(source, "Npy.read", "source");
        DataInputStream data = new DataInputStream(in);
        byte[] magic = new byte[MAGIC.length];
        readFully(data, magic, source, "the magic string");
        for (int i = 0; i < MAGIC.length; i++) {
            if (magic[i] != MAGIC[i]) {
                throw new NpyFormatException(source + ": not a .npy file (it does not start with \\x93NUMPY)");
            }
        }
        int major = data.readUnsignedByte();
        int minor = data.readUnsignedByte();
        long headerLength;
        if (major == 1) {
            headerLength = Short.toUnsignedInt(Short.reverseBytes(data.readShort()));
        } else if (major == 2 || major == 3) {
            headerLength = Integer.toUnsignedLong(Integer.reverseBytes(data.readInt()));
        } else {
            throw new NpyFormatException(source + ": .npy format version " + major + "." + minor
                    + " is not supported (1.0, 2.0 and 3.0 are)");
        }
        if (headerLength > 1 << 24) {
            throw new NpyFormatException(source + ": header of " + headerLength + " bytes is implausibly large");
        }
        byte[] headerBytes = new byte[(int) headerLength];
        readFully(data, headerBytes, source, "the header");
        String header = new String(headerBytes, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        DType dtype = parseDescr(header, source);
        int[] shape = parseShape(header, source);
        Matcher fortran = FORTRAN.matcher(header);
        if (!fortran.find()) {
            throw new NpyFormatException(source + ": header has no 'fortran_order': " + header.strip());
        }
        if (fortran.group(1).equals("True")) {
            throw new NpyFormatException(source + ": Fortran-order (column-major) arrays are not supported; "
                    + "save np.ascontiguousarray(a) instead");
        }
        long size = 1;
        for (int d : shape) {
            size *= d;
        }
        if (size > Integer.MAX_VALUE - 8) {
            throw new NpyFormatException(source + ": " + size + " elements are more than a Java array holds");
        }
        return new NpyArray(dtype, shape, readData(data, dtype, (int) size, source));
    }

    private static DType parseDescr(String header, String source) {
        Matcher m = DESCR.matcher(header);
        if (!m.find()) {
            Matcher any = DESCR_ANY.matcher(header);
            if (any.find() && any.group(1).equals("[")) {
                throw new NpyFormatException(source + ": structured arrays (record dtypes) are not supported");
            }
            throw new NpyFormatException(source + ": header has no 'descr': " + header.strip());
        }
        String descr = m.group(2);
        switch (descr) {
            case "<f4": return DType.FLOAT32;
            case "<f8": return DType.FLOAT64;
            case "<i4": return DType.INT32;
            case "<i8": return DType.INT64;
            case "|b1": return DType.BOOL;
            default: break;
        }
        if (descr.equals("|O") || descr.equals("O")) {
            throw new NpyFormatException(source + ": object arrays (pickled Python objects) are not supported");
        }
        if (descr.startsWith(">")) {
            throw new NpyFormatException(source + ": big-endian dtype '" + descr + "' is not supported; save "
                    + "a.astype(a.dtype.newbyteorder('<')) instead");
        }
        throw new NpyFormatException(source + ": dtype '" + descr + "' is not supported (float32 <f4, float64 <f8, "
                + "int32 <i4, int64 <i8 and bool |b1 are)");
    }

    private static int[] parseShape(String header, String source) {
        Matcher m = SHAPE.matcher(header);
        if (!m.find()) {
            throw new NpyFormatException(source + ": header has no 'shape': " + header.strip());
        }
        List<Integer> dims = new ArrayList<>();
        for (String part : m.group(1).split(",")) {
            String p = part.strip();
            if (p.endsWith("L")) {
                p = p.substring(0, p.length() - 1); // Python 2 longs in old files
            }
            if (p.isEmpty()) {
                continue;
            }
            try {
                long d = Long.parseLong(p);
                if (d < 0 || d > Integer.MAX_VALUE) {
                    throw new NumberFormatException();
                }
                dims.add((int) d);
            } catch (NumberFormatException e) {
                throw new NpyFormatException(source + ": bad dimension '" + p + "' in shape (" + m.group(1) + ")");
            }
        }
        return dims.stream().mapToInt(Integer::intValue).toArray();
    }

    private static Object readData(DataInputStream in, DType dtype, int n, String source) throws IOException {
        int itemSize = dtype.byteSize();
        Object out = dtype.newHostArray(n);
        int chunk = Math.max(1, 8192 / itemSize);
        byte[] bytes = new byte[chunk * itemSize];
        for (int start = 0; start < n; start += chunk) {
            int count = Math.min(chunk, n - start);
            int len = count * itemSize;
            int got = in.readNBytes(bytes, 0, len);
            if (got < len) {
                throw new NpyFormatException(source + ": data ends after " + ((long) start * itemSize + got)
                        + " of " + ((long) n * itemSize) + " bytes");
            }
            ByteBuffer b = ByteBuffer.wrap(bytes, 0, len).order(ByteOrder.LITTLE_ENDIAN);
            switch (dtype) {
                case FLOAT32 -> b.asFloatBuffer().get((float[]) out, start, count);
                case FLOAT64 -> b.asDoubleBuffer().get((double[]) out, start, count);
                case INT32 -> b.asIntBuffer().get((int[]) out, start, count);
                case INT64 -> b.asLongBuffer().get((long[]) out, start, count);
                case BOOL -> System.arraycopy(bytes, 0, out, start, count);
            }
        }
        return out;
    }

    private static void readFully(DataInputStream in, byte[] into, String source, String what) throws IOException {
        try {
            in.readFully(into);
        } catch (EOFException e) {
            throw new NpyFormatException(source + ": file ends inside " + what);
        }
    }
}
