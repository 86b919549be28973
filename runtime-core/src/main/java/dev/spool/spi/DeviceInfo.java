package dev.spool.spi;

/**
 * What a device is, as a backend reports it.
 *
 * @param backend        backend name, e.g. {@code cpu} or {@code opencl}
 * @param index          index of the device within its backend
 * @param name           device name as its driver reports it
 * @param vendor         vendor name
 * @param type           kind of processor
 * @param computeUnits   compute units (cores for a CPU)
 * @param globalMemBytes global memory in bytes
 * @param maxAllocBytes  largest single buffer in bytes
 * @param fp64           whether float64 is supported
 */
public record DeviceInfo(String backend, int index, String name, String vendor, DeviceType type,
                         int computeUnits, long globalMemBytes, long maxAllocBytes, boolean fp64) {

    public enum DeviceType { GPU, CPU, ACCELERATOR, OTHER }

    /** The name used to select this device: {@code cpu}, {@code opencl:1}, ... */
    public String id() {
        return backend.equals("cpu") ? "cpu" : backend + ":" + index;
    }
}
