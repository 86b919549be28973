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
                    + "'; usage: [--device cpu|opencl|opencl:N] (the tutorial also takes --devices: lists them)");
        }
        return Device.current();
    }

    /**
     * {@code --name value} or {@code --name=value} options, each of {@code names} at most once;
     * anything else is an error that shows {@code usage}.
     */
    static java.util.Map<String, String> options(String[] args, String usage, String... names) {
        java.util.Map<String, String> out = new java.util.HashMap<>();
        java.util.Set<String> allowed = java.util.Set.of(names);
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String name;
            String value;
            if (a.startsWith("--") && a.contains("=")) {
                name = a.substring(2, a.indexOf('='));
                value = a.substring(a.indexOf('=') + 1);
            } else if (a.startsWith("--") && i + 1 < args.length) {
                name = a.substring(2);
                value = args[++i];
            } else {
                throw new IllegalArgumentException("unexpected argument '" + a + "'; usage: " + usage);
            }
            if (!allowed.contains(name)) {
                throw new IllegalArgumentException("unknown option --" + name + "; usage: " + usage);
            }
            out.put(name, value);
        }
        return out;
    }

    /** The device named by {@code --device} in {@code options}, else the best one. */
    static Device device(java.util.Map<String, String> options) {
        String spec = options.get("device");
        return spec == null ? Device.current() : Device.get(spec);
    }
}
