package dev.spool.function;

import dev.spool.Device;
import dev.spool.internal.CoreAccess;
import dev.spool.spi.Backend;
import java.util.List;

/** A host array written to the device inside the function ({@code Spool.constant} in its body). */
final class WriteNode extends Node {
    private final Object hostArray;

    WriteNode(Device device, Value dst, Object hostArray) {
        super(device, List.of(), List.of(dst));
        this.hostArray = hostArray;
    }

    @Override
    void run(Backend backend, Binding binding) {
        CoreAccess.get().write(device, binding.buffer(outputs.get(0)), hostArray);
    }

    @Override
    int launches() {
        return 0;
    }

    @Override
    String label() {
        return "write " + java.lang.reflect.Array.getLength(hostArray) + " from the host -> " + outputs;
    }
}
