package dev.spool.function;

/** How a traced function compiles its graphs. */
record FunctionOptions(boolean fuse) {
}
