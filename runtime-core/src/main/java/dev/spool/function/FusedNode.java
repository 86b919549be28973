package dev.spool.function;

import dev.spool.Device;
import dev.spool.spi.Backend;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.FusedElementwise;
import dev.spool.spi.View;
import java.util.Arrays;
import java.util.List;

/** Several elementwise primitives run as one {@link Backend#fusedElementwise}. */
final class FusedNode extends Node {
    final FusedElementwise program;
    final View[] in;
    final Value[] inValues;
    private final int[] shape;
    /** How many traced primitives it stands for. */
    final int members;

    FusedNode(Device device, FusedElementwise program, View[] in, Value[] inValues, Value out, int[] shape, int members) {
        super(device, Arrays.asList(inValues), List.of(out));
        this.program = program;
        this.in = in;
        this.inValues = inValues;
        this.shape = shape;
        this.members = members;
    }

    @Override
    void run(Backend backend, Binding binding) {
        View[] views = new View[in.length];
        for (int i = 0; i < in.length; i++) {
            views[i] = binding.view(inValues[i], in[i]);
        }
        DeviceBuffer out = binding.buffer(outputs.get(0));
        backend.fusedElementwise(program, views, out);
    }

    @Override
    String label() {
        return "fused[" + members + " ops] " + program.expression() + " " + inputs + " -> " + outputs + " "
                + Arrays.toString(shape);
    }
}
