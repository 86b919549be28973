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
 * </ul>
 * Written as {@code tiled:TSMxTSNxTSK:WPTMxWPTN}, {@code rows:ROWSxLOCAL} or
 * {@code vec:ROWSxVWxLOCAL} (the form of the pin property {@link GemmTuner#PIN_PROPERTY} and of
 * the tuning cache).
 */
record GemmConfig(boolean tiled, int tsm, int tsn, int tsk, int wptm, int wptn, int rows, int local, int vw) {

    /** The tiled default: CLBlast-like 64×64 tiles, 4×4 per work-item, 16×16 work-groups. */
    static final GemmConfig TILED_DEFAULT = tiled(64, 64, 16, 4, 4);
    /** The simple kernel, for devices that cannot run the tiled default's 16×16 groups. */
    static final GemmConfig ROWS_DEFAULT = rows(4, 32);
    /**
     * The CPU default: 8 rows × 16 columns per work-item (eight AVX-512 accumulators). On PoCL
     * (loaded 2-core EPYC, SGEMM 512, one session) 1.3–3.1 GFLOP/s against 0.5–0.65 for
     * {@code rows:4x32} and 0.63 for CLBlast.
     */
    static final GemmConfig VEC_DEFAULT = vec(8, 16, 16);

    /**
     * What the tuner tries, in this order (the style's default first). Tiled shapes follow
     * published GPU practice (CLBlast's Xgemm database: 32–128 wide tiles, 16–32 deep, 2–8
     * outputs per work-item per dim); the vec shapes are the best of a sweep on PoCL.
     */
    static final List<GemmConfig> CANDIDATES = List.of(
            TILED_DEFAULT,
            tiled(32, 64, 32, 2, 4),   // CLBlast A100: 32x64x32 tile, 16x16 work-items
            tiled(128, 64, 16, 8, 4),  // larger tile, 16x16 work-items, 32 outputs each
            tiled(32, 32, 16, 2, 2),   // small tiles for small matrices
            tiled(64, 64, 32, 8, 8),   // 8x8 work-items, 64 outputs each (CPU devices)
            ROWS_DEFAULT,
            VEC_DEFAULT,
            vec(16, 16, 2),            // sixteen AVX-512 accumulators
            vec(4, 16, 16),
            vec(8, 16, 4),             // PoCL, AVX2 EPYC: 1.0-1.4x 8x16x16 from 256³ to 1024³
            vec(8, 8, 16));            // AVX2 width

    static GemmConfig tiled(int tsm, int tsn, int tsk, int wptm, int wptn) {
        return new GemmConfig(true, tsm, tsn, tsk, wptm, wptn, 0, 0, 0);
    }

    static GemmConfig rows(int rows, int local) {
        return new GemmConfig(false, 0, 0, 0, 0, 0, rows, local, 1);
    }

    static GemmConfig vec(int rows, int vw, int local) {
        return new GemmConfig(false, 0, 0, 0, 0, 0, rows, local, vw);
    }

    GemmConfig {
        if (tiled && (tsm <= 0 || tsn <= 0 || tsk <= 0 || wptm <= 0 || wptn <= 0 || tsm % wptm != 0
                || tsn % wptn != 0)) {
            throw new IllegalArgumentException("tiled matmul: tile " + tsm + "x" + tsn + "x" + tsk
                    + " must be positive and a multiple of the work per item " + wptm + "x" + wptn);
        }
        if (!tiled && (rows <= 0 || local <= 0 || Integer.bitCount(local) != 1)) {
            throw new IllegalArgumentException("rows matmul: rows " + rows + " must be positive and local "
                    + local + " a power of two");
        }
        if (!tiled && vw != 1 && vw != 2 && vw != 4 && vw != 8 && vw != 16) {
            throw new IllegalArgumentException("vec matmul: vector width " + vw + " is not 2, 4, 8 or 16");
        }
    }

    /** The kernel of matmul.cl this configuration runs. */
    String kernel() {
        return tiled ? KernelCatalog.MATMUL_TILED : vw == 1 ? KernelCatalog.MATMUL_ROWS : KernelCatalog.MATMUL_VEC;
    }

    /** Work-items per group (tiled: fixed by reqd_work_group_size). */
    int groupSize() {
        return tiled ? (tsm / wptm) * (tsn / wptn) : local;
    }

    /** Build options for element type {@code t}. */
    String options(DType t) {
        return ClTypes.options(t) + (tiled
                ? " -DTSM=" + tsm + " -DTSN=" + tsn + " -DTSK=" + tsk + " -DWPTM=" + wptm + " -DWPTN=" + wptn
                : " -DROWS=" + rows + (vw == 1 ? "" : " -DVW=" + vw));
    }

    /** Whether a device whose work-groups hold {@code maxGroup} items and whose local memory
     *  holds {@code localBytes} can run it for elements of {@code elementBytes}. */
    boolean fits(long maxGroup, long localBytes, int elementBytes) {
        if (groupSize() > maxGroup) {
            return false;
        }
        return !tiled || (long) tsk * (tsm + 1 + tsn + 1) * elementBytes <= localBytes;
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
                + "': expected tiled:TSMxTSNxTSK:WPTMxWPTN, rows:ROWSxLOCAL or vec:ROWSxVWxLOCAL");
    }

    @Override
    public String toString() {
        if (tiled) {
            return "tiled:" + tsm + "x" + tsn + "x" + tsk + ":" + wptm + "x" + wptn;
        }
        return vw == 1 ? "rows:" + rows + "x" + local : "vec:" + rows + "x" + vw + "x" + local;
    }
}
