package dev.spool.function;

import dev.spool.Device;
import dev.spool.internal.TraceHooks;
import dev.spool.spi.Backend;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;
import java.util.Arrays;

/** A primitive recorded as a closure ({@link TraceHooks.Sink#launch}): its scalars are read when it runs. */
final class LaunchNode extends Node {
    private final String name;
    private final View[] in;
    private final Value[] inValues;
    private final Value[] outValues;
    private final TraceHooks.Launch launch;

    LaunchNode(Device device, String name, View[] in, Value[] inValues, Value[] outValues, TraceHooks.Launch launch) {
        super(device, Arrays.asList(inValues), Arrays.asList(outValues));
        this.name = name;
        this.in = in;
        this.inValues = inValues;
        this.outValues = outValues;
        this.launch = launch;
    }

    @Override
    void run(Backend backend, Binding binding) {
        View[] views = new View[in.length];
        for (int i = 0; i < in.length; i++) {
            views[i] = binding.view(inValues[i], in[i]);
        }
        DeviceBuffer[] out = new DeviceBuffer[outValues.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = binding.buffer(outValues[i]);
        }
        launch.run(backend, views, out);
    }

    @Override
    String label() {
        return name + " " + inputs + " -> " + outputs;
    }
}
