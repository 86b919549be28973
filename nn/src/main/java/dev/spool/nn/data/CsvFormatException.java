package dev.spool.nn.data;

import dev.spool.SpoolException;

/** A CSV file that is not a table of numbers: the message names the source, line and column. */
public final class CsvFormatException extends SpoolException {
    public CsvFormatException(String message) {
        super(message);
    }
}
