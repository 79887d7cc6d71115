package io.electra.corpus;

import io.electra.engine.RngKey;
import io.electra.engine.random.Philox;

/**
 * A random permutation of the rows {@code [0, n)} for one epoch, computed position by position
 * (nothing stored, so a billion rows cost no memory and training can resume mid-epoch).
 *
 * <p>A four-round Feistel network over the smallest even-bit power of two {@code >= n}, with round
 * keys from Philox keyed by (seed, epoch); values that land outside {@code [0, n)} walk the cycle
 * until they fall inside, which keeps it a bijection on {@code [0, n)}.
 */
public final class EpochOrder {
    private static final int ROUNDS = 4;
    private final long n;
    private final int halfBits;
    private final long halfMask;
    private final RngKey key;

    EpochOrder(long n, long seed, int epoch) {
        if (n < 1) throw new IllegalArgumentException("no rows to order");
        this.n = n;
        int bits = Math.max(2, 64 - Long.numberOfLeadingZeros(n - 1));
        if ((bits & 1) == 1) bits++;
        this.halfBits = bits / 2;
        this.halfMask = (1L << halfBits) - 1;
        this.key = new RngKey(seed, epoch, RngKey.SHUFFLE);
    }

    public long size() {
        return n;
    }

    /** The row to read at {@code position} of the epoch. */
    public long row(long position) {
        if (position < 0 || position >= n) throw new IndexOutOfBoundsException("position " + position + " of " + n);
        long x = permute(position);
        while (x >= n) x = permute(x);
        return x;
    }

    private long permute(long x) {
        long left = x >>> halfBits, right = x & halfMask;
        for (int r = 0; r < ROUNDS; r++) {
            long f = (Philox.bits(key, ((long) r << 40) | right) & 0xFFFFFFFFL)
                    | ((long) Philox.bits(key, ((long) (r + ROUNDS) << 40) | right) << 32);
            long next = left ^ (f & halfMask);
            left = right;
            right = next;
        }
        return (left << halfBits) | right;
    }
}
