package io.electra.finetune;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SeedSummaryTest {
    @Test
    void medianIsTheMiddleValueOrTheMeanOfTheTwoMiddleOnes() {
        assertEquals(0.7, SeedSummary.median(new double[] {0.9, 0.7, 0.1}));
        assertEquals(0.75, SeedSummary.median(new double[] {0.9, 0.8, 0.7, 0.1}), 1e-15);
        assertEquals(0.5, SeedSummary.median(new double[] {0.5}));
        assertThrows(IllegalArgumentException.class, () -> SeedSummary.median(new double[0]));
    }
}
