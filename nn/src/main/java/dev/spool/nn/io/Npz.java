package dev.spool.nn.io;

import dev.spool.Operand;
import dev.spool.internal.NullChecks;
import dev.spool.nn.internal.NnArgs;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * NumPy's {@code .npz}: a zip archive of {@code .npy} files, one per array, each named
 * {@code key.npy}; {@code numpy.load(file)[key]} gives the array. Written uncompressed
 * ({@code ZIP_STORED}), as {@code numpy.savez} does; reads stored and deflated archives
 * ({@code savez_compressed}).
 */
public final class Npz {
    private Npz() {
    }

    /** Writes each tensor or variable under its key, in the map's order. */
    public static void write(Path file, Map<String, ? extends Operand> arrays) {
        NullChecks.nonNull(file, "Npz.write", "file");
        NnArgs.entries(arrays, "Npz.write", "arrays");
        Map<String, NpyArray> host = new LinkedHashMap<>();
        arrays.forEach((k, v) -> host.put(k, NpyArray.of(v)));
        writeArrays(file, host);
    }

    public static void writeArrays(Path file, Map<String, NpyArray> arrays) {
        NullChecks.nonNull(file, "Npz.writeArrays", "file");
        checkNames(NnArgs.entries(arrays, "Npz.writeArrays", "arrays")); // before the file is created
        try (OutputStream out = new BufferedOutputStream(Files.newOutputStream(file))) {
            writeArrays(out, arrays);
        } catch (IOException e) {
            throw new UncheckedIOException("writing " + file, e);
        }
    }

    public static void writeArrays(OutputStream out, Map<String, NpyArray> arrays) throws IOException {
        NullChecks.nonNull(out, "Npz.writeArrays", "out");
        checkNames(NnArgs.entries(arrays, "Npz.writeArrays", "arrays"));
        ZipOutputStream zip = new ZipOutputStream(out);
        for (Map.Entry<String, NpyArray> e : arrays.entrySet()) {
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            Npy.write(bytes, e.getValue());
            byte[] image = bytes.toByteArray();
            CRC32 crc = new CRC32();
            crc.update(image);
            ZipEntry entry = new ZipEntry(e.getKey() + ".npy");
            entry.setMethod(ZipEntry.STORED); // stored entries need size and CRC up front
            entry.setSize(image.length);
            entry.setCompressedSize(image.length);
            entry.setCrc(crc.getValue());
            zip.putNextEntry(entry);
            zip.write(image);
            zip.closeEntry();
        }
        zip.finish();
    }

    private static void checkNames(Map<String, NpyArray> arrays) {
        for (String name : arrays.keySet()) {
            if (name.isEmpty()) {
                throw new NpyFormatException("Npz.writeArrays: an array needs a non-empty name, got ''");
            }
        }
    }

    /** Every array by key (the entry name without {@code .npy}), in archive order. */
    public static Map<String, NpyArray> read(Path file) {
        NullChecks.nonNull(file, "Npz.read", "file");
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            return read(in, file.toString());
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }

    public static Map<String, NpyArray> read(InputStream in, String source) throws IOException {
        NullChecks.nonNull(in, "Npz.read", "in");
        NullChecks.nonNull(source, "Npz.read", "source");
        Map<String, NpyArray> out = new LinkedHashMap<>();
        ZipInputStream zip = new ZipInputStream(in);
        boolean any = false;
        for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
            any = true;
            if (e.isDirectory()) {
                continue;
            }
            String name = e.getName();
            String key = name.endsWith(".npy") ? name.substring(0, name.length() - 4) : name;
            out.put(key, Npy.read(zip, source + "[" + name + "]"));
        }
        if (!any) {
            throw new NpyFormatException(source + ": not a .npz file (no zip entries)");
        }
        return out;
    }
}
