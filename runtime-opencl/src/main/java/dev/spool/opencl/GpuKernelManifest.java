package dev.spool.opencl;

import dev.spool.DType;
import dev.spool.spi.BinaryOp;
import dev.spool.spi.UnaryOp;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes every program the backend may build, as a GPU would build it, for an offline compiler:
 * {@code scripts/gpu-resources/} compiles each for AMD GPUs with clang and reports what each
 * kernel allocates (registers, spills, local and scratch memory, occupancy).
 *
 * <p>Into the folder given as the only argument: each kernel source as the host builds it (the
 * prelude in front, {@link KernelSources#text}), under its own name, and {@code programs.json}:
 * one entry per (source, build options) of {@link KernelCatalog#all(boolean)} (float64 included),
 * with the options a GPU gets in full ({@link Tuning#baseOptions}, the GPU tuning's, the
 * program's), and per kernel the primitives and dtypes it serves, whether the GPU path may
 * launch it ({@link KernelCatalog.KernelRef#styles}) and its family, which decides the
 * occupancy the report demands of it.
 */
public final class GpuKernelManifest {
    /**
     * The base options of a GPU: AMD's and NVIDIA's OpenCL drivers report correctly rounded
     * divide and sqrt, so they get the flag (and the exact division it asks for).
     */
    static final String GPU_BASE_OPTIONS = Tuning.baseOptions(true, false);

    private GpuKernelManifest() {
    }

    /** How much the report asks of a kernel, by what it does. */
    enum Family {
        /** One element (or a few) per work-item: latency hidden by many waves. */
        ELEMENTWISE,
        /** Reductions and the fused softmax rows: memory-bound, also need many waves. */
        REDUCTION,
        /**
         * Tiles in registers and local memory trade waves for reuse: no occupancy demand. The
         * implicit-GEMM convolutions (conv_gemm.cl) run gemm.cl's tile loops with matmul's tiles; the
         * fused attention (attention.cl) keeps a row's chunk of accumulators in registers.
         */
        MATMUL;

        static Family of(String source) {
            return switch (source) {
                // attention.cl: each work-item keeps a chunk of ACC_N output columns in registers
                case KernelSources.MATMUL, KernelSources.CONV_GEMM, KernelSources.ATTENTION -> MATMUL;
                case KernelSources.REDUCTION, KernelSources.SOFTMAX -> REDUCTION;
                default -> ELEMENTWISE;
            };
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: GpuKernelManifest OUTPUT_DIR");
        }
        write(Path.of(args[0]));
    }

    static void write(Path dir) throws IOException {
        Files.createDirectories(dir);
        for (String source : KernelSources.ALL) {
            Files.writeString(dir.resolve(source), KernelSources.text(source), StandardCharsets.UTF_8);
        }
        String tuning = Tuning.of(Tuning.Style.GPU, 1024, 1).buildOptions();
        // program (source + options) -> kernel -> its entries, in catalog order
        Map<List<String>, Map<String, List<KernelCatalog.KernelRef>>> programs = new LinkedHashMap<>();
        for (KernelCatalog.KernelRef k : KernelCatalog.all(true)) {
            String options = join(GPU_BASE_OPTIONS, join(k.options(), tuning));
            programs.computeIfAbsent(List.of(k.source(), options), p -> new LinkedHashMap<>())
                    .computeIfAbsent(k.kernel(), n -> new ArrayList<>()).add(k);
        }
        StringBuilder json = new StringBuilder("{\n  \"baseOptions\": ").append(quote(GPU_BASE_OPTIONS))
                .append(",\n  \"programs\": [");
        String sep = "\n";
        for (Map.Entry<List<String>, Map<String, List<KernelCatalog.KernelRef>>> p : programs.entrySet()) {
            json.append(sep).append("    {\"source\": ").append(quote(p.getKey().get(0)))
                    .append(", \"options\": ").append(quote(p.getKey().get(1))).append(", \"kernels\": [");
            String ksep = "\n";
            for (Map.Entry<String, List<KernelCatalog.KernelRef>> k : p.getValue().entrySet()) {
                List<KernelCatalog.KernelRef> refs = k.getValue();
                boolean gpu = refs.stream().anyMatch(KernelCatalog.KernelRef::gpuPath);
                List<String> serves = refs.stream().map(r -> r.primitive() + " " + r.dtype()).distinct().toList();
                json.append(ksep).append("      {\"kernel\": ").append(quote(k.getKey()))
                        .append(", \"gpuPath\": ").append(gpu)
                        .append(", \"family\": ").append(quote(Family.of(p.getKey().get(0)).name()))
                        .append(", \"serves\": [");
                for (int i = 0; i < serves.size(); i++) {
                    json.append(i == 0 ? "" : ", ").append(quote(serves.get(i)));
                }
                json.append("]}");
                ksep = ",\n";
            }
            json.append("\n    ]}");
            sep = ",\n";
        }
        // a traced function's generated kernels: one representative program of each kind
        String fp32 = join(GPU_BASE_OPTIONS, join(ClTypes.options(DType.FLOAT32), tuning));
        generated(json, dir, FusedKernels.EXAMPLE, FusedKernels.example(), fp32, "fused", Family.ELEMENTWISE,
                "fusedElementwise FLOAT32");
        generated(json, dir, FusedKernels.GROUP_EXAMPLE, FusedKernels.groupExample(), fp32, "fused_group",
                Family.ELEMENTWISE, "fusedElementwiseGroup FLOAT32");
        GemmConfig tiled = GemmConfig.TILED_DEFAULT;
        String epilogue = new MatmulKernels.Epilogue(BinaryOp.ADD, null, UnaryOp.RELU).options();
        generated(json, dir, MatmulKernels.EPILOGUE_EXAMPLE, MatmulKernels.epilogueSource(),
                join(GPU_BASE_OPTIONS, join(tiled.options(DType.FLOAT32) + " " + epilogue + " -DMM_ONLY -DMM_ONLY_"
                        + tiled.kernel(), tuning)), tiled.kernel(), Family.MATMUL, "matmulEpilogue FLOAT32");
        generated(json, dir, ReductionKernels.GROUP_EXAMPLE, ReductionKernels.groupExample(),
                join(GPU_BASE_OPTIONS, join(KernelCatalog.reduceOptions(DType.FLOAT32, DType.FLOAT32, true), tuning)),
                ReductionKernels.GROUP_KERNEL, Family.REDUCTION, "reduceGroup FLOAT32");
        json.append("\n  ]\n}\n");
        Files.writeString(dir.resolve("programs.json"), json, StandardCharsets.UTF_8);
    }

    /** A generated program's text in {@code file}, and its entry in programs.json. */
    private static void generated(StringBuilder json, Path dir, String file, String text, String options, String kernel,
                                  Family family, String serves) throws IOException {
        Files.writeString(dir.resolve(file), text, StandardCharsets.UTF_8);
        json.append(",\n    {\"source\": ").append(quote(file)).append(", \"options\": ").append(quote(options))
                .append(", \"kernels\": [\n      {\"kernel\": ").append(quote(kernel)).append(", \"gpuPath\": true, ")
                .append("\"family\": ").append(quote(family.name())).append(", \"serves\": [").append(quote(serves))
                .append("]}\n    ]}");
    }

    private static String join(String a, String b) {
        return a.isEmpty() ? b : b.isEmpty() ? a : a + " " + b;
    }

    /** A JSON string: options and names hold no control characters, only quotes to escape. */
    private static String quote(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }
}
