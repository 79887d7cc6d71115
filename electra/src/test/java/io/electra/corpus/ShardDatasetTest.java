package io.electra.corpus;

import io.electra.tokenizer.Vocab;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Shards written by ShardWriter and read back through small mapped windows; the epoch shuffle. */
class ShardDatasetTest {
    private static final Vocab VOCAB = Vocab.of(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b"));

    @Test
    void rowsReadBackAcrossShardsAndWindows(@TempDir Path dir) throws Exception {
        int max = 9;
        Random r = new Random(4);
        List<int[]> rows = new ArrayList<>();
        List<Integer> starts = new ArrayList<>();
        ShardWriter w = new ShardWriter(dir, max, 7);
        for (int i = 0; i < 40; i++) {
            int len = 3 + r.nextInt(max - 2);
            int[] ids = new int[max];
            for (int j = 0; j < len; j++) ids[j] = 1 + r.nextInt(65535); // the full uint16 range
            int startB = r.nextBoolean() ? len : 1 + r.nextInt(len - 1);
            rows.add(ids);
            starts.add(startB);
            w.row(ids, len, startB);
        }
        List<ShardIndex.Shard> shards = new ArrayList<>();
        for (ShardWriter.Shard s : w.finish()) shards.add(new ShardIndex.Shard(s.file(), s.rows(), s.bytes()));
        assertEquals(6, shards.size());
        new ShardIndex(ShardFormat.FORMAT, ShardFormat.VERSION, VOCAB.sha256(), VOCAB.size(), true, max, 7, 40, 0, 0, 1,
                1, 40, 0, shards, List.of(), List.of()).write(dir);
        try (ShardDataset ds = ShardDataset.open(dir, VOCAB, 3 * ShardFormat.rowBytes(max))) {
            assertEquals(40, ds.rows());
            int[] ids = new int[max], types = new int[max];
            for (int i = 39; i >= 0; i--) {
                ds.readRow(i, ids, types);
                assertArrayEquals(rows.get(i), ids, "row " + i);
                for (int j = 0; j < max; j++) {
                    int expected = j >= starts.get(i) && rows.get(i)[j] != 0 ? 1 : 0;
                    assertEquals(expected, types[j], "type of row " + i + " at " + j);
                }
            }
            assertThrows(IndexOutOfBoundsException.class, () -> ds.readRow(40, new int[max], null));
        }
        Vocab other = Vocab.of(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "c"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ShardDataset.open(dir, other));
        assertTrue(e.getMessage().contains(VOCAB.sha256()) && e.getMessage().contains(other.sha256()), e.getMessage());
    }

    @Test
    void epochOrderIsAPermutationFixedBySeedAndEpoch() {
        for (long n : new long[]{1, 2, 3, 17, 1000, 4097, 65536}) {
            EpochOrder order = new EpochOrder(n, 42, 0);
            BitSet seen = new BitSet();
            for (long k = 0; k < n; k++) {
                long row = order.row(k);
                assertTrue(row >= 0 && row < n, "row " + row + " of " + n);
                assertTrue(!seen.get((int) row), "row " + row + " twice for n=" + n);
                seen.set((int) row);
            }
            assertEquals(n, seen.cardinality());
        }
        long[] a = rows(new EpochOrder(1000, 42, 0)), again = rows(new EpochOrder(1000, 42, 0));
        assertArrayEquals(a, again);
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(rows(new EpochOrder(1000, 42, 1))));
        assertNotEquals(java.util.Arrays.toString(a), java.util.Arrays.toString(rows(new EpochOrder(1000, 43, 0))));
        // Shuffled, not shifted: few rows stay in place (1 expected for a random permutation).
        int fixed = 0;
        for (int k = 0; k < a.length; k++) if (a[k] == k) fixed++;
        assertTrue(fixed < 10, "fixed points: " + fixed);
    }

    private static long[] rows(EpochOrder o) {
        long[] out = new long[(int) o.size()];
        for (int k = 0; k < out.length; k++) out[k] = o.row(k);
        return out;
    }
}
