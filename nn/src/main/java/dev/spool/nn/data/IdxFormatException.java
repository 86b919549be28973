package dev.spool.nn.data;

import dev.spool.SpoolException;

/**
 * A file that is not a well-formed IDX file (a wrong magic number, a truncated header or body,
 * bytes beyond the data, a corrupt gzip stream), or a well-formed one that does not hold what its
 * data set does ({@link FashionMnist}'s images and labels). The message names the file and what
 * was found.
 */
public final class IdxFormatException extends SpoolException {
    public IdxFormatException(String message) {
        super(message);
    }
}
