package io.electra.engine.cpu;

import io.electra.engine.RngKey;
import io.electra.engine.random.Philox;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Runs of consecutive raw values of one Philox stream ({@link Philox#bits} for elements
 * {@code start .. start+n)}), the source of every dropout mask and of the Gumbel noise. The vector
 * path computes {@link #GROUPS} x {@link #LANES} blocks at once, each 32-bit word in a 64-bit lane so that one lane
 * multiply gives the 64-bit product whose halves Philox needs; {@code -Delectra.cpu.vector=false}
 * selects the scalar twin ({@link Philox#block} one block at a time). Both give the same bits.
 */
final class PhiloxCpu {
    private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;
    private static final int LANES = S.length();
    private static final int GROUPS = 4;
    private static final boolean VECTOR = MatmulF32.VECTOR_DEFAULT;
    private static final long M0 = 0xD2511F53L, M1 = 0xCD9E8D57L, LOW = 0xFFFFFFFFL;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;
    private static final ThreadLocal<long[][]> WORDS = ThreadLocal.withInitial(() -> new long[4][GROUPS * LANES]);

    private PhiloxCpu() {
    }

    /** dst[off + k] = Philox.bits(key, start + k) for k in [0, n). */
    static void bits(RngKey key, long start, int[] dst, int off, int n) {
        int k0 = (int) key.seed(), k1 = (int) (key.seed() >>> 32), step = (int) key.step(), purpose = key.purpose();
        int[] block = new int[4];
        long i = start;
        int k = 0;
        // a partial first block, scalar
        if ((i & 3) != 0 && k < n) {
            long b = i >>> 2;
            Philox.block((int) b, (int) (b >>> 32), step, purpose, k0, k1, block);
            for (int lane = (int) (i & 3); lane < 4 && k < n; lane++, k++, i++) dst[off + k] = block[lane];
        }
        if (VECTOR) {
            long[][] words = WORDS.get();
            for (; n - k >= 4 * GROUPS * LANES; k += 4 * GROUPS * LANES, i += 4 * GROUPS * LANES) {
                vectorBlocks(i >>> 2, step, purpose, k0, k1, words);
                for (int lane = 0; lane < GROUPS * LANES; lane++) {
                    int at = off + k + 4 * lane;
                    dst[at] = (int) words[0][lane];
                    dst[at + 1] = (int) words[1][lane];
                    dst[at + 2] = (int) words[2][lane];
                    dst[at + 3] = (int) words[3][lane];
                }
            }
        }
        while (k < n) {
            long b = i >>> 2;
            Philox.block((int) b, (int) (b >>> 32), step, purpose, k0, k1, block);
            for (int lane = 0; lane < 4 && k < n; lane++, k++, i++) dst[off + k] = block[lane];
        }
    }

    /**
     * Blocks first .. first+GROUPS*LANES-1: words[w][b] = output word w of block first+b (low 32
     * bits). GROUPS independent groups of LANES blocks share each round, so that one group's
     * multiplies run while the others wait on theirs: a single group is bound by the multiply's
     * latency (measured: four groups take half the time per block of one).
     */
    private static void vectorBlocks(long first, int step, int purpose, int k0, int k1, long[][] words) {
        long[] counter = words[0];
        for (int b = 0; b < GROUPS * LANES; b++) counter[b] = (first + b) & LOW;
        LongVector a0 = LongVector.fromArray(S, counter, 0 * LANES), b0 = LongVector.fromArray(S, counter, 1 * LANES), c0 = LongVector.fromArray(S, counter, 2 * LANES), d0 = LongVector.fromArray(S, counter, 3 * LANES);
        for (int b = 0; b < GROUPS * LANES; b++) counter[b] = (first + b) >>> 32;
        LongVector a1 = LongVector.fromArray(S, counter, 0 * LANES), b1 = LongVector.fromArray(S, counter, 1 * LANES), c1 = LongVector.fromArray(S, counter, 2 * LANES), d1 = LongVector.fromArray(S, counter, 3 * LANES);
        LongVector a2 = LongVector.broadcast(S, step & LOW), a3 = LongVector.broadcast(S, purpose & LOW);
        LongVector b2 = a2, b3 = a3, c2 = a2, c3 = a3, d2 = a2, d3 = a3;
        int key0 = k0, key1 = k1;
        for (int round = 0; round < 10; round++) {
            long x0 = key0 & LOW, x1 = key1 & LOW;
            LongVector pa0 = a0.mul(M0), pa1 = a2.mul(M1);
            LongVector pb0 = b0.mul(M0), pb1 = b2.mul(M1);
            LongVector pc0 = c0.mul(M0), pc1 = c2.mul(M1);
            LongVector pd0 = d0.mul(M0), pd1 = d2.mul(M1);
            a0 = pa1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, a1.lanewise(VectorOperators.XOR, x0));
            a2 = pa0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, a3.lanewise(VectorOperators.XOR, x1));
            a1 = pa1.and(LOW);
            a3 = pa0.and(LOW);
            b0 = pb1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, b1.lanewise(VectorOperators.XOR, x0));
            b2 = pb0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, b3.lanewise(VectorOperators.XOR, x1));
            b1 = pb1.and(LOW);
            b3 = pb0.and(LOW);
            c0 = pc1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1.lanewise(VectorOperators.XOR, x0));
            c2 = pc0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c3.lanewise(VectorOperators.XOR, x1));
            c1 = pc1.and(LOW);
            c3 = pc0.and(LOW);
            d0 = pd1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, d1.lanewise(VectorOperators.XOR, x0));
            d2 = pd0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, d3.lanewise(VectorOperators.XOR, x1));
            d1 = pd1.and(LOW);
            d3 = pd0.and(LOW);
            key0 += W0;
            key1 += W1;
        }
        a0.intoArray(words[0], 0 * LANES);
        b0.intoArray(words[0], 1 * LANES);
        c0.intoArray(words[0], 2 * LANES);
        d0.intoArray(words[0], 3 * LANES);
        a1.intoArray(words[1], 0 * LANES);
        b1.intoArray(words[1], 1 * LANES);
        c1.intoArray(words[1], 2 * LANES);
        d1.intoArray(words[1], 3 * LANES);
        a2.intoArray(words[2], 0 * LANES);
        b2.intoArray(words[2], 1 * LANES);
        c2.intoArray(words[2], 2 * LANES);
        d2.intoArray(words[2], 3 * LANES);
        a3.intoArray(words[3], 0 * LANES);
        b3.intoArray(words[3], 1 * LANES);
        c3.intoArray(words[3], 2 * LANES);
        d3.intoArray(words[3], 3 * LANES);
    }

    /** The 24-bit integer k of the uniform k * 2^-24 that {@link Philox#uniform} makes of {@code bits}. */
    static int uniform24(int bits) {
        return bits >>> 8;
    }
}
