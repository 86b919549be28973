package dev.spool.function;

import dev.spool.Device;
import dev.spool.spi.Backend;
import java.util.List;

/** One step of a traced graph: a primitive (or a fused group of them), a host write, or Java code. */
abstract class Node {
    final Device device;
    /** Values read, and values written (a value may be written by several nodes: slices of one buffer). */
    final List<Value> inputs;
    final List<Value> outputs;

    Node(Device device, List<Value> inputs, List<Value> outputs) {
        this.device = device;
        this.inputs = inputs;
        this.outputs = outputs;
    }

    /** Issues this node with a call's buffers; {@code backend} is the device's own. */
    abstract void run(Backend backend, Binding binding);

    /** Kernel launches this node costs (at most; a backend may split one). */
    int launches() {
        return 1;
    }

    /** Whether dead-code elimination may drop it when nothing reads what it writes. */
    boolean pure() {
        return true;
    }

    abstract String label();
}
