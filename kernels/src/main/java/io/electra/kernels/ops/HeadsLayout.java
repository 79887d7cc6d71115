package io.electra.kernels.ops;

/**
 * Where attention heads live in memory, as flash_attention.cu's HeadsLayout: element (b, h, t, d) is
 * at {@code b * batch + h * head + t * row + d} (elements from the tensor's start). The kernels take
 * one layout for q, k, v and their gradients and one for out and dOut, so they read the heads in place
 * whether they are [B, H, T, D] tensors or columns of the [B, T, ...] activations the GEMMs produce.
 */
record HeadsLayout(long batch, int head, int row) {

    /** A [B, H, T, D] tensor. */
    static HeadsLayout heads(int h, int t, int d) {
        return new HeadsLayout((long) h * t * d, t * d, d);
    }

    /** One column third (query, key or value) of a fused projection [B, T, 3*H*D]. */
    static HeadsLayout qkv(int h, int t, int d) {
        return new HeadsLayout(3L * t * h * d, d, 3 * h * d);
    }

    /** The context [B, T, H*D], the heads side by side as the output projection reads them. */
    static HeadsLayout context(int h, int t, int d) {
        return new HeadsLayout((long) t * h * d, d, h * d);
    }
}
