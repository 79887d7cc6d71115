package io.electra.pretrain;

import java.util.SplittableRandom;

/**
 * Serves training batches from rows {@code [0, trainRows)} of a source in an order reshuffled every
 * epoch from (seed, epoch). Its whole state is (epoch, position), so a checkpoint records it and a
 * resumed run continues with exactly the rows the uninterrupted run would have seen.
 */
public final class BatchLoader {
    private final ExampleSource source;
    private final long seed;
    private final int trainRows;
    private int[] order;
    private int epoch = -1;
    private int position;

    public BatchLoader(ExampleSource source, long trainRows, long seed) {
        if (trainRows < 1) throw new IllegalArgumentException("no training rows");
        if (trainRows > Integer.MAX_VALUE) throw new IllegalArgumentException("over 2^31 rows: shard the corpus");
        this.source = source;
        this.trainRows = (int) trainRows;
        this.seed = seed;
        seek(0, 0);
    }

    public int epoch() {
        return epoch;
    }

    public int position() {
        return position;
    }

    /** Moves to row {@code position} of epoch {@code epoch}'s order. */
    public void seek(int epoch, int position) {
        if (position < 0 || position > trainRows) throw new IllegalArgumentException("cursor " + position + " outside epoch");
        if (epoch != this.epoch) {
            this.order = permutation(trainRows, new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch));
            this.epoch = epoch;
        }
        this.position = position;
    }

    /** Fills (batch * T) ids, token types and attention mask with the next rows, wrapping into a new epoch. */
    public void next(int batch, int[] ids, int[] tokenTypes, int[] mask) {
        int t = source.maxLength();
        int[] rowIds = new int[t], rowTypes = new int[t];
        for (int b = 0; b < batch; b++) {
            if (position == trainRows) seek(epoch + 1, 0);
            source.readRow(order[position++], rowIds, rowTypes);
            System.arraycopy(rowIds, 0, ids, b * t, t);
            System.arraycopy(rowTypes, 0, tokenTypes, b * t, t);
            for (int j = 0; j < t; j++) mask[b * t + j] = rowIds[j] != 0 ? 1 : 0;
        }
    }

    private static int[] permutation(int n, SplittableRandom r) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) p[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            int tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return p;
    }
}
