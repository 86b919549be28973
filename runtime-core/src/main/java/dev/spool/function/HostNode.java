package dev.spool.function;

import dev.spool.spi.Backend;
import java.util.List;

/** Java code a library asked to run at every call ({@code TracedFunction.onEachCall}), in order. */
final class HostNode extends Node {
    private final Runnable body;

    HostNode(Runnable body) {
        super(null, List.of(), List.of());
        this.body = body;
    }

    @Override
    void run(Backend backend, Binding binding) {
        body.run();
    }

    @Override
    int launches() {
        return 0;
    }

    @Override
    boolean pure() {
        return false;
    }

    @Override
    String label() {
        return "java " + body.getClass().getSimpleName();
    }
}
