package dev.spool;

/** What {@link GradientTape#gradient} returns for a source the target does not depend on. */
public enum UnconnectedGradients {
    /** {@code null}, as TensorFlow returns {@code None}. The default. */
    NONE,
    /** A zero tensor shaped like the source. */
    ZERO
}
