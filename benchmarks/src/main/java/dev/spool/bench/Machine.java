package dev.spool.bench;

import dev.spool.Device;
import dev.spool.spi.DeviceInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Prints, as one JSON object, what scripts/bench/run.sh records next to the figures: the JVM,
 * the processors it sees, and Spool's devices (the run script benchmarks opencl:0 only when
 * it is listed here).
 */
public final class Machine {
    private Machine() {
    }

    public static void main(String[] args) {
        List<String> devices = new ArrayList<>();
        for (Device d : Device.list()) {
            DeviceInfo i = d.info();
            devices.add(String.format(Locale.ROOT,
                    "{\"id\": %s, \"name\": %s, \"vendor\": %s, \"type\": \"%s\", \"computeUnits\": %d}",
                    quote(d.id()), quote(i.name()), quote(i.vendor()), i.type(), i.computeUnits()));
        }
        System.out.printf(Locale.ROOT, "{\"java\": %s, \"vm\": %s, \"processors\": %d, \"devices\": [%s]}%n",
                quote(Runtime.version().toString()),
                quote(System.getProperty("java.vm.name") + " (" + System.getProperty("java.vendor") + ")"),
                Runtime.getRuntime().availableProcessors(), String.join(", ", devices));
    }

    private static String quote(String s) {
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20) {
                b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }
}
