package io.electra.engine.cpu;

import io.electra.engine.RngKey;
import io.electra.engine.random.Philox;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Runs of consecutive raw values of one Philox stream ({@link Philox#bits} for elements
 * {@code start .. start+n)}), the source of every dropout mask and of the Gumbel noise. The vector
 * path computes 2 x {@link #LANES} blocks at once, each 32-bit word in a 64-bit lane so that one lane
 * multiply gives the 64-bit product whose halves Philox needs; {@code -Delectra.cpu.vector=false}
 * selects the scalar twin ({@link Philox#block} one block at a time). Both give the same bits.
 */
final class PhiloxCpu {
    private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;
    private static final int LANES = S.length();
    private static final boolean VECTOR = MatmulF32.VECTOR_DEFAULT;
    private static final long M0 = 0xD2511F53L, M1 = 0xCD9E8D57L, LOW = 0xFFFFFFFFL;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;
    private static final ThreadLocal<long[][]> WORDS = ThreadLocal.withInitial(() -> new long[4][2 * LANES]);

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
            for (; n - k >= 8 * LANES; k += 8 * LANES, i += 8 * LANES) {
                vectorBlocks(i >>> 2, step, purpose, k0, k1, words);
                for (int lane = 0; lane < 2 * LANES; lane++) {
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
     * Blocks first .. first+2*LANES-1: words[w][b] = output word w of block first+b (low 32 bits).
     * Two independent groups of LANES blocks share each round, so that one group's multiplies run
     * while the other's wait on theirs: a single group is bound by the multiply's latency (one group
     * took 33 ms for 9.3M values on one thread, two 18 ms). Four groups ran 13 ms when C2 inlined
     * every vector operation of this then larger method, but in half of the runs it did not and
     * boxed the vectors (80 ms); two groups were never seen to fall back.
     */
    private static void vectorBlocks(long first, int step, int purpose, int k0, int k1, long[][] words) {
        long[] counter = words[0];
        for (int b = 0; b < 2 * LANES; b++) counter[b] = (first + b) & LOW;
        LongVector a0 = LongVector.fromArray(S, counter, 0), b0 = LongVector.fromArray(S, counter, LANES);
        for (int b = 0; b < 2 * LANES; b++) counter[b] = (first + b) >>> 32;
        LongVector a1 = LongVector.fromArray(S, counter, 0), b1 = LongVector.fromArray(S, counter, LANES);
        LongVector a2 = LongVector.broadcast(S, step & LOW), a3 = LongVector.broadcast(S, purpose & LOW);
        LongVector b2 = a2, b3 = a3;
        int key0 = k0, key1 = k1;
        for (int round = 0; round < 10; round++) {
            long x0 = key0 & LOW, x1 = key1 & LOW;
            LongVector pa0 = a0.mul(M0), pa1 = a2.mul(M1), pb0 = b0.mul(M0), pb1 = b2.mul(M1);
            LongVector na0 = pa1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, a1.lanewise(VectorOperators.XOR, x0));
            LongVector na2 = pa0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, a3.lanewise(VectorOperators.XOR, x1));
            LongVector nb0 = pb1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, b1.lanewise(VectorOperators.XOR, x0));
            LongVector nb2 = pb0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, b3.lanewise(VectorOperators.XOR, x1));
            a1 = pa1.and(LOW);
            a3 = pa0.and(LOW);
            a0 = na0;
            a2 = na2;
            b1 = pb1.and(LOW);
            b3 = pb0.and(LOW);
            b0 = nb0;
            b2 = nb2;
            key0 += W0;
            key1 += W1;
        }
        a0.intoArray(words[0], 0);
        b0.intoArray(words[0], LANES);
        a1.intoArray(words[1], 0);
        b1.intoArray(words[1], LANES);
        a2.intoArray(words[2], 0);
        b2.intoArray(words[2], LANES);
        a3.intoArray(words[3], 0);
        b3.intoArray(words[3], LANES);
    }

    /** The 24-bit integer k of the uniform k * 2^-24 that {@link Philox#uniform} makes of {@code bits}. */
    static int uniform24(int bits) {
        return bits >>> 8;
    }
}
