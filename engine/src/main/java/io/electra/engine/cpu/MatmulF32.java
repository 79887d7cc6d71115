package io.electra.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Single-precision C[M,N] (=|+=) alpha * op(A)[M,K] op(B)[K,N] on raw arrays, cache-blocked in
 * the manner of Goto and van de Geijn ("Anatomy of high-performance matrix multiplication", ACM
 * TOMS 2008):
 * <pre>
 *   for each column block jc (NC columns, fewer when K is deep):
 *     pack B[:, jc] into panels NR wide, every depth  (shared, stays in L2/L3)
 *     in parallel over row blocks ic (MC rows, fewer when M is short) x column chunks:
 *       for each depth block pc (KC):
 *         pack A[ic, pc] into panels MR tall          (per thread, stays in L2)
 *         for each NR panel of B, each MR panel of A: MR x NR micro-kernel, accumulators in registers
 * </pre>
 * One task owns its tile of C across all depths, so two hand-offs per column block suffice, and
 * the order of additions within an element is fixed whatever the thread count. When a task meets
 * only a few panels of B, packing A costs as much as the products, and the micro-kernel reads A's
 * full MR-row panels where they lie instead.
 * Packing absorbs the transposes, so all four variants share one micro-kernel. The micro-kernel
 * uses the JDK Vector API ({@value #MR} rows x 2 vectors of FMAs); {@code -Delectra.cpu.vector=false}
 * selects its scalar twin, which runs the same blocking with plain loops.
 */
final class MatmulF32 {
    /** Whether the Vector API kernel runs by default; {@code -Delectra.cpu.vector=false} selects the scalar twin. */
    static final boolean VECTOR_DEFAULT = !"false".equals(System.getProperty("electra.cpu.vector"));
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    static final int MR = 6;
    static final int NR = 2 * L;
    private static final int KC = 256;
    private static final int MC = 32 * MR;
    private static final int NC = 4096;
    /** Most floats of packed B per column block (8 MiB): bounds the block's width when k is large. */
    private static final int B_BUDGET = 1 << 21;
    /** At most this many panels of B per task: the kernel reads A in place instead of packing it. */
    private static final int DIRECT_PANELS = 4;
    private static final ThreadLocal<float[][]> PACKS = ThreadLocal.withInitial(() -> new float[3][0]); // [A, B, tile]

    private final Parallel parallel;
    private final boolean vector;

    MatmulF32(Parallel parallel, boolean vector) {
        this.parallel = parallel;
        this.vector = vector;
    }

    void multiply(float[] a, int ao, boolean transA, float[] b, int bo, boolean transB, float[] c, int co,
                  int m, int n, int k, float alpha, boolean accumulate) {
        if (m == 0 || n == 0) return;
        if (k == 0) {
            if (!accumulate) for (int i = 0; i < m; i++) Arrays.fill(c, co + i * n, co + (i + 1) * n, 0f);
            return;
        }
        int threads = parallel.threads();
        // Column blocks: NC wide, narrower when k is so deep that B packed for every depth would not fit the budget.
        int ncMax = Math.max(NR, Math.min(NC, B_BUDGET / k / NR * NR));
        // Row blocks: MC tall, shorter when that leaves too few blocks for the threads (fewer column
        // chunks, so A is packed fewer times). The split decides only who computes which tile of C,
        // never the order of additions within one element: results do not depend on the thread count.
        int mc0 = Math.max(MR, Math.min(MC, ceilDiv(ceilDiv(m, 4 * threads), MR) * MR));
        for (int jc = 0; jc < n; jc += ncMax) {
            int nc = Math.min(ncMax, n - jc), panels = ceilDiv(nc, NR), j0 = jc;
            float[] bp = pack(1, panels * k * NR); // panel q: k rows of NR floats
            parallel.parallelFor(panels, (long) k * NR, (q0, q1) -> {
                for (int q = q0; q < q1; q++) packB(b, bo, transB, n, k, j0 + q * NR, Math.min(NR, n - j0 - q * NR), bp, q * k * NR);
            });
            int rowBlocks = ceilDiv(m, mc0);
            int colChunks = Math.min(panels, Math.max(1, ceilDiv(4 * threads, rowBlocks)));
            parallel.parallelFor(rowBlocks * colChunks, 2L * mc0 * k * Math.max(1, nc / colChunks), (t0, t1) -> {
                for (int task = t0; task < t1; task++) {
                    int i0 = (task / colChunks) * mc0, mc = Math.min(mc0, m - i0), chunk = task % colChunks;
                    int qFrom = panels * chunk / colChunks, qTo = panels * (chunk + 1) / colChunks;
                    float[] ap = pack(0, ceilDiv(mc, MR) * MR * Math.min(KC, k)), tile = pack(2, MR * NR);
                    // Packing A pays when its panels meet many panels of B; with few, the kernel reads
                    // whole MR-row panels of A where they lie (edge panels are still packed).
                    boolean direct = vector && qTo - qFrom <= DIRECT_PANELS;
                    int fullRows = direct ? mc / MR * MR : 0;
                    for (int pc = 0; pc < k; pc += KC) {
                        int kc = Math.min(KC, k - pc);
                        boolean add = accumulate || pc > 0;
                        if (transA) packTransposedA(a, ao, m, i0, mc, pc, kc, ap, fullRows);
                        else packA(a, ao, k, i0, mc, pc, kc, ap, fullRows);
                        for (int q = qFrom; q < qTo; q++) {
                            int j = j0 + q * NR, nr = Math.min(NR, n - j), bOff = q * k * NR + pc * NR;
                            for (int r = 0; r < mc; r += MR) {
                                int cOff = co + (i0 + r) * n + j, mr = Math.min(MR, mc - r);
                                if (vector) {
                                    // A full tile that simply overwrites C goes straight there.
                                    boolean straight = mr == MR && nr == NR && alpha == 1f && !add;
                                    float[] src = r < fullRows ? a : ap;
                                    int aOff = r >= fullRows ? r * kc : transA ? ao + pc * m + i0 + r : ao + (i0 + r) * k + pc;
                                    int rowStride = r >= fullRows ? 1 : transA ? 1 : k, depthStride = r >= fullRows ? MR : transA ? m : 1;
                                    kernelVector(src, aOff, rowStride, depthStride, bp, bOff, kc, straight ? c : tile,
                                            straight ? cOff : 0, straight ? n : NR);
                                    if (!straight) writeTile(tile, c, cOff, n, mr, nr, alpha, add);
                                } else {
                                    kernelScalar(ap, r * kc, bp, bOff, kc, tile, c, cOff, n, mr, nr, alpha, add);
                                }
                            }
                        }
                    }
                }
            });
        }
    }

    private static int ceilDiv(int a, int b) {
        return (a + b - 1) / b;
    }

    /** A thread-private packing buffer of at least {@code size} floats. */
    private static float[] pack(int which, int size) {
        float[][] packs = PACKS.get();
        if (packs[which].length < size) packs[which] = new float[size];
        return packs[which];
    }

    /** op(B)[0..k, j..j+nr) as k rows of NR floats (zero beyond nr). */
    private static void packB(float[] b, int bo, boolean transB, int n, int k, int j, int nr, float[] bp, int off) {
        if (transB) {
            for (int jj = 0; jj < nr; jj++) {
                int src = bo + (j + jj) * k;
                for (int p = 0; p < k; p++) bp[off + p * NR + jj] = b[src + p];
            }
        } else {
            for (int p = 0; p < k; p++) System.arraycopy(b, bo + p * n + j, bp, off + p * NR, nr);
        }
        if (nr < NR) for (int p = 0; p < k; p++) Arrays.fill(bp, off + p * NR + nr, off + (p + 1) * NR, 0f);
    }

    /**
     * A[i0..i0+mc, p0..p0+kc) (A stored [m, k]) as panels of MR rows: panel r holds kc groups of MR
     * floats. Rows below {@code from} are left out (the kernel reads them in place).
     */
    private static void packA(float[] a, int ao, int k, int i0, int mc, int p0, int kc, float[] ap, int from) {
        for (int r0 = from; r0 < mc; r0 += MR) {
            int mr = Math.min(MR, mc - r0), base = r0 * kc;
            for (int r = 0; r < mr; r++) {
                int src = ao + (i0 + r0 + r) * k + p0;
                for (int p = 0; p < kc; p++) ap[base + p * MR + r] = a[src + p];
            }
            for (int r = mr; r < MR; r++) for (int p = 0; p < kc; p++) ap[base + p * MR + r] = 0;
        }
    }

    /** The same panels of op(A) = A^T, A stored [k, m]: each depth p reads a contiguous run of A. */
    private static void packTransposedA(float[] a, int ao, int m, int i0, int mc, int p0, int kc, float[] ap, int from) {
        int full = mc / MR * MR;
        for (int p = 0; p < kc; p++) {
            int src = ao + (p0 + p) * m + i0;
            for (int r0 = from; r0 < full; r0 += MR) {
                int dst = r0 * kc + p * MR, at = src + r0;
                ap[dst] = a[at];
                ap[dst + 1] = a[at + 1];
                ap[dst + 2] = a[at + 2];
                ap[dst + 3] = a[at + 3];
                ap[dst + 4] = a[at + 4];
                ap[dst + 5] = a[at + 5];
            }
            if (full < mc) {
                int dst = full * kc + p * MR;
                for (int r = 0; r < MR; r++) ap[dst + r] = full + r < mc ? a[src + full + r] : 0;
            }
        }
    }

    /**
     * out[MR x NR at outOff, row stride ld] = A panel @ B panel, twelve vector accumulators; A's
     * element (r, p) is ap[aOff + r*rs + p*ps] (packed panels: rs = 1, ps = MR). The accumulators
     * are stored here rather than by a helper method: a vector passed to a call the JIT does not
     * inline is boxed, and one deoptimisation that leaves a helper out-of-line costs an order of
     * magnitude. The epilogue has no branches (alpha and += live in {@link #writeTile}): with them,
     * C2 recompiled this method into a version ten times slower.
     */
    private static void kernelVector(float[] ap, int aOff, int rs, int ps, float[] bp, int bOff, int kc, float[] out,
                                     int outOff, int ld) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S), c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        int rs2 = 2 * rs, rs3 = 3 * rs, rs4 = 4 * rs, rs5 = 5 * rs;
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR, ai = aOff + p * ps;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi), b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector x = FloatVector.broadcast(S, ap[ai]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ai + rs]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ai + rs2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ai + rs3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ai + rs4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ai + rs5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        int o0 = outOff, o1 = o0 + ld, o2 = o1 + ld, o3 = o2 + ld, o4 = o3 + ld, o5 = o4 + ld;
        c00.intoArray(out, o0); c01.intoArray(out, o0 + L);
        c10.intoArray(out, o1); c11.intoArray(out, o1 + L);
        c20.intoArray(out, o2); c21.intoArray(out, o2 + L);
        c30.intoArray(out, o3); c31.intoArray(out, o3 + L);
        c40.intoArray(out, o4); c41.intoArray(out, o4 + L);
        c50.intoArray(out, o5); c51.intoArray(out, o5 + L);
    }

    /** C[mr rows, nr cols at cOff] (=|+=) alpha * tile; vectors for whole rows, scalars at the right edge. */
    private static void writeTile(float[] tile, float[] c, int cOff, int ldc, int mr, int nr, float alpha, boolean add) {
        for (int r = 0; r < mr; r++) {
            int off = cOff + r * ldc, t = r * NR;
            if (nr == NR) {
                FloatVector v0 = FloatVector.fromArray(S, tile, t).mul(alpha), v1 = FloatVector.fromArray(S, tile, t + L).mul(alpha);
                if (add) {
                    v0 = v0.add(FloatVector.fromArray(S, c, off));
                    v1 = v1.add(FloatVector.fromArray(S, c, off + L));
                }
                v0.intoArray(c, off);
                v1.intoArray(c, off + L);
            } else {
                for (int j = 0; j < nr; j++) c[off + j] = alpha * tile[t + j] + (add ? c[off + j] : 0);
            }
        }
    }

    /** The scalar twin of {@link #kernelVector}: same panels, same order of additions per element. */
    private static void kernelScalar(float[] ap, int aOff, float[] bp, int bOff, int kc, float[] acc, float[] c,
                                     int cOff, int ldc, int mr, int nr, float alpha, boolean add) {
        Arrays.fill(acc, 0f);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR, ai = aOff + p * MR;
            for (int r = 0; r < MR; r++) {
                float x = ap[ai + r];
                for (int j = 0; j < NR; j++) acc[r * NR + j] = Math.fma(x, bp[bi + j], acc[r * NR + j]);
            }
        }
        for (int r = 0; r < mr; r++) {
            for (int j = 0; j < nr; j++) {
                int at = cOff + r * ldc + j;
                c[at] = alpha * acc[r * NR + j] + (add ? c[at] : 0);
            }
        }
    }
}
