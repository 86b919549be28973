package dev.spool.function;

import dev.spool.Device;
import dev.spool.spi.Backend;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.ReduceOp;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.List;

/**
 * Independent reductions (each a traced {@code reduce}) run as one {@link Backend#reduceGroup}:
 * one launch on backends that group them (a step's loss sum and bias gradients).
 */
final class ReduceGroupNode extends Node {
    final List<CallNode> members;

    ReduceGroupNode(Device device, List<CallNode> members) {
        super(device, valuesOf(members, true), valuesOf(members, false));
        for (CallNode c : members) {
            if (!c.method.getName().equals("reduce")) {
                throw new IllegalArgumentException("a reduce group of " + c.label());
            }
        }
        this.members = List.copyOf(members);
    }

    private static List<Value> valuesOf(List<CallNode> members, boolean inputs) {
        List<Value> all = new ArrayList<>();
        for (CallNode c : members) {
            all.addAll(inputs ? c.inputs : c.outputs);
        }
        return all;
    }

    @Override
    void run(Backend backend, Binding binding) {
        int n = members.size();
        List<ReduceOp> ops = new ArrayList<>(n);
        List<View> xs = new ArrayList<>(n);
        int[] reducedDims = new int[n];
        List<DeviceBuffer> outs = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            CallNode c = members.get(i); // reduce(op, x, reducedDims, out)
            ops.add((ReduceOp) c.args[0]);
            xs.add(binding.view(c.argValues[1], (View) c.args[1]));
            reducedDims[i] = (Integer) c.args[2];
            outs.add(binding.buffer(c.argValues[3]));
        }
        backend.reduceGroup(ops, xs, reducedDims, outs);
    }

    @Override
    String label() {
        StringBuilder s = new StringBuilder("reduceGroup[" + members.size() + " reductions]");
        for (CallNode c : members) {
            s.append("\n        ").append(c.label());
        }
        return s.toString();
    }
}
