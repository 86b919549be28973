package dev.spool.nn.data;

import dev.spool.DType;
import dev.spool.DTypeException;
import dev.spool.Shape;
import dev.spool.ShapeException;
import dev.spool.Spool;
import dev.spool.Tensor;
import dev.spool.internal.NullChecks;
import java.io.BufferedReader;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A CSV file of numbers: comma-separated decimal values, one row per line, an optional header
 * line of column names; blank lines are skipped. Anything else (a cell that is not a number, a
 * row of the wrong length) is a {@link CsvFormatException} naming the line and column; a row or
 * column outside the table is a {@link ShapeException}.
 */
public final class Csv {
    private final List<String> header;
    private final double[][] rows;

    private Csv(List<String> header, double[][] rows) {
        this.header = header;
        this.rows = rows;
    }

    public static Csv read(Path file, boolean hasHeader) {
        NullChecks.nonNull(file, "Csv.read", "file");
        try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            return read(r, file.toString(), hasHeader);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + file, e);
        }
    }

    /** Reads a class-path resource (e.g. a data set shipped in a jar). */
    public static Csv readResource(Class<?> anchor, String name, boolean hasHeader) {
        NullChecks.nonNull(anchor, "Csv.readResource", "anchor");
        NullChecks.nonNull(name, "Csv.readResource", "name");
        InputStream in = anchor.getResourceAsStream(name);
        if (in == null) { // as a missing file in read(Path): an I/O error
            throw new UncheckedIOException(new FileNotFoundException("no resource '" + name + "' next to "
                    + anchor.getName()));
        }
        try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            return read(r, name, hasHeader);
        } catch (IOException e) {
            throw new UncheckedIOException("reading " + name, e);
        }
    }

    public static Csv read(Reader reader, String source, boolean hasHeader) throws IOException {
        NullChecks.nonNull(reader, "Csv.read", "reader");
        NullChecks.nonNull(source, "Csv.read", "source");
        BufferedReader in = new BufferedReader(reader);
        List<String> header = List.of();
        List<double[]> rows = new ArrayList<>();
        int width = -1;
        int lineNo = 0;
        for (String line = in.readLine(); line != null; line = in.readLine()) {
            lineNo++;
            if (line.isBlank()) {
                continue;
            }
            String[] cells = line.split(",", -1);
            if (hasHeader && header.isEmpty() && rows.isEmpty()) {
                List<String> names = new ArrayList<>();
                for (String c : cells) {
                    names.add(c.strip());
                }
                header = List.copyOf(names);
                width = cells.length;
                continue;
            }
            if (width >= 0 && cells.length != width) {
                throw new CsvFormatException(source + " line " + lineNo + ": " + cells.length
                        + " columns, expected " + width);
            }
            width = cells.length;
            double[] row = new double[cells.length];
            for (int c = 0; c < cells.length; c++) {
                try {
                    row[c] = Double.parseDouble(cells[c].strip());
                } catch (NumberFormatException e) {
                    throw new CsvFormatException(source + " line " + lineNo + ", column " + (c + 1)
                            + ": '" + cells[c].strip() + "' is not a number");
                }
            }
            rows.add(row);
        }
        return new Csv(header, rows.toArray(new double[0][]));
    }

    /** Column names from the header line (empty without one). */
    public List<String> header() {
        return header;
    }

    public int rows() {
        return rows.length;
    }

    public int columns() {
        return rows.length == 0 ? header.size() : rows[0].length;
    }

    /** The value at ({@code row}, {@code column}), both from 0. */
    public double get(int row, int column) {
        if (row < 0 || row >= rows.length) {
            throw new ShapeException("Csv.get: row " + row + " of a CSV with " + rows.length + " rows");
        }
        checkColumn("Csv.get", column);
        return rows[row][column];
    }

    /** The given columns as a {@code [rows, k]} tensor of {@code dtype} on the current device. */
    public Tensor columns(DType dtype, int... columns) {
        NullChecks.nonNull(dtype, "Csv.columns", "dtype");
        NullChecks.nonNull(columns, "Csv.columns", "columns");
        for (int c : columns) {
            checkColumn("Csv.columns", c);
        }
        double[] flat = new double[rows.length * columns.length];
        for (int r = 0; r < rows.length; r++) {
            for (int j = 0; j < columns.length; j++) {
                flat[r * columns.length + j] = rows[r][columns[j]];
            }
        }
        return Spool.constant(flat, Shape.of(rows.length, columns.length), dtype);
    }

    /** One column as a {@code [rows]} tensor of {@code dtype} (e.g. int32 class labels). */
    public Tensor column(DType dtype, int column) {
        NullChecks.nonNull(dtype, "Csv.column", "dtype");
        checkColumn("Csv.column", column);
        double[] flat = new double[rows.length];
        for (int r = 0; r < rows.length; r++) {
            flat[r] = rows[r][column];
            if (dtype.isInteger() && flat[r] != Math.rint(flat[r])) {
                throw new DTypeException("Csv.column: column " + column + " row " + r + ": " + flat[r]
                        + " is not an integer, as " + dtype + " needs");
            }
        }
        return Spool.constant(flat, Shape.of(rows.length), dtype);
    }

    private void checkColumn(String op, int c) {
        if (c < 0 || c >= columns()) {
            throw new ShapeException(op + ": column " + c + " of a CSV with " + columns() + " columns");
        }
    }
}
