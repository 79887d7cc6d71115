package io.electra.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorSpecies;

import java.util.Arrays;

/**
 * Single-precision C[M,N] (=|+=) alpha * op(A)[M,K] op(B)[K,N] on raw arrays, cache-blocked in
 * the manner of Goto and van de Geijn ("Anatomy of high-performance matrix multiplication", ACM
 * TOMS 2008):
 * <pre>
 *   for each column block jc (NC columns) and depth block pc (KC):
 *     pack B[pc, jc] into panels NR wide            (shared, stays in L2/L3)
 *     in parallel over row blocks ic (MC rows) x column chunks:
 *       pack A[ic, pc] into panels MR tall           (per thread, stays in L2)
 *       for each NR panel of B, each MR panel of A:  MR x NR micro-kernel, accumulators in registers
 * </pre>
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
        for (int jc = 0; jc < n; jc += NC) {
            int nc = Math.min(NC, n - jc), panels = (nc + NR - 1) / NR;
            for (int pc = 0; pc < k; pc += KC) {
                int kc = Math.min(KC, k - pc), j0 = jc, p0 = pc;
                boolean add = accumulate || pc > 0;
                float[] bp = pack(1, panels * kc * NR);
                parallel.parallelFor(panels, (long) kc * NR, (q0, q1) -> {
                    for (int q = q0; q < q1; q++) packB(b, bo, transB, n, k, p0, kc, j0 + q * NR, Math.min(NR, n - j0 - q * NR), bp, q * kc * NR);
                });
                int rowBlocks = (m + MC - 1) / MC;
                // Split columns too when there are too few row blocks to keep every thread busy.
                int colChunks = Math.min(panels, Math.max(1, (4 * parallel.threads() + rowBlocks - 1) / rowBlocks));
                parallel.parallelFor(rowBlocks * colChunks, 2L * MC * kc * Math.max(1, nc / colChunks), (t0, t1) -> {
                    for (int task = t0; task < t1; task++) {
                        int i0 = (task / colChunks) * MC, mc = Math.min(MC, m - i0), chunk = task % colChunks;
                        int qFrom = panels * chunk / colChunks, qTo = panels * (chunk + 1) / colChunks;
                        float[] ap = pack(0, ((mc + MR - 1) / MR) * MR * kc), tile = pack(2, MR * NR);
                        packA(a, ao, transA, m, k, i0, mc, p0, kc, ap);
                        for (int q = qFrom; q < qTo; q++) {
                            int j = j0 + q * NR, nr = Math.min(NR, n - j);
                            for (int r = 0; r < mc; r += MR) {
                                int cOff = co + (i0 + r) * n + j, mr = Math.min(MR, mc - r);
                                if (vector) {
                                    kernelVector(ap, r * kc, bp, q * kc * NR, kc, tile);
                                    writeTile(tile, c, cOff, n, mr, nr, alpha, add);
                                } else {
                                    kernelScalar(ap, r * kc, bp, q * kc * NR, kc, tile, c, cOff, n, mr, nr, alpha, add);
                                }
                            }
                        }
                    }
                });
            }
        }
    }

    /** A thread-private packing buffer of at least {@code size} floats. */
    private static float[] pack(int which, int size) {
        float[][] packs = PACKS.get();
        if (packs[which].length < size) packs[which] = new float[size];
        return packs[which];
    }

    /** op(B)[p0.., j..j+nr) as kc rows of NR floats (zero beyond nr). */
    private static void packB(float[] b, int bo, boolean transB, int n, int k, int p0, int kc, int j, int nr,
                              float[] bp, int off) {
        for (int p = 0; p < kc; p++) {
            int dst = off + p * NR;
            if (!transB) System.arraycopy(b, bo + (p0 + p) * n + j, bp, dst, nr);
            else for (int jj = 0; jj < nr; jj++) bp[dst + jj] = b[bo + (j + jj) * k + p0 + p];
            for (int jj = nr; jj < NR; jj++) bp[dst + jj] = 0;
        }
    }

    /** op(A)[i0..i0+mc, p0..p0+kc) as panels of MR rows: panel r holds kc groups of MR floats. */
    private static void packA(float[] a, int ao, boolean transA, int m, int k, int i0, int mc, int p0, int kc, float[] ap) {
        for (int r0 = 0; r0 < mc; r0 += MR) {
            int mr = Math.min(MR, mc - r0), base = r0 * kc;
            for (int p = 0; p < kc; p++) {
                int dst = base + p * MR;
                for (int r = 0; r < mr; r++) {
                    int i = i0 + r0 + r;
                    ap[dst + r] = transA ? a[ao + (p0 + p) * m + i] : a[ao + i * k + p0 + p];
                }
                for (int r = mr; r < MR; r++) ap[dst + r] = 0;
            }
        }
    }

    /**
     * tile[MR x NR] = A panel @ B panel, twelve vector accumulators. The accumulators go to memory
     * here rather than to a helper method: a vector passed to a call the JIT does not inline is
     * boxed, and one deoptimisation that leaves a helper out-of-line costs an order of magnitude.
     */
    private static void kernelVector(float[] ap, int aOff, float[] bp, int bOff, int kc, float[] tile) {
        FloatVector c00 = FloatVector.zero(S), c01 = FloatVector.zero(S), c10 = FloatVector.zero(S), c11 = FloatVector.zero(S);
        FloatVector c20 = FloatVector.zero(S), c21 = FloatVector.zero(S), c30 = FloatVector.zero(S), c31 = FloatVector.zero(S);
        FloatVector c40 = FloatVector.zero(S), c41 = FloatVector.zero(S), c50 = FloatVector.zero(S), c51 = FloatVector.zero(S);
        for (int p = 0; p < kc; p++) {
            int bi = bOff + p * NR, ai = aOff + p * MR;
            FloatVector b0 = FloatVector.fromArray(S, bp, bi), b1 = FloatVector.fromArray(S, bp, bi + L);
            FloatVector x = FloatVector.broadcast(S, ap[ai]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ai + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ai + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ai + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ai + 4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ai + 5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, L);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + L);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + L);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + L);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + L);
        c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + L);
    }

    /** C[mr rows, nr cols at cOff] (=|+=) alpha * tile, masked at the right edge. */
    private static void writeTile(float[] tile, float[] c, int cOff, int ldc, int mr, int nr, float alpha, boolean add) {
        for (int r = 0; r < mr; r++) {
            int off = cOff + r * ldc;
            for (int j = 0; j < NR; j += L) {
                VectorMask<Float> mask = S.indexInRange(j, nr);
                FloatVector v = FloatVector.fromArray(S, tile, r * NR + j).mul(alpha);
                if (add) v = v.add(FloatVector.fromArray(S, c, off + j, mask));
                v.intoArray(c, off + j, mask);
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
