package dev.spool.cpu;

/**
 * Packing for {@link SimdGemm}: copies a block of an operand, read through any strides, into
 * contiguous micro-panels that the micro-kernel streams with unit stride. A and B are packed by
 * the same routine: a micro-panel of A holds {@code MR} rows, of B {@code NR} columns, and in
 * both the {@code w} values of one k are adjacent, k after k: value (p, q) of panel {@code t}
 * goes to {@code dst[d + t * w * kc + q * w + r]} with {@code p = p0 + t * w + r}. Lanes past
 * the end of the operand are written as zeros, so the kernel always computes a full tile. This
 * is where transposes, slices and broadcast batches (stride 0) are absorbed: the kernel never
 * sees a stride. Plain Java (no Vector API); the loop order follows the source's unit stride,
 * so that reads stream through memory.
 */
final class GemmPacking {
    private GemmPacking() {
    }

    /**
     * The panels covering {@code pn} rows (of A) or columns (of B) from {@code p0}, stride
     * {@code sp}, each {@code kc} values of k deep from {@code k0}, stride {@code sk}.
     */
    static void pack(float[] src, int off, int sp, int sk, int p0, int pn, int k0, int kc,
                     int w, float[] dst, int d) {
        int base = off + p0 * sp + k0 * sk;
        int panels = (pn + w - 1) / w;
        if (sp == 1) {
            // Rows of a row-major B, columns of a transposed A: read each k's run whole. Plain
            // copies, not System.arraycopy: a call per run of w (6 or 16) values cost more than
            // the copy (the 256x128x10 product with a transposed A, p50: 97 -> 65 us; 88-94 us
            // with the loop over w for A's panels too, hence their six explicit copies).
            int full = pn / w;
            int len = pn - full * w; // a last, partial panel: zeros past the operand
            for (int q = 0; q < kc; q++) {
                int s = base + q * sk;
                int o = d + q * w;
                if (w == 6) {
                    for (int t = 0; t < full; t++, s += 6, o += 6 * kc) {
                        dst[o] = src[s];
                        dst[o + 1] = src[s + 1];
                        dst[o + 2] = src[s + 2];
                        dst[o + 3] = src[s + 3];
                        dst[o + 4] = src[s + 4];
                        dst[o + 5] = src[s + 5];
                    }
                } else {
                    for (int t = 0; t < full; t++, s += w, o += w * kc) {
                        for (int r = 0; r < w; r++) {
                            dst[o + r] = src[s + r];
                        }
                    }
                }
                for (int r = 0; len > 0 && r < w; r++) {
                    dst[o + r] = r < len ? src[s + r] : 0f;
                }
            }
            return;
        }
        for (int t = 0; t < panels; t++) {
            int len = Math.min(w, pn - t * w);
            int o = d + t * w * kc;
            int s0 = base + t * w * sp;
            if (sk == 1 && len == 6 && w == 6) {
                // A whole panel of a row-major A (MR = 6 rows): six streams along k, written
                // in order; about twice as fast as the loop below. Only for panels 6 wide: the
                // last, partial panel of a transposed B may also hold 6 columns, but of w.
                int s1 = s0 + sp;
                int s2 = s1 + sp;
                int s3 = s2 + sp;
                int s4 = s3 + sp;
                int s5 = s4 + sp;
                for (int q = 0; q < kc; q++) {
                    int oq = o + q * 6;
                    dst[oq] = src[s0 + q];
                    dst[oq + 1] = src[s1 + q];
                    dst[oq + 2] = src[s2 + q];
                    dst[oq + 3] = src[s3 + q];
                    dst[oq + 4] = src[s4 + q];
                    dst[oq + 5] = src[s5 + q];
                }
            } else if (sk == 1 && len == w && w % 4 == 0) {
                // A whole panel of a transposed B: four streams along k at a time, four
                // adjacent values written per k. A 256x256 B in panels of 16, one thread:
                // 40 us, against 72 us one stream at a time (the loop below).
                for (int r = 0; r < w; r += 4) {
                    int a0 = s0 + r * sp;
                    int a1 = a0 + sp;
                    int a2 = a1 + sp;
                    int a3 = a2 + sp;
                    for (int q = 0; q < kc; q++) {
                        int oq = o + q * w + r;
                        dst[oq] = src[a0 + q];
                        dst[oq + 1] = src[a1 + q];
                        dst[oq + 2] = src[a2 + q];
                        dst[oq + 3] = src[a3 + q];
                    }
                }
            } else if (sk == 1) {
                // k is the unit stride (a row-major A, a transposed B): read along k.
                for (int r = 0; r < len; r++) {
                    int s = s0 + r * sp;
                    for (int q = 0; q < kc; q++) {
                        dst[o + q * w + r] = src[s + q];
                    }
                }
            } else {
                // No unit stride (a slice with steps, a broadcast): gather.
                for (int q = 0; q < kc; q++) {
                    for (int r = 0; r < len; r++) {
                        dst[o + q * w + r] = src[s0 + q * sk + r * sp];
                    }
                }
            }
            for (int r = len; r < w; r++) {
                for (int q = 0; q < kc; q++) {
                    dst[o + q * w + r] = 0f;
                }
            }
        }
    }

