package dev.spool.testing;

import dev.spool.testing.HostRef.Nd;

/**
 * Plain-Java references for convolution and pooling, straight from the definitions: each output
 * element is its window's sum (or max, or mean) over the input cells it covers, with explicit
 * pads on each side. TensorFlow's SAME rule is written here again, apart from core's, so that
 * the tests check core's padding too.
 */
public final class ConvRef {
    private ConvRef() {
    }

    /** Pads {before, after} and the output size along one axis for TF's SAME padding. */
    public static int[] same(int in, int k, int stride, int dilation) {
        int out = (in + stride - 1) / stride;
        int window = (k - 1) * dilation + 1;
        int total = Math.max((out - 1) * stride + window - in, 0);
        return new int[] {total / 2, total - total / 2, out};
    }

    /** Output size along one axis with explicit pads. */
    public static int outSize(int in, int k, int stride, int dilation, int before, int after) {
        return (in + before + after - ((k - 1) * dilation + 1)) / stride + 1;
    }

    /**
     * {@code tf.nn.conv2d} with explicit pads {@code {top, bottom, left, right}}; groups = channels of
     * x / filter's dim 2.
     */
    public static Nd conv2d(Nd x, Nd f, int[] strides, int[] dilations, int[] pads) {
        int n = x.shape()[0];
        int h = x.shape()[1];
        int w = x.shape()[2];
        int c = x.shape()[3];
        int kh = f.shape()[0];
        int kw = f.shape()[1];
        int cpg = f.shape()[2];
        int oc = f.shape()[3];
        int groups = c / cpg;
        int oh = outSize(h, kh, strides[0], dilations[0], pads[0], pads[1]);
        int ow = outSize(w, kw, strides[1], dilations[1], pads[2], pads[3]);
        int[] shape = {n, oh, ow, oc};
        double[] out = new double[HostRef.size(shape)];
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int o = 0; o < oc; o++) {
                        int g = o / (oc / groups);
                        double s = 0;
                        for (int ky = 0; ky < kh; ky++) {
                            for (int kx = 0; kx < kw; kx++) {
                                int iy = oy * strides[0] + ky * dilations[0] - pads[0];
                                int ix = ox * strides[1] + kx * dilations[1] - pads[2];
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) {
                                    continue;
                                }
                                for (int i = 0; i < cpg; i++) {
                                    s += x.at(b, iy, ix, g * cpg + i) * f.at(ky, kx, i, o);
                                }
                            }
                        }
                        out[HostRef.flat(new int[] {b, oy, ox, o}, shape)] = s;
                    }
                }
            }
        }
        return new Nd(out, shape);
    }

    /** Max ({@code max}) or mean pooling over {@code k} windows, pads {@code {top, bottom, left, right}}. */
    public static Nd pool(Nd x, int[] k, int[] strides, int[] pads, boolean max) {
        int n = x.shape()[0];
        int h = x.shape()[1];
        int w = x.shape()[2];
        int c = x.shape()[3];
        int oh = outSize(h, k[0], strides[0], 1, pads[0], pads[1]);
        int ow = outSize(w, k[1], strides[1], 1, pads[2], pads[3]);
        int[] shape = {n, oh, ow, c};
        double[] out = new double[HostRef.size(shape)];
        for (int b = 0; b < n; b++) {
            for (int oy = 0; oy < oh; oy++) {
                for (int ox = 0; ox < ow; ox++) {
                    for (int ch = 0; ch < c; ch++) {
                        double acc = max ? Double.NEGATIVE_INFINITY : 0;
                        int count = 0;
                        for (int ky = 0; ky < k[0]; ky++) {
                            for (int kx = 0; kx < k[1]; kx++) {
                                int iy = oy * strides[0] + ky - pads[0];
                                int ix = ox * strides[1] + kx - pads[2];
                                if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
                                    double v = x.at(b, iy, ix, ch);
                                    acc = max ? Math.max(acc, v) : acc + v;
                                    count++;
                                }
                            }
                        }
                        out[HostRef.flat(new int[] {b, oy, ox, ch}, shape)] = max ? acc : acc / count;
                    }
                }
            }
        }
        return new Nd(out, shape);
    }
}
