package dev.spool.function;

import dev.spool.Device;
import dev.spool.spi.Backend;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.FusedElementwise;
import dev.spool.spi.View;
import java.util.ArrayList;
import java.util.List;

/** Independent elementwise programs run as one {@link Backend#fusedElementwiseGroup}: one launch. */
final class GroupNode extends Node {
    /**
     * One program of the group, with the traced views it reads and the value it writes, and the
     * node it stands for (for {@link #label}).
     */
    record Member(FusedElementwise program, View[] in, Value[] inValues, Value out, Node node) {
        String label() {
            return node instanceof CallNode c && c.method.getName().equals("applyGradientDescent")
                    ? c.label() + " lr=" + c.args[2] : node.label();
        }
    }

    final List<Member> members;
    private final List<FusedElementwise> programs = new ArrayList<>();

    GroupNode(Device device, List<Member> members) {
        super(device, inputsOf(members), outputsOf(members));
        this.members = List.copyOf(members);
        for (Member m : members) {
            programs.add(m.program());
        }
    }

    private static List<Value> inputsOf(List<Member> members) {
        List<Value> in = new ArrayList<>();
        for (Member m : members) {
            in.addAll(List.of(m.inValues()));
        }
        return in;
    }

    private static List<Value> outputsOf(List<Member> members) {
        List<Value> out = new ArrayList<>();
        for (Member m : members) {
            out.add(m.out());
        }
        return out;
    }

    @Override
    void run(Backend backend, Binding binding) {
        List<View[]> views = new ArrayList<>(members.size());
        List<DeviceBuffer> outs = new ArrayList<>(members.size());
        for (Member m : members) {
            View[] v = new View[m.in().length];
            for (int i = 0; i < v.length; i++) {
                v[i] = binding.view(m.inValues()[i], m.in()[i]);
            }
            views.add(v);
            outs.add(binding.buffer(m.out()));
        }
        backend.fusedElementwiseGroup(programs, views, outs);
    }

    @Override
    String label() {
        StringBuilder s = new StringBuilder("group[" + members.size() + " programs]");
        for (Member m : members) {
            s.append("\n        ").append(m.label());
        }
        return s.toString();
    }
}
