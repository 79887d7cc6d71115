package io.electra.kernels.ops;

/**
 * The tile shapes of gemm_tc.cu and the table that picks one per shape class. Each tile is a
 * CTA's BM x BN block of C, K in steps of 32 through a 4-stage cp.async ring.
 *
 * <p>The choice: the largest tile that still puts at least one CTA on every multiprocessor and
 * wastes at most a quarter of its work on the ragged edge of C; otherwise 64 x 64. Big tiles
 * reuse each loaded element more (128 x 128 reads 1/64 byte per flop, 64 x 64 twice that), but
 * a grid smaller than the GPU leaves SMs idle, which costs more. The thresholds are a first
 * guess; {@code GemmBench --sweep} times every tile at the model's shapes to correct them.
 */
public enum GemmTcTile {
    T128X128(128, 128, 256),
    T128X64(128, 64, 128),
    T64X64(64, 64, 128);

    static final int BK = 32, STAGES = 4;
    /** Largest share of a grid's tile area that may fall outside C before a smaller tile is tried. */
    static final double MAX_EDGE_WASTE = 0.25;

    public final int bm, bn, threads;

    GemmTcTile(int bm, int bn, int threads) {
        this.bm = bm;
        this.bn = bn;
        this.threads = threads;
    }

    /** "128x64", as in the entry point names. */
    public String id() {
        return bm + "x" + bn;
    }

    /** The ring's bytes: STAGES stages of a BM x 32 and a BN x 32 bf16 tile (the epilogue reuses it). */
    public int sharedBytes() {
        return STAGES * (bm + bn) * BK * 2;
    }

    /** CTAs of a batched M x N product. */
    public long ctas(int m, int n, int batch) {
        return (long) ceil(m, bm) * ceil(n, bn) * batch;
    }

    /** Share of the grid's tile area outside the M x N result. */
    public double edgeWaste(int m, int n) {
        double covered = (double) ceil(m, bm) * bm * ceil(n, bn) * bn;
        return 1 - (double) m * n / covered;
    }

    /** The table: see the class comment. */
    public static GemmTcTile choose(int m, int n, int batch, int multiprocessors) {
        for (GemmTcTile t : values()) {
            if (t == T64X64) break;
            if (t.ctas(m, n, batch) >= multiprocessors && t.edgeWaste(m, n) <= MAX_EDGE_WASTE) return t;
        }
        return T64X64;
    }

    private static int ceil(int a, int b) {
        return (a + b - 1) / b;
    }
}
