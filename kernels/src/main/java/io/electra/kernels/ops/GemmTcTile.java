package io.electra.kernels.ops;

/**
 * The tile shapes of gemm_tc.cu (mma.sync; every GPU from sm_80): each a CTA's BM x BN block of
 * C, K in steps of 32 through a 4-stage cp.async ring. Chosen per shape class by {@link GemmTile#choose}.
 */
public enum GemmTcTile implements GemmTile {
    T128X128(128, 128, 256),
    T128X64(128, 64, 128),
    T64X64(64, 64, 128);

    static final int BK = 32, STAGES = 4;

    public final int bm, bn, threads;

    GemmTcTile(int bm, int bn, int threads) {
        this.bm = bm;
        this.bn = bn;
        this.threads = threads;
    }

    @Override public int bm() { return bm; }
    @Override public int bn() { return bn; }
    @Override public int threads() { return threads; }

    /** "128x64", as in the entry point names. */
    public String id() {
        return bm + "x" + bn;
    }

    /** The ring's bytes: STAGES stages of a BM x 32 and a BN x 32 bf16 tile (the epilogue reuses it). */
    @Override
    public int sharedBytes() {
        return STAGES * (bm + bn) * BK * 2;
    }

    /** The table: see {@link GemmTile}. */
    public static GemmTcTile choose(int m, int n, int batch, int multiprocessors) {
        return GemmTile.choose(values(), m, n, batch, multiprocessors);
    }
}
