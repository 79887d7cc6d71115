package io.electra.kernels.ops;

/**
 * A CTA's BM x BN block of C, as both tensor-core GEMMs tile it ({@link GemmTcTile} for gemm_tc,
 * {@link GemmWgmmaTile} for gemm_wgmma), and the rule that picks one per shape class.
 *
 * <p>The rule: the largest tile that still puts at least one CTA on every multiprocessor and
 * wastes at most a quarter of its work on the ragged edge of C; otherwise the smallest. Big tiles
 * reuse each loaded element more, but a grid smaller than the GPU leaves SMs idle, which costs
 * more. The thresholds are a first guess; {@code GemmBench --sweep} times every tile at the
 * model's shapes to correct them.
 */
interface GemmTile {
    /** Largest share of a grid's tile area that may fall outside C before a smaller tile is tried. */
    double MAX_EDGE_WASTE = 0.25;

    int bm();

    int bn();

    /** Threads per CTA. */
    int threads();

    /** Dynamic shared memory per CTA, in bytes. */
    int sharedBytes();

    /** CTAs of a batched M x N product. */
    default long ctas(int m, int n, int batch) {
        return (long) ceil(m, bm()) * ceil(n, bn()) * batch;
    }

    /** Share of the grid's tile area outside the M x N result. */
    default double edgeWaste(int m, int n) {
        double covered = (double) ceil(m, bm()) * bm() * ceil(n, bn()) * bn();
        return 1 - (double) m * n / covered;
    }

    /** The rule above over {@code tiles}, largest first; the last is the fallback. */
    static <T extends GemmTile> T choose(T[] tiles, int m, int n, int batch, int multiprocessors) {
        for (int i = 0; i < tiles.length - 1; i++) {
            if (tiles[i].ctas(m, n, batch) >= multiprocessors && tiles[i].edgeWaste(m, n) <= MAX_EDGE_WASTE) return tiles[i];
        }
        return tiles[tiles.length - 1];
    }

    private static int ceil(int a, int b) {
        return (a + b - 1) / b;
    }
}