    /**
     * The float64 twin of the method above.
     */
    static void pack(double[] src, int off, int sp, int sk, int p0, int pn, int k0, int kc,
                     int w, double[] dst, int d) {
        int base = off + p0 * sp + k0 * sk;
        int panels = (pn + w - 1) / w;
        if (sp == 1) {
            // Rows of a row-major B, columns of a transposed A: read each k's run whole. Plain
            // copies, not System.arraycopy: a call per run of w (6 or 16) values cost more than
            // the copy (the 256x128x10 product with a transposed A, p50: 97 -> 65 us; 88-94 us
            // with the loop over w for A's panels too, hence their six explicit copies).
            int full = pn / w;
            int len = pn - full * w; // a last, partial panel: zeros past the operand
            for (int q = 0; q < kc; q++) {
                int s = base + q * sk;
                int o = d + q * w;
                if (w == 6) {
                    for (int t = 0; t < full; t++, s += 6, o += 6 * kc) {
                        dst[o] = src[s];
                        dst[o + 1] = src[s + 1];
                        dst[o + 2] = src[s + 2];
                        dst[o + 3] = src[s + 3];
                        dst[o + 4] = src[s + 4];
                        dst[o + 5] = src[s + 5];
                    }
                } else {
                    for (int t = 0; t < full; t++, s += w, o += w * kc) {
                        for (int r = 0; r < w; r++) {
                            dst[o + r] = src[s + r];
                        }
                    }
                }
                for (int r = 0; len > 0 && r < w; r++) {
                    dst[o + r] = r < len ? src[s + r] : 0.0;
                }
            }
            return;
        }
        for (int t = 0; t < panels; t++) {
            int len = Math.min(w, pn - t * w);
            int o = d + t * w * kc;
            int s0 = base + t * w * sp;
            if (sk == 1 && len == 6 && w == 6) {
                // A whole panel of a row-major A (MR = 6 rows): six streams along k, written
                // in order; about twice as fast as the loop below. Only for panels 6 wide: the
                // last, partial panel of a transposed B may also hold 6 columns, but of w.
                int s1 = s0 + sp;
                int s2 = s1 + sp;
                int s3 = s2 + sp;
                int s4 = s3 + sp;
                int s5 = s4 + sp;
                for (int q = 0; q < kc; q++) {
                    int oq = o + q * 6;
                    dst[oq] = src[s0 + q];
                    dst[oq + 1] = src[s1 + q];
                    dst[oq + 2] = src[s2 + q];
                    dst[oq + 3] = src[s3 + q];
                    dst[oq + 4] = src[s4 + q];
                    dst[oq + 5] = src[s5 + q];
                }
            } else if (sk == 1 && len == w && w % 4 == 0) {
                // A whole panel of a transposed B: four streams along k at a time, four
                // adjacent values written per k. A 256x256 B in panels of 16, one thread:
                // 40 us, against 72 us one stream at a time (the loop below).
                for (int r = 0; r < w; r += 4) {
                    int a0 = s0 + r * sp;
                    int a1 = a0 + sp;
                    int a2 = a1 + sp;
                    int a3 = a2 + sp;
                    for (int q = 0; q < kc; q++) {
                        int oq = o + q * w + r;
                        dst[oq] = src[a0 + q];
                        dst[oq + 1] = src[a1 + q];
                        dst[oq + 2] = src[a2 + q];
                        dst[oq + 3] = src[a3 + q];
                    }
                }
            } else if (sk == 1) {
                // k is the unit stride (a row-major A, a transposed B): read along k.
                for (int r = 0; r < len; r++) {
                    int s = s0 + r * sp;
                    for (int q = 0; q < kc; q++) {
                        dst[o + q * w + r] = src[s + q];
                    }
                }
            } else {
                // No unit stride (a slice with steps, a broadcast): gather.
                for (int q = 0; q < kc; q++) {
                    for (int r = 0; r < len; r++) {
                        dst[o + q * w + r] = src[s0 + q * sk + r * sp];
                    }
                }
            }
            for (int r = len; r < w; r++) {
                for (int q = 0; q < kc; q++) {
                    dst[o + q * w + r] = 0.0;
                }
            }
        }
    }
}
