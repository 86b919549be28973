package dev.spool.nn.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DTypeException;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * IDX files written byte by byte here, as LeCun's note describes them (big-endian magic
 * {@code 0x0000TTDD}, int32 dimensions, big-endian elements), plain and gzipped; and the errors
 * for a wrong magic number, a truncated header, body or gzip stream, and trailing bytes.
 */
class IdxTest {
    @TempDir
    Path dir;

    /** The header of an IDX file of {@code type} and {@code dims}. */
    static DataOutputStream header(ByteArrayOutputStream bytes, int type, int... dims) throws IOException {
        DataOutputStream out = new DataOutputStream(bytes); // big-endian, as IDX
        out.writeInt(type << 8 | dims.length);
        for (int d : dims) {
            out.writeInt(d);
        }
        return out;
    }

    static byte[] gzip(byte[] plain) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(plain);
        }
        return out.toByteArray();
    }

    Path file(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    static byte[] unsignedBytes() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        DataOutputStream out = header(bytes, 0x08, 2, 3);
        for (int v : new int[] {0, 1, 127, 128, 200, 255}) {
            out.writeByte(v);
        }
        return bytes.toByteArray();
    }

    @Test
    void readsEveryElementTypePlainAndGzipped() throws IOException {
        for (boolean gzipped : new boolean[] {false, true}) {
            String ext = gzipped ? ".gz" : "";
            byte[] ub = unsignedBytes();
            IdxArray a = Idx.read(file("ub" + ext, gzipped ? gzip(ub) : ub));
            assertEquals(Idx.Type.UNSIGNED_BYTE, a.type());
            assertArrayEquals(new int[] {2, 3}, a.shape());
            assertArrayEquals(new int[] {0, 1, 127, 128, 200, 255}, a.toIntArray(), "unsigned: 128 and up stay positive");
            assertArrayEquals(new float[] {0, 1, 127, 128, 200, 255}, a.toFloatArray());

            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            DataOutputStream out = header(bytes, 0x09, 4);
            for (int v : new int[] {-128, -1, 0, 127}) {
                out.writeByte(v);
            }
            IdxArray sb = Idx.read(file("sb" + ext, gzipped ? gzip(bytes.toByteArray()) : bytes.toByteArray()));
            assertEquals(Idx.Type.SIGNED_BYTE, sb.type());
            assertArrayEquals(new int[] {-128, -1, 0, 127}, sb.toIntArray());

            bytes = new ByteArrayOutputStream();
            out = header(bytes, 0x0B, 3);
            for (int v : new int[] {-32768, 258, 32767}) {
                out.writeShort(v);
            }
            IdxArray sh = Idx.read(file("short" + ext, gzipped ? gzip(bytes.toByteArray()) : bytes.toByteArray()));
            assertArrayEquals(new short[] {-32768, 258, 32767}, (short[]) sh.data());

            bytes = new ByteArrayOutputStream();
            out = header(bytes, 0x0C, 1, 1, 2);
            out.writeInt(Integer.MIN_VALUE);
            out.writeInt(16909060); // 0x01020304: byte order matters
            IdxArray in = Idx.read(file("int" + ext, gzipped ? gzip(bytes.toByteArray()) : bytes.toByteArray()));
            assertArrayEquals(new int[] {1, 1, 2}, in.shape());
            assertArrayEquals(new int[] {Integer.MIN_VALUE, 16909060}, in.toIntArray());

            bytes = new ByteArrayOutputStream();
            out = header(bytes, 0x0D, 2);
            out.writeFloat(-1.5f);
            out.writeFloat(3.25e-3f);
            IdxArray fl = Idx.read(file("float" + ext, gzipped ? gzip(bytes.toByteArray()) : bytes.toByteArray()));
            assertArrayEquals(new float[] {-1.5f, 3.25e-3f}, fl.toFloatArray());
            assertThrows(DTypeException.class, fl::toIntArray);

            bytes = new ByteArrayOutputStream();
            out = header(bytes, 0x0E, 2, 1);
            out.writeDouble(Math.PI);
            out.writeDouble(-0.0);
            IdxArray db = Idx.read(file("double" + ext, gzipped ? gzip(bytes.toByteArray()) : bytes.toByteArray()));
            assertArrayEquals(new double[] {Math.PI, -0.0}, (double[]) db.data());

            // a dimension of 0: no elements, still well formed
            bytes = new ByteArrayOutputStream();
            header(bytes, 0x08, 0, 28, 28);
            assertEquals(0, Idx.read(file("empty" + ext, gzipped ? gzip(bytes.toByteArray()) : bytes.toByteArray())).size());
        }
    }

    @Test
    void aWrongMagicNumberIsNamed() throws IOException {
        byte[] ub = unsignedBytes();
        byte[] wrongType = ub.clone();
        wrongType[2] = 0x0A;
        Path f = file("wrong-type", wrongType);
        IdxFormatException e = assertThrows(IdxFormatException.class, () -> Idx.read(f));
        assertEquals(f + ": not an IDX file: magic number 0x00000A02; an IDX file starts with two zero bytes, a type "
                + "code (0x08 unsigned byte, 0x09 signed byte, 0x0B short, 0x0C int, 0x0D float, 0x0E double) and the "
                + "number of dimensions (at least 1)", e.getMessage());
        byte[] notZero = ub.clone();
        notZero[1] = 1;
        assertTrue(assertThrows(IdxFormatException.class, () -> Idx.read(file("not-zero", notZero))).getMessage()
                .contains("magic number 0x00010802"));
        byte[] noDims = ub.clone();
        noDims[3] = 0;
        assertThrows(IdxFormatException.class, () -> Idx.read(file("no-dims", noDims)));
        Path png = file("image.png", new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10});
        assertTrue(assertThrows(IdxFormatException.class, () -> Idx.read(png)).getMessage()
                .contains("not an IDX file: magic number 0x89504E47"));
        // gzipped: the magic number is the decompressed data's
        Path gz = file("wrong.gz", gzip(wrongType));
        assertTrue(assertThrows(IdxFormatException.class, () -> Idx.read(gz)).getMessage()
                .startsWith(gz + " (gzip): not an IDX file: magic number 0x00000A02"));
    }

    @Test
    void truncatedFilesSayHowMuchIsThere() throws IOException {
        byte[] ub = unsignedBytes(); // 4 + 2·4 header bytes, 6 data bytes
        Path shortMagic = file("short-magic", Arrays.copyOf(ub, 3));
        assertEquals(shortMagic + ": truncated: 3 bytes, fewer than the 4 of an IDX magic number",
                assertThrows(IdxFormatException.class, () -> Idx.read(shortMagic)).getMessage());
        Path shortHeader = file("short-header", Arrays.copyOf(ub, 9));
        assertEquals(shortHeader + ": truncated: the header has 2 dimensions (8 bytes) but ends after 5 of them",
                assertThrows(IdxFormatException.class, () -> Idx.read(shortHeader)).getMessage());
        Path shortBody = file("short-body", Arrays.copyOf(ub, 12 + 4));
        assertEquals(shortBody + ": truncated: the header promises 2x3 unsigned byte elements (6 bytes of data) but the "
                + "data ends after 4 bytes", assertThrows(IdxFormatException.class, () -> Idx.read(shortBody)).getMessage());
        Path empty = file("empty-file", new byte[0]);
        assertThrows(IdxFormatException.class, () -> Idx.read(empty));

        // a gzip stream cut in its data, and one cut in its 8-byte trailer (CRC and length)
        byte[] bigger = new byte[12 + 5000];
        System.arraycopy(headerBytes(0x08, 50, 100), 0, bigger, 0, 12);
        byte[] noise = new byte[5000]; // incompressible, so half the gzip stream is about half the data
        new java.util.Random(1).nextBytes(noise);
        System.arraycopy(noise, 0, bigger, 12, noise.length);
        byte[] gz = gzip(bigger);
        Path cutData = file("cut-data.gz", Arrays.copyOf(gz, gz.length / 2));
        String m = assertThrows(IdxFormatException.class, () -> Idx.read(cutData)).getMessage();
        assertTrue(m.startsWith(cutData + " (gzip): truncated: the header promises 50x100 unsigned byte elements (5000 "
                + "bytes of data) but the data ends after"), m);
        Path cutTrailer = file("cut-trailer.gz", Arrays.copyOf(gz, gz.length - 4));
        m = assertThrows(IdxFormatException.class, () -> Idx.read(cutTrailer)).getMessage();
        assertTrue(m.startsWith(cutTrailer + ": truncated: the gzip stream ends early"), m);
        byte[] badCrc = gz.clone();
        badCrc[badCrc.length - 6] ^= 0x55;
        Path corrupt = file("bad-crc.gz", badCrc);
        assertTrue(assertThrows(IdxFormatException.class, () -> Idx.read(corrupt)).getMessage()
                .startsWith(corrupt + ": corrupt gzip data"));
    }

    static byte[] headerBytes(int type, int... dims) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        header(bytes, type, dims);
        return bytes.toByteArray();
    }

    @Test
    void bytesAfterTheDataAreAnError() throws IOException {
        byte[] ub = unsignedBytes();
        Path longer = file("longer", Arrays.copyOf(ub, ub.length + 1));
        assertEquals(longer + ": more bytes than the header describes: data for 2x3 unsigned byte elements, then more; "
                + "is the header or the file wrong?", assertThrows(IdxFormatException.class, () -> Idx.read(longer))
                .getMessage());
    }

    @Test
    void aMissingFileIsAnIoError() {
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> Idx.read(dir.resolve("absent")));
        assertInstanceOf(java.nio.file.NoSuchFileException.class, e.getCause());
    }
}
