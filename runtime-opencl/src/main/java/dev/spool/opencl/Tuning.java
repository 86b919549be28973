package dev.spool.opencl;

import java.util.Locale;

/**
 * Kernel strategies and work-group sizes for one device. GPUs and CPUs want different kernel
 * shapes (measured on PoCL: a GPU-style local-memory tree reduction ran ~40x slower than one
 * work-item per contiguous block, and explicit local sizes of 256..4096 doubled elementwise
 * bandwidth), so the strategy follows the device type, with GPU defaults for anything else.
 *
 * @param style            which kernel family to use for reductions and matmul
 * @param elementwiseLocal local size of one-element-per-work-item kernels
 * @param reduceLocal      local size of the work-group (tree) reduction, a power of two
 * @param rowsLocal        local size of one-row-per-work-item kernels (chunked reductions)
 * @param targetGroups     work-groups (GPU) or work-items (CPU) worth keeping busy at once
 * @param elementwiseChunk consecutive elements per work-item of the elementwise kernels
 *                         (SPOOL_FOR_CHUNK in prelude.cl): 1 on GPUs, {@link #CPU_CHUNK} on CPUs
 */
record Tuning(Style style, int elementwiseLocal, int reduceLocal, int rowsLocal, int targetGroups,
              int elementwiseChunk) {

    /**
     * Elements per work-item of the elementwise kernels on CPU devices. On PoCL (2-core EPYC,
     * add of 4M floats) chunks of 1024, 4096 and 16384 ran within 10 % of each other and 3-4x
     * faster than one element per work-item; the smallest keeps the most work-items for the
     * cores on mid-sized tensors.
     */
    static final int CPU_CHUNK = 1024;

    /** GPU: tree reductions in local memory, tiled matmul. CPU: chunked reductions, row matmul. */
    enum Style { GPU, CPU }

    /** System property that forces a style on every device: {@code gpu} or {@code cpu}. */
    static final String STYLE_PROPERTY = "spool.opencl.strategy";

    // matmul's configurations: GemmConfig (the family) and GemmTuner (which one, per device)

    /**
     * The tuning for a device of {@code style} (the device type, unless overridden) whose kernels
     * may use up to {@code maxWorkGroup} work-items per group.
     */
    static Tuning of(Style style, long maxWorkGroup, int computeUnits) {
        int cap = (int) Math.min(Integer.MAX_VALUE, Math.max(1, maxWorkGroup));
        int units = Math.max(1, computeUnits);
        if (style == Style.CPU) {
            return new Tuning(style, floorPow2(Math.min(1024, cap)), floorPow2(Math.min(256, cap)),
                    floorPow2(Math.min(64, cap)), 4 * units, CPU_CHUNK);
        }
        return new Tuning(style, floorPow2(Math.min(256, cap)), floorPow2(Math.min(256, cap)),
                floorPow2(Math.min(128, cap)), 4 * units, 1);
    }

    /**
     * The build options every program gets on a device, before the tuning's and its own: OpenCL C
     * 1.2 keeps the sources honest on newer drivers; correctly rounded float division and sqrt
     * match the CPU backend (Java) where the device offers it ({@code exactDivide}). PoCL
     * ({@code pocl}): fma() is a library call its loop vectoriser stops at (elementwise.cl's sin
     * and cos ran scalar, 10x slower); -DSPOOL_FMA_BUILTIN uses clang's builtin, a vfmadd,
     * instead. Not elsewhere: GPU compilers map fma() to the instruction, Oclgrind lacks the builtin.
     */
    static String baseOptions(boolean exactDivide, boolean pocl) {
        return "-cl-std=CL1.2" + (exactDivide ? " -cl-fp32-correctly-rounded-divide-sqrt" : "")
                + (pocl ? " -DSPOOL_FMA_BUILTIN" : "");
    }

    /** What every program built for this tuning gets on top of its own options. */
    String buildOptions() {
        return elementwiseChunk == 1 ? "" : "-DSPOOL_CHUNK=" + elementwiseChunk;
    }

    /** The style for a device: the override property if set, else from the device type. */
    static Style styleFor(boolean isCpuDevice) {
        String forced = System.getProperty(STYLE_PROPERTY, "").trim().toLowerCase(Locale.ROOT);
        if (forced.equals("gpu")) {
            return Style.GPU;
        }
        if (forced.equals("cpu")) {
            return Style.CPU;
        }
        return isCpuDevice ? Style.CPU : Style.GPU;
    }

    static int floorPow2(int n) {
        return Integer.highestOneBit(Math.max(1, n));
    }
}
