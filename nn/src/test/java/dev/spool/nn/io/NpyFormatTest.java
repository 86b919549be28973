package dev.spool.nn.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.spool.DType;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The {@code .npy} bytes against the format's specification (numpy.lib.format): magic
 * {@code \x93NUMPY}, version, little-endian header length, the dict, space padding and a newline
 * that make the data start at a multiple of 64; and clear errors for what is not supported.
 */
class NpyFormatTest {

    static byte[] bytes(NpyArray a) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npy.write(out, a);
        return out.toByteArray();
    }

    static NpyArray read(byte[] b) throws IOException {
        return Npy.read(new ByteArrayInputStream(b), "test");
    }

    @Test
    void headerIsByteForByteWhatTheSpecifiesFor2x3Float32() throws IOException {
        float[] data = {1, 2, 3, 4, 5, -0.5f};
        byte[] b = bytes(new NpyArray(DType.FLOAT32, new int[] {2, 3}, data));
        String dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        // 10 bytes of preamble + dict + padding + '\n' = 128, the next multiple of 64.
        assertEquals(128 + 6 * 4, b.length);
        assertArrayEquals(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 118, 0}, Arrays.copyOf(b, 10));
        String header = new String(b, 10, 118, StandardCharsets.US_ASCII);
        assertTrue(header.startsWith(dict), header);
        assertEquals(" ".repeat(118 - dict.length() - 1) + "\n", header.substring(dict.length()));
        // 1.0f little-endian is 00 00 80 3F
        assertArrayEquals(new byte[] {0, 0, (byte) 0x80, 0x3F}, Arrays.copyOfRange(b, 128, 132));
        assertArrayEquals(new byte[] {0, 0, 0, (byte) 0xBF}, Arrays.copyOfRange(b, 148, 152)); // -0.5f
    }

    @Test
    void descrsAndShapesOfEveryDtypeAndRank() throws IOException {
        assertHeader(new NpyArray(DType.FLOAT64, new int[0], new double[] {2.5}), "{'descr': '<f8', 'fortran_order': False, 'shape': (), }");
        assertHeader(new NpyArray(DType.INT32, new int[] {5}, new int[5]), "{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }");
        assertHeader(new NpyArray(DType.INT64, new int[] {1, 0, 2}, new long[0]), "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 0, 2), }");
        assertHeader(new NpyArray(DType.BOOL, new int[] {2, 2}, new byte[4]), "{'descr': '|b1', 'fortran_order': False, 'shape': (2, 2), }");
    }

    private static void assertHeader(NpyArray a, String dict) throws IOException {
        byte[] b = bytes(a);
        int headerLength = (b[8] & 0xFF) | (b[9] & 0xFF) << 8;
        assertEquals(0, (10 + headerLength) % 64, "data aligned to 64 bytes");
        assertEquals(dict, new String(b, 10, dict.length(), StandardCharsets.US_ASCII));
        assertEquals('\n', b[10 + headerLength - 1]);
        assertEquals(10 + headerLength + a.size() * a.dtype().byteSize(), b.length);
    }

    @Test
    void everyDtypeRoundTrips() throws IOException {
        NpyArray[] arrays = {
                new NpyArray(DType.FLOAT32, new int[] {2, 2}, new float[] {Float.MIN_VALUE, -0f, Float.NaN, Float.MAX_VALUE}),
                new NpyArray(DType.FLOAT64, new int[] {3}, new double[] {Math.PI, -1e300, Double.NEGATIVE_INFINITY}),
                new NpyArray(DType.INT32, new int[] {1, 3}, new int[] {Integer.MIN_VALUE, 0, Integer.MAX_VALUE}),
                new NpyArray(DType.INT64, new int[] {2}, new long[] {Long.MIN_VALUE, 1L << 40}),
                new NpyArray(DType.BOOL, new int[] {3}, new byte[] {1, 0, 1}),
                new NpyArray(DType.FLOAT32, new int[0], new float[] {7}),
                new NpyArray(DType.FLOAT32, new int[] {0, 4}, new float[0]),
                new NpyArray(DType.FLOAT32, new int[] {5000}, new float[5000])};
        for (NpyArray a : arrays) {
            NpyArray back = read(bytes(a));
            assertEquals(a.dtype(), back.dtype());
            assertArrayEquals(a.shape(), back.shape());
            switch (a.dtype()) {
                case FLOAT32 -> assertArrayEquals((float[]) a.data(), (float[]) back.data());
                case FLOAT64 -> assertArrayEquals((double[]) a.data(), (double[]) back.data());
                case INT32 -> assertArrayEquals((int[]) a.data(), (int[]) back.data());
                case INT64 -> assertArrayEquals((long[]) a.data(), (long[]) back.data());
                case BOOL -> assertArrayEquals((byte[]) a.data(), (byte[]) back.data());
            }
        }
    }

    /** A hand-made .npy image with the given version and dict, padded as the spec says. */
    static byte[] image(int major, String dict, byte[] data) {
        int lengthBytes = major == 1 ? 2 : 4;
        int unpadded = 6 + 2 + lengthBytes + dict.length() + 1;
        int total = (unpadded + 63) / 64 * 64;
        ByteBuffer b = ByteBuffer.allocate(total + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        int headerLength = total - 8 - lengthBytes;
        if (major == 1) {
            b.putShort((short) headerLength);
        } else {
            b.putInt(headerLength);
        }
        b.put(dict.getBytes(StandardCharsets.US_ASCII));
        while (b.position() < total - 1) {
            b.put((byte) ' ');
        }
        b.put((byte) '\n').put(data);
        return b.array();
    }

    @Test
    void readsVersion2And3Headers() throws IOException {
        byte[] data = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(7).putInt(-9).array();
        for (int v : new int[] {2, 3}) {
            NpyArray a = read(image(v, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }", data));
            assertArrayEquals(new int[] {7, -9}, (int[]) a.data());
        }
    }

    @Test
    void unsupportedFilesFailWithAReason() {
        byte[] four = new byte[4];
        assertError(image(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (1,), }", four), "big-endian");
        assertError(image(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1,), }", four), "Fortran");
        assertError(image(1, "{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", new byte[8]), "object arrays");
        assertError(image(1, "{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }", four), "'<u2' is not supported");
        assertError(image(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }", four), "structured");
        assertError(image(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", four), "data ends after 4 of 12 bytes");
        assertError(image(4, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", four), "version 4.0");
        assertError("PK\3\4 not npy".getBytes(StandardCharsets.US_ASCII), "not a .npy file");
    }

    private static void assertError(byte[] image, String expected) {
        NpyFormatException e = assertThrows(NpyFormatException.class, () -> read(image));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void npzKeepsNamesAndOrder() throws IOException {
        Map<String, NpyArray> in = new LinkedHashMap<>();
        in.put("dense/kernel", new NpyArray(DType.FLOAT32, new int[] {2, 1}, new float[] {1, 2}));
        in.put("b", new NpyArray(DType.INT64, new int[] {1}, new long[] {3}));
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npz.writeArrays(out, in);
        byte[] zip = out.toByteArray();
        assertEquals('P', zip[0]);
        assertEquals('K', zip[1]);
        Map<String, NpyArray> back = Npz.read(new ByteArrayInputStream(zip), "test.npz");
        assertEquals(java.util.List.of("dense/kernel", "b"), java.util.List.copyOf(back.keySet()));
        assertArrayEquals(new float[] {1, 2}, (float[]) back.get("dense/kernel").data());
        assertArrayEquals(new long[] {3}, (long[]) back.get("b").data());
    }
}
