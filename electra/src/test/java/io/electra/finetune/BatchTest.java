package io.electra.finetune;

import io.electra.engine.Backend;
import io.electra.engine.cpu.CpuBackend;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BatchTest {
    private static EncodedExample row(int length, int label, int firstSegment) {
        int[] ids = new int[length], types = new int[length];
        for (int i = 0; i < length; i++) {
            ids[i] = 100 + i;
            types[i] = i < firstSegment ? 0 : 1;
        }
        return new EncodedExample(ids, types, label, Float.NaN);
    }

    @Test
    void padsToLongestRowRoundedUpToEightWithMaskAndClsRows() {
        List<EncodedExample> rows = List.of(row(3, 1, 3), row(9, 0, 5), row(5, 1, 2));
        try (Backend b = new CpuBackend(1)) {
            // rows 2 and 1, in that order: longest 9 -> T = 16
            Batch batch = Batch.upload(b, rows, new int[] {0, 2, 1}, 1, 3, 512, Batch.Targets.LABELS);
            assertEquals(2, batch.size());
            assertEquals(16, batch.inputs().seq());
            int[] ids = b.downloadInt(batch.inputs().ids());
            int[] mask = b.downloadInt(batch.inputs().attentionMask());
            int[] types = b.downloadInt(batch.inputs().tokenTypes());
            int[] pos = b.downloadInt(batch.inputs().positions());
            int[] expectIds = new int[32], expectMask = new int[32], expectTypes = new int[32], expectPos = new int[32];
            for (int j = 0; j < 5; j++) { expectIds[j] = 100 + j; expectMask[j] = 1; expectTypes[j] = j < 2 ? 0 : 1; }
            for (int j = 0; j < 9; j++) { expectIds[16 + j] = 100 + j; expectMask[16 + j] = 1; expectTypes[16 + j] = j < 5 ? 0 : 1; }
            for (int j = 0; j < 32; j++) expectPos[j] = j % 16;
            assertArrayEquals(expectIds, ids);
            assertArrayEquals(expectMask, mask);
            assertArrayEquals(expectTypes, types);
            assertArrayEquals(expectPos, pos);
            assertArrayEquals(new int[] {0, 16}, b.downloadInt(batch.clsRows()));
            assertArrayEquals(new int[] {1, 0}, b.downloadInt(batch.labels()));
            assertNull(batch.scores());
        }
    }

    @Test
    void paddingNeverPassesTheModelsPositions() {
        assertEquals(8, Batch.paddedLength(1, 512));
        assertEquals(8, Batch.paddedLength(8, 512));
        assertEquals(16, Batch.paddedLength(9, 512));
        assertEquals(100, Batch.paddedLength(97, 100));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Batch.paddedLength(101, 100));
        assertTrue(e.getMessage().contains("101") && e.getMessage().contains("100"), e.getMessage());
    }

    @Test
    void regressionBatchCarriesScoresAndRejectsUnscoredRows() {
        List<EncodedExample> rows = List.of(new EncodedExample(new int[] {2, 7, 3}, new int[3], -1, 3.5f),
                new EncodedExample(new int[] {2, 3}, new int[2], -1, Float.NaN));
        try (Backend b = new CpuBackend(1)) {
            Batch batch = Batch.upload(b, rows, new int[] {0, 1}, 0, 1, 512, Batch.Targets.SCORES);
            assertArrayEquals(new float[] {3.5f}, b.downloadFloat(batch.scores()));
            assertNull(batch.labels());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Batch.upload(b, rows, new int[] {0, 1}, 0, 2, 512, Batch.Targets.SCORES));
            assertTrue(e.getMessage().contains("row 1"), e.getMessage());
        }
    }
}
