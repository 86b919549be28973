package dev.spool.function;

import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;

/** A call's buffers: one per value of the graph, and the offset shift of argument views. */
final class Binding {
    final DeviceBuffer[] buffers;
    final long[] shifts;
    /** Calls of this graph so far, the trace not counted (random ops draw new numbers per call). */
    long call;

    Binding(int values) {
        buffers = new DeviceBuffer[values];
        shifts = new long[values];
    }

    DeviceBuffer buffer(Value v) {
        return buffers[v.id];
    }

    /** The traced view {@code traced} of {@code v}, moved onto this call's buffer. */
    View view(Value v, View traced) {
        DeviceBuffer b = buffers[v.id];
        long shift = shifts[v.id];
        if (b == traced.buffer() && shift == 0) {
            return traced;
        }
        return new View(b, traced.shape(), traced.strides(), traced.offset() + shift);
    }
}
