package dev.spool.opencl;

import dev.spool.DType;
import java.util.List;
import java.util.Locale;

/**
 * One member of matmul.cl's kernel family, all of whose choices are {@code -D} options:
 * <ul>
 *   <li>{@code tiled}: a work-group computes a {@code tsm × tsn} tile of C, staging
 *       {@code tsk}-deep slices of A and B in local memory; each work-item keeps
 *       {@code wptm × wptn} outputs in registers. For GPUs.</li>
 *   <li>{@code rows}: no local memory; each work-item computes {@code rows} outputs of one
 *       column, {@code local} work-items per group along N (contiguous loads of B vectorise
 *       across work-items on CPU devices).</li>
 *   <li>{@code vec}: no local memory; each work-item computes {@code rows × vw} outputs with
 *       {@code vw}-wide vector loads of B and vector accumulators (explicit SIMD for CPU
 *       devices), {@code local} work-items per group along N.</li>
 *   <li>{@code packed}: GotoBLAS/BLIS blocking for CPU devices; a one-item group computes a
 *       {@code tsm × tsn} block of C, K in {@code tsk}-deep slices, each slice of B packed into
 *       local memory as {@code vw}-wide panels; {@code rows × vw} register tiles.</li>
 * </ul>
 * Written as {@code tiled:TSMxTSNxTSK:WPTMxWPTN}, {@code rows:ROWSxLOCAL},
 * {@code vec:ROWSxVWxLOCAL} or {@code packed:ROWSxVW:MBxNBxKC} (the form of the pin property
 * {@link GemmTuner#PIN_PROPERTY} and of the tuning cache).
 */
record GemmConfig(Kind kind, int tsm, int tsn, int tsk, int wptm, int wptn, int rows, int local, int vw) {

    /** The kernels of matmul.cl. */
    enum Kind { TILED, ROWS, VEC, PACKED }

    /** The tiled default: CLBlast-like 64×64 tiles, 4×4 per work-item, 16×16 work-groups. */
    static final GemmConfig TILED_DEFAULT = tiled(64, 64, 16, 4, 4);
    /** The simple kernel, for devices that cannot run the tiled default's 16×16 groups. */
    static final GemmConfig ROWS_DEFAULT = rows(4, 32);
    /** The vec kernel's usual shape: 8 rows × 16 columns per work-item. */
    static final GemmConfig VEC_DEFAULT = vec(8, 16, 16);
    /**
     * The CPU default: 48 × 64 blocks of C, K in slices of 256 (a 64 KiB panel of B), 6 × 16
     * register tiles (twelve AVX2 accumulators). On PoCL (2-core AVX2 EPYC, one harness,
     * best of 13): 128×784×256 in 0.50–0.96 ms and 1024³ at 111–119 GFLOP/s, against
     * 0.89 ms and 32 GFLOP/s for {@code vec:4x8x8} and 10.6 GFLOP/s for CLBlast.
     */
    static final GemmConfig PACKED_DEFAULT = packed(6, 16, 48, 64, 256);

    /**
     * What the tuner tries, in this order (the style's default first). Tiled shapes follow
     * published GPU practice (CLBlast's Xgemm database: 32–128 wide tiles, 16–32 deep, 2–8
     * outputs per work-item per dim); the packed and vec shapes are the best of sweeps on PoCL.
     */
    static final List<GemmConfig> CANDIDATES = List.of(
            TILED_DEFAULT,
            tiled(32, 64, 32, 2, 4),   // CLBlast A100: 32x64x32 tile, 16x16 work-items
            tiled(128, 64, 16, 8, 4),  // larger tile, 16x16 work-items, 32 outputs each
            tiled(32, 32, 16, 2, 2),   // small tiles for small matrices
            tiled(64, 64, 32, 8, 8),   // 8x8 work-items, 64 outputs each (CPU devices)
            PACKED_DEFAULT,
            packed(6, 16, 96, 64, 256),  // taller blocks: fewer B panels packed over all
            packed(6, 8, 48, 64, 256),   // half the accumulators (float64 on AVX2)
            packed(8, 16, 64, 64, 256),  // sixteen AVX-512 accumulators
            packed(6, 16, 48, 32, 128),  // a 16 KiB panel (32 KiB in float64): small local memories
            VEC_DEFAULT,
            vec(8, 16, 4),             // PoCL, AVX2 EPYC: 1.0-1.4x 8x16x16 from 256³ to 1024³
            vec(8, 8, 16),             // AVX2 width
            ROWS_DEFAULT);

