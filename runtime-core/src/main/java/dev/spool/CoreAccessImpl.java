package dev.spool;

import dev.spool.internal.CoreAccess;
import dev.spool.spi.Backend;
import dev.spool.spi.DeviceBuffer;
import dev.spool.spi.View;

/** Core's side of {@link CoreAccess}, for traced functions. */
final class CoreAccessImpl extends CoreAccess {
    @Override
    public Backend backend(Device device) {
        return device.ownBackend();
    }

    @Override
    public DeviceBuffer allocate(Device device, DType dtype, long size) {
        return device.allocate(dtype, size);
    }

    @Override
    public void release(Device device, DeviceBuffer buffer) {
        device.release(buffer);
    }

    @Override
    public void write(Device device, DeviceBuffer dst, Object hostArray) {
        device.write(dst, hostArray);
    }

    @Override
    public View view(Tensor t) {
        return t.spiView();
    }

    @Override
    public Tensor wrap(Device device, DeviceBuffer buffer, Shape shape, long[] strides, long offset) {
        Tensor base = Tensor.create(new Storage(device, buffer), Shape.of(Math.toIntExact(buffer.size())));
        try {
            return Tensor.view(base, shape, strides, offset);
        } finally {
            base.close();
        }
    }

    @Override
    public Tensor viewOf(Tensor base, Shape shape, long[] strides, long offset) {
        return Tensor.view(base, shape, strides, offset);
    }

    @Override
    public Tensor alias(Tensor t) {
        return t.freshAlias();
    }

    @Override
    public View variableView(Variable v) {
        return v.currentUntraced().spiView();
    }

    @Override
    public void replace(Variable v, Tensor fresh) {
        v.replace(fresh);
    }

    @Override
    public boolean checkNumericsEnabled() {
        return CheckNumerics.enabled;
    }
}
