package dev.spool;

import dev.spool.internal.NullChecks;

/**
 * A snapshot of one device's memory and transfer counters, from {@link Device#stats()}.
 * Subtract two snapshots with {@link #minus} to see what a piece of code did.
 *
 * @param liveBuffers        buffers allocated and not yet released
 * @param liveBytes          bytes in those buffers
 * @param allocations        buffers allocated since start
 * @param hostToDeviceCalls  host to device copies ({@code write})
 * @param hostToDeviceBytes  bytes copied host to device
 * @param deviceToHostCalls  device to host copies ({@code read})
 * @param deviceToHostBytes  bytes copied device to host
 * @param leakedTensors      tensors freed by the garbage collector instead of {@code close()}
 * @param reclaims           times an allocation had the garbage collector reclaim memory (the
 *                           memory budget was reached or the driver ran out; see
 *                           {@link Device#memoryBudget()})
 * @param peakLiveBytes      the most bytes live at once since start (in a difference: the
 *                           later snapshot's)
 * @param kernelLaunches     kernels the backend queued on the device (0 where it queues none)
 */
public record DeviceStats(long liveBuffers, long liveBytes, long allocations,
                          long hostToDeviceCalls, long hostToDeviceBytes,
                          long deviceToHostCalls, long deviceToHostBytes, long leakedTensors,
                          long reclaims, long peakLiveBytes, long kernelLaunches) {

    /** Counter differences {@code this - earlier}. */
    public DeviceStats minus(DeviceStats earlier) {
        NullChecks.nonNull(earlier, "DeviceStats.minus", "earlier");
        return new DeviceStats(liveBuffers - earlier.liveBuffers, liveBytes - earlier.liveBytes,
                allocations - earlier.allocations,
                hostToDeviceCalls - earlier.hostToDeviceCalls,
                hostToDeviceBytes - earlier.hostToDeviceBytes,
                deviceToHostCalls - earlier.deviceToHostCalls,
                deviceToHostBytes - earlier.deviceToHostBytes,
                leakedTensors - earlier.leakedTensors, reclaims - earlier.reclaims, peakLiveBytes,
                kernelLaunches - earlier.kernelLaunches);
    }

    /** Host↔device copies in either direction. */
    public long transfers() {
        return hostToDeviceCalls + deviceToHostCalls;
    }
}