    static GemmConfig tiled(int tsm, int tsn, int tsk, int wptm, int wptn) {
        return new GemmConfig(Kind.TILED, tsm, tsn, tsk, wptm, wptn, 0, 0, 0);
    }

    static GemmConfig rows(int rows, int local) {
        return new GemmConfig(Kind.ROWS, 0, 0, 0, 0, 0, rows, local, 1);
    }

    static GemmConfig vec(int rows, int vw, int local) {
        return new GemmConfig(Kind.VEC, 0, 0, 0, 0, 0, rows, local, vw);
    }

    /** {@code mb × nb} blocks of C, K in slices of {@code kc}, {@code rows × vw} register tiles. */
    static GemmConfig packed(int rows, int vw, int mb, int nb, int kc) {
        return new GemmConfig(Kind.PACKED, mb, nb, kc, 0, 0, rows, 1, vw);
    }

    GemmConfig {
        java.util.Objects.requireNonNull(kind, "kind");
        if (kind == Kind.TILED && (tsm <= 0 || tsn <= 0 || tsk <= 0 || wptm <= 0 || wptn <= 0 || tsm % wptm != 0
                || tsn % wptn != 0)) {
            throw new IllegalArgumentException("tiled matmul: tile " + tsm + "x" + tsn + "x" + tsk
                    + " must be positive and a multiple of the work per item " + wptm + "x" + wptn);
        }
        if (kind != Kind.TILED && (rows <= 0 || local <= 0 || Integer.bitCount(local) != 1)) {
            throw new IllegalArgumentException(kind.name().toLowerCase(Locale.ROOT) + " matmul: rows " + rows
                    + " must be positive and local " + local + " a power of two");
        }
        if ((kind == Kind.VEC || kind == Kind.PACKED) && vw != 2 && vw != 4 && vw != 8 && vw != 16) {
            throw new IllegalArgumentException(kind.name().toLowerCase(Locale.ROOT) + " matmul: vector width " + vw
                    + " is not 2, 4, 8 or 16");
        }
        if (kind == Kind.ROWS && vw != 1) {
            throw new IllegalArgumentException("rows matmul: vector width " + vw + " is not 1");
        }
        if (kind == Kind.PACKED && (tsm <= 0 || tsk <= 0 || tsn <= 0 || tsn % vw != 0 || local != 1)) {
            throw new IllegalArgumentException("packed matmul: block " + tsm + "x" + tsn + "x" + tsk
                    + " must be positive, its width a multiple of the vector width " + vw);
        }
    }

    /** Whether this is the GPU-style tiled kernel (the others are for CPU devices). */
    boolean tiled() {
        return kind == Kind.TILED;
    }

    /** The kernel of matmul.cl this configuration runs. */
    String kernel() {
        return switch (kind) {
            case TILED -> KernelCatalog.MATMUL_TILED;
            case ROWS -> KernelCatalog.MATMUL_ROWS;
            case VEC -> KernelCatalog.MATMUL_VEC;
            case PACKED -> KernelCatalog.MATMUL_PACKED;
        };
    }

    /** Work-items per group (tiled: fixed by reqd_work_group_size; packed: one). */
    int groupSize() {
        return tiled() ? (tsm / wptm) * (tsn / wptn) : local;
    }

    /** Build options for element type {@code t}. */
    String options(DType t) {
        return ClTypes.options(t) + switch (kind) {
            case TILED -> " -DTSM=" + tsm + " -DTSN=" + tsn + " -DTSK=" + tsk + " -DWPTM=" + wptm + " -DWPTN=" + wptn;
            case ROWS -> " -DROWS=" + rows;
            case VEC -> " -DROWS=" + rows + " -DVW=" + vw;
            case PACKED -> " -DROWS=" + rows + " -DVW=" + vw + " -DMB=" + tsm + " -DNB=" + tsn + " -DKC=" + tsk;
        };
    }

