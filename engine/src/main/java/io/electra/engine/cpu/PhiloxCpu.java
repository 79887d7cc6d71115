package io.electra.engine.cpu;

import io.electra.engine.RngKey;
import io.electra.engine.random.Philox;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Runs of consecutive raw values of one Philox stream ({@link Philox#bits} for elements
 * {@code start .. start+n)}), the source of every dropout mask and of the Gumbel noise. The vector
 * path computes {@link #LANES} blocks at once, each 32-bit word in a 64-bit lane so that one lane
 * multiply gives the 64-bit product whose halves Philox needs; {@code -Delectra.cpu.vector=false}
 * selects the scalar twin ({@link Philox#block} one block at a time). Both give the same bits.
 */
final class PhiloxCpu {
    private static final VectorSpecies<Long> S = LongVector.SPECIES_PREFERRED;
    private static final int LANES = S.length();
    private static final boolean VECTOR = MatmulF32.VECTOR_DEFAULT;
    private static final long M0 = 0xD2511F53L, M1 = 0xCD9E8D57L, LOW = 0xFFFFFFFFL;
    private static final int W0 = 0x9E3779B9, W1 = 0xBB67AE85;
    private static final ThreadLocal<long[][]> WORDS = ThreadLocal.withInitial(() -> new long[4][LANES]);

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
            for (; n - k >= 4 * LANES; k += 4 * LANES, i += 4 * LANES) {
                vectorBlocks(i >>> 2, step, purpose, k0, k1, words);
                for (int lane = 0; lane < LANES; lane++) {
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

    /** Blocks first .. first+LANES-1: words[w][lane] = output word w of block first+lane (low 32 bits). */
    private static void vectorBlocks(long first, int step, int purpose, int k0, int k1, long[][] words) {
        long[] counter = words[0];
        for (int lane = 0; lane < LANES; lane++) counter[lane] = (first + lane) & LOW;
        LongVector c0 = LongVector.fromArray(S, counter, 0);
        for (int lane = 0; lane < LANES; lane++) counter[lane] = (first + lane) >>> 32;
        LongVector c1 = LongVector.fromArray(S, counter, 0);
        LongVector c2 = LongVector.broadcast(S, step & LOW), c3 = LongVector.broadcast(S, purpose & LOW);
        int key0 = k0, key1 = k1;
        for (int round = 0; round < 10; round++) {
            LongVector p0 = c0.mul(M0), p1 = c2.mul(M1);
            LongVector n0 = p1.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c1.lanewise(VectorOperators.XOR, key0 & LOW));
            LongVector n2 = p0.lanewise(VectorOperators.LSHR, 32).lanewise(VectorOperators.XOR, c3.lanewise(VectorOperators.XOR, key1 & LOW));
            c1 = p1.and(LOW);
            c3 = p0.and(LOW);
            c0 = n0;
            c2 = n2;
            key0 += W0;
            key1 += W1;
        }
        c0.intoArray(words[0], 0);
        c1.intoArray(words[1], 0);
        c2.intoArray(words[2], 0);
        c3.intoArray(words[3], 0);
    }

    /** The 24-bit integer k of the uniform k * 2^-24 that {@link Philox#uniform} makes of {@code bits}. */
    static int uniform24(int bits) {
        return bits >>> 8;
    }
}
