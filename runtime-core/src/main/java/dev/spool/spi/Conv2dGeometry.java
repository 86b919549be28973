package dev.spool.spi;

/**
 * Where the windows of a 2-D convolution or pooling lie, in channels-last (NHWC) data: input
 * {@code [batch, inHeight, inWidth, inChannels]}, output {@code [batch, outHeight, outWidth,
 * outChannels]}. Output pixel {@code (oy, ox)} reads input rows
 * {@code oy * strideH - padTop + ky * dilationH} for {@code ky < filterHeight} and columns
 * {@code ox * strideW - padLeft + kx * dilationW} for {@code kx < filterWidth}; cells outside the
 * input are padding (zero for a convolution, ignored by pooling). The bottom and right padding
 * are whatever the output size implies.
 *
 * <p>Convolutions: the filter is HWIO, {@code [filterHeight, filterWidth, inChannels / groups,
 * outChannels]}; output channel {@code o} belongs to group {@code o / (outChannels / groups)}
 * and reads that group's {@code inChannels / groups} input channels. {@code groups == 1} is an
 * ordinary convolution; {@code groups == inChannels} is a depthwise convolution, whose filter
 * {@code [kh, kw, 1, inChannels * multiplier]} is TensorFlow's {@code [kh, kw, inChannels,
 * multiplier]} in the same memory order. Pooling: {@code outChannels == inChannels == groups}.
 *
 * <p>Core computes it (TensorFlow's SAME and VALID rules live in {@code dev.spool.ConvOps}) and
 * checks it before a backend sees it: every size positive (batch and channels may be 0 only
 * where the output is empty), both channel counts multiples of {@code groups}.
 */
public record Conv2dGeometry(int batch, int inHeight, int inWidth, int inChannels,
                             int filterHeight, int filterWidth, int outChannels, int groups,
                             int outHeight, int outWidth, int strideH, int strideW,
                             int dilationH, int dilationW, int padTop, int padLeft) {

    public Conv2dGeometry {
        if (batch < 0 || inHeight < 0 || inWidth < 0 || inChannels < 0 || outChannels < 0 || outHeight < 0
                || outWidth < 0) {
            throw new IllegalArgumentException("negative size in " + describe(batch, inHeight, inWidth, inChannels,
                    outHeight, outWidth, outChannels));
        }
        if (filterHeight < 1 || filterWidth < 1 || strideH < 1 || strideW < 1 || dilationH < 1 || dilationW < 1
                || groups < 1 || padTop < 0 || padLeft < 0) {
            throw new IllegalArgumentException("window " + filterHeight + "x" + filterWidth + ", strides " + strideH
                    + "x" + strideW + ", dilations " + dilationH + "x" + dilationW + ", groups " + groups
                    + ", pads " + padTop + "/" + padLeft + ": sizes, strides, dilations and groups must be "
                    + "positive, pads non-negative");
        }
        if (inChannels % groups != 0 || outChannels % groups != 0) {
            throw new IllegalArgumentException("channels " + inChannels + " in, " + outChannels
                    + " out are not multiples of groups " + groups);
        }
    }

    /** Input channels each output channel reads: {@code inChannels / groups}. */
    public int inChannelsPerGroup() {
        return inChannels / groups;
    }

    /** Output channels of each group: {@code outChannels / groups}. */
    public int outChannelsPerGroup() {
        return outChannels / groups;
    }

    /** Elements of the input: {@code batch * inHeight * inWidth * inChannels}. */
    public long inputSize() {
        return (long) batch * inHeight * inWidth * inChannels;
    }

    /** Elements of the output: {@code batch * outHeight * outWidth * outChannels}. */
    public long outputSize() {
        return (long) batch * outHeight * outWidth * outChannels;
    }

    /** Elements of the filter: {@code filterHeight * filterWidth * inChannels / groups * outChannels}. */
    public long filterSize() {
        return (long) filterHeight * filterWidth * inChannelsPerGroup() * outChannels;
    }

    /** Input row of window row {@code ky} of output row {@code oy} (outside [0, inHeight) is padding). */
    public int inputRow(int oy, int ky) {
        return oy * strideH - padTop + ky * dilationH;
    }

    /** Input column of window column {@code kx} of output column {@code ox}. */
    public int inputColumn(int ox, int kx) {
        return ox * strideW - padLeft + kx * dilationW;
    }

    private static String describe(int n, int h, int w, int c, int oh, int ow, int oc) {
        return "input [" + n + ", " + h + ", " + w + ", " + c + "], output [" + n + ", " + oh + ", " + ow + ", "
                + oc + "]";
    }

    @Override
    public String toString() {
        return describe(batch, inHeight, inWidth, inChannels, outHeight, outWidth, outChannels) + ", window "
                + filterHeight + "x" + filterWidth + ", strides " + strideH + "x" + strideW + ", dilations "
                + dilationH + "x" + dilationW + ", pads top " + padTop + " left " + padLeft + ", groups " + groups;
    }
}
