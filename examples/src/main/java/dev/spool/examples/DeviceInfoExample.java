package dev.spool.examples;

import dev.spool.Device;
import dev.spool.spi.DeviceInfo;

/** Lists every device Spool can use and the one it would choose by default. */
public final class DeviceInfoExample {
    private DeviceInfoExample() {
    }

    public static void main(String[] args) {
        System.out.printf("%-10s %-6s %-40s %-28s %5s %10s %5s%n",
                "id", "type", "name", "vendor", "units", "memory", "fp64");
        for (Device d : Device.list()) {
            DeviceInfo i = d.info();
            System.out.printf("%-10s %-6s %-40s %-28s %5d %7d MiB %5s%n", d.id(), i.type(),
                    truncate(i.name(), 40), truncate(i.vendor(), 28), i.computeUnits(),
                    i.globalMemBytes() >> 20, i.fp64() ? "yes" : "no");
        }
        Device chosen = Device.current(); // before printing: choosing logs a line of its own
        System.out.println();
        System.out.println("default device: " + chosen
                + " (set -Dspool.device=... or SPOOL_DEVICE to choose another)");
    }

    private static String truncate(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "…";
    }
}
