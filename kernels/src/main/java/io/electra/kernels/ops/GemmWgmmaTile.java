package io.electra.kernels.ops;

/**
 * The tile shapes of gemm_wgmma.sm_90a.cu (Hopper warpgroup MMA): a CTA's BM x BN block of C
 * with BM / 64 warpgroups, K in steps of 64 through a STAGES-deep cp.async ring of 128-byte
 * swizzled tiles. Chosen per shape class by {@link GemmTile#choose}.
 */
public enum GemmWgmmaTile implements GemmTile {
    T128X256(128, 256, 4),
    T128X128(128, 128, 6),
    T64X128(64, 128, 4);

    static final int BK = 64;

    public final int bm, bn, stages;

    GemmWgmmaTile(int bm, int bn, int stages) {
        this.bm = bm;
        this.bn = bn;
        this.stages = stages;
    }

    @Override public int bm() { return bm; }
    @Override public int bn() { return bn; }

    /** "128x256", as in the entry point names. */
    public String id() {
        return bm + "x" + bn;
    }

    /** One warpgroup (128 threads) per 64 rows. */
    @Override
    public int threads() {
        return bm / 64 * 128;
    }

    /** The ring (STAGES stages of BM x 64 and BN x 64 bf16) plus 1 KiB to start it on a 1024-byte boundary. */
    @Override
    public int sharedBytes() {
        return stages * (bm + bn) * BK * 2 + 1024;
    }

    /** The table: see {@link GemmTile}. */
    public static GemmWgmmaTile choose(int m, int n, int batch, int multiprocessors) {
        return GemmTile.choose(values(), m, n, batch, multiprocessors);
    }
}
