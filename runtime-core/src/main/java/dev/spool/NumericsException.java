package dev.spool;

/**
 * A NaN or an Inf found by check-numerics mode ({@link Spool#enableCheckNumerics()}). The message
 * names the op that produced it, its inputs' dtypes and shapes, the first bad element and the line
 * of the caller; this exception's stack trace is the call's. In a backward pass it also names the
 * forward op whose VJP produced the value and the line where a tape recorded that op; the cause,
 * "forward op ... recorded here", carries the whole stack of that recording.
 */
public class NumericsException extends SpoolException {
    private final String op;
    private final String forwardOp;

    NumericsException(String message, String op, String forwardOp, StackTraceElement[] recordedAt) {
        super(message, recordedAt == null ? null : new RecordedHere(forwardOp, recordedAt));
        this.op = op;
        this.forwardOp = forwardOp;
    }

    /** The op whose output holds the NaN or Inf. */
    public String op() {
        return op;
    }

    /** In a backward pass, the forward op whose VJP produced the value; {@code null} in a forward pass. */
    public String forwardOp() {
        return forwardOp;
    }

    /** Where a tape recorded the forward op: its stack, as PyTorch's anomaly mode prints it. */
    static final class RecordedHere extends SpoolException {
        RecordedHere(String op, StackTraceElement[] stack) {
            super("forward op '" + op + "' was recorded here");
            setStackTrace(stack);
        }
    }
}
