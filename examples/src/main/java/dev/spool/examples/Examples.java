package dev.spool.examples;

import dev.spool.Device;

/** Command-line handling shared by the examples. */
final class Examples {
    private Examples() {
    }

    /** {@code --device SPEC} picks a device; without it, the best one ({@link Device#current()}). */
    static Device deviceFromArgs(String[] args) {
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--device")) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException("--device needs a value: cpu, opencl or opencl:N");
                }
                return Device.get(args[i + 1]);
            }
            if (args[i].startsWith("--device=")) {
                return Device.get(args[i].substring("--device=".length()));
            }
            throw new IllegalArgumentException("unknown argument '" + args[i]
                    + "'; usage: [--device cpu|opencl|opencl:N]");
        }
        return Device.current();
    }
}