    /** Whether a device whose work-groups hold {@code maxGroup} items and whose local memory
     *  holds {@code localBytes} can run it for elements of {@code elementBytes}. */
    boolean fits(long maxGroup, long localBytes, int elementBytes) {
        if (groupSize() > maxGroup) {
            return false;
        }
        return switch (kind) {
            case TILED -> (long) tsk * (tsm + 1 + tsn + 1) * elementBytes <= localBytes;
            case PACKED -> (long) tsk * tsn * elementBytes <= localBytes;
            case ROWS, VEC -> true;
        };
    }

    /**
     * Whether conv_gemm.cl's kernels can run it: the packed members, and the tiled ones whose
     * tile loads give each work-item one A-tile column in every slot (items a multiple of TSK and
     * of TSM, TSM x TSK a multiple of the items), as every tiled candidate does.
     */
    boolean runsConvolutions() {
        int items = groupSize();
        return kind == Kind.PACKED
                || kind == Kind.TILED && items % tsk == 0 && items % tsm == 0 && tsm * tsk % items == 0;
    }

    /** {@link #fits} for conv_gemm.cl's kernels, whose packed ones keep tables beside the panel. */
    boolean fitsConvolutions(long maxGroup, long localBytes) {
        long tables = kind == Kind.PACKED ? 16L * (tsk + tsm) + 12L * tsn : 0;
        return fits(maxGroup, localBytes - tables, 8);
    }

    /** Parses {@link #toString()}'s form; an {@link IllegalArgumentException} says what is wrong. */
    static GemmConfig parse(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        try {
            if (t.startsWith("tiled:")) {
                String[] parts = t.substring(6).split(":");
                String[] tile = parts[0].split("x");
                String[] wpt = parts[1].split("x");
                if (parts.length != 2 || tile.length != 3 || wpt.length != 2) {
                    throw new IllegalArgumentException("expected tiled:TSMxTSNxTSK:WPTMxWPTN");
                }
                return tiled(Integer.parseInt(tile[0]), Integer.parseInt(tile[1]), Integer.parseInt(tile[2]),
                        Integer.parseInt(wpt[0]), Integer.parseInt(wpt[1]));
            }
            if (t.startsWith("vec:")) {
                String[] p = t.substring(4).split("x");
                if (p.length != 3) {
                    throw new IllegalArgumentException("expected vec:ROWSxVWxLOCAL");
                }
                return vec(Integer.parseInt(p[0]), Integer.parseInt(p[1]), Integer.parseInt(p[2]));
            }
            if (t.startsWith("packed:")) {
                String[] parts = t.substring(7).split(":");
                String[] tile = parts[0].split("x");
                String[] block = parts.length == 2 ? parts[1].split("x") : new String[0];
                if (parts.length != 2 || tile.length != 2 || block.length != 3) {
                    throw new IllegalArgumentException("expected packed:ROWSxVW:MBxNBxKC");
                }
                return packed(Integer.parseInt(tile[0]), Integer.parseInt(tile[1]), Integer.parseInt(block[0]),
                        Integer.parseInt(block[1]), Integer.parseInt(block[2]));
            }
            if (t.startsWith("rows:")) {
                String[] p = t.substring(5).split("x");
                if (p.length != 2) {
                    throw new IllegalArgumentException("expected rows:ROWSxLOCAL");
                }
                return rows(Integer.parseInt(p[0]), Integer.parseInt(p[1]));
            }
        } catch (NumberFormatException | ArrayIndexOutOfBoundsException e) {
            throw new IllegalArgumentException("bad matmul configuration '" + s + "': " + e.getMessage(), e);
        }
        throw new IllegalArgumentException("bad matmul configuration '" + s
                + "': expected tiled:TSMxTSNxTSK:WPTMxWPTN, rows:ROWSxLOCAL, vec:ROWSxVWxLOCAL or packed:ROWSxVW:MBxNBxKC");
    }

    @Override
    public String toString() {
        return switch (kind) {
            case TILED -> "tiled:" + tsm + "x" + tsn + "x" + tsk + ":" + wptm + "x" + wptn;
            case ROWS -> "rows:" + rows + "x" + local;
            case VEC -> "vec:" + rows + "x" + vw + "x" + local;
            case PACKED -> "packed:" + rows + "x" + vw + ":" + tsm + "x" + tsn + "x" + tsk;
        };
    }
}
