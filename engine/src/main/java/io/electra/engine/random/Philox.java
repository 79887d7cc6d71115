package io.electra.engine.random;

import io.electra.engine.RngKey;

/**
 * Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011): a
 * counter-based generator, so element i of any stream is computed directly, on any backend, in any
 * order. The CUDA kernels implement the same function (kernels/src/main/cuda/philox.cuh).
 */
public final class Philox {
    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    private Philox() {
    }

    /** The four 32-bit outputs for counter (c0..c3) and key (k0, k1), written to {@code out}. */
    public static void block(int c0, int c1, int c2, int c3, int k0, int k1, int[] out) {
        for (int round = 0; round < 10; round++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0;
            int hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            int n0 = hi1 ^ c1 ^ k0;
            int n1 = lo1;
            int n2 = hi0 ^ c3 ^ k1;
            int n3 = lo0;
            c0 = n0; c1 = n1; c2 = n2; c3 = n3;
            k0 += W0;
            k1 += W1;
        }
        out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
    }

    /** Raw 32-bit value number {@code i} of the stream named by {@code key}. */
    public static int bits(RngKey key, long i) {
        int[] out = new int[4];
        long blockIndex = i >>> 2;
        block((int) blockIndex, (int) (blockIndex >>> 32), (int) key.step(), key.purpose(),
                (int) key.seed(), (int) (key.seed() >>> 32), out);
        return out[(int) (i & 3)];
    }

    /** Uniform in [0, 1) with 24 random bits: (bits >>> 8) * 2^-24, exact in float. */
    public static float uniform(int bits) {
        return (bits >>> 8) * 0x1.0p-24f;
    }

    /** Fills {@code dst[0..n)} with uniforms number {@code start..start+n) of the stream. */
    public static void uniforms(RngKey key, long start, float[] dst, int n) {
        int[] out = new int[4];
        long i = start;
        int k = 0;
        while (k < n) {
            long blockIndex = i >>> 2;
            block((int) blockIndex, (int) (blockIndex >>> 32), (int) key.step(), key.purpose(),
                    (int) key.seed(), (int) (key.seed() >>> 32), out);
            for (int lane = (int) (i & 3); lane < 4 && k < n; lane++, k++, i++) {
                dst[k] = uniform(out[lane]);
            }
        }
    }
}
