package io.electra.engine.optim;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Values worked out from ELECTRA's optimization.py: polynomial_decay(power 1) times min(1, step / warmup). */
class LinearWarmupDecayTest {
    private static final double TOL = 1e-15;
    private final LinearWarmupDecay s = new LinearWarmupDecay(5e-4, 10_000, 1_000_000);

    @Test
    void firstUpdateHasRateZero() {
        assertEquals(0.0, s.lr(0));
    }

    @Test
    void warmupRisesLinearlyUnderTheDecay() {
        // step 5000: 5e-4 * (1 - 0.005) * 0.5
        assertEquals(5e-4 * 0.995 * 0.5, s.lr(5_000), TOL);
        // step 1: 5e-4 * (1 - 1e-6) * 1e-4
        assertEquals(5e-4 * (1 - 1e-6) * 1e-4, s.lr(1), TOL);
    }

    @Test
    void warmupEndPeaksAtTheDecayedBase() {
        assertEquals(5e-4 * 0.99, s.lr(10_000), TOL);
        assertEquals(5e-4 * (1 - 10_001 / 1e6), s.lr(10_001), TOL);
    }

    @Test
    void lastUpdateUsesBaseOverTotalAndLaterStepsZero() {
        assertEquals(5e-4 / 1e6, s.lr(999_999), 1e-9 * 5e-4 / 1e6);
        assertEquals(0.0, s.lr(1_000_000));
        assertEquals(0.0, s.lr(2_000_000));
    }

    @Test
    void noWarmupStartsAtBase() {
        LinearWarmupDecay flat = new LinearWarmupDecay(1e-4, 0, 100);
        assertEquals(1e-4, flat.lr(0), TOL);
        assertEquals(1e-4 * 0.5, flat.lr(50), TOL);
    }

    @Test
    void warmupProportionAsInFineTuning() {
        // ELECTRA fine-tuning: warmup_proportion 0.1 of 1000 steps = 100 warmup steps
        LinearWarmupDecay ft = LinearWarmupDecay.withWarmupProportion(1e-4, 1000, 0.1, 0);
        assertEquals(100, ft.warmupSteps(), 1e-12);
        assertEquals(1e-4 * 0.95 * 0.5, ft.lr(50), TOL);
        assertEquals(1e-4 * 0.9, ft.lr(100), TOL);
    }

    @Test
    void powerTwoDecaysQuadratically() {
        LinearWarmupDecay p2 = new LinearWarmupDecay(1.0, 0, 10, 2.0);
        assertEquals(0.25, p2.lr(5), TOL);
        assertEquals(0.01, p2.lr(9), 1e-12);
    }

    @Test
    void invalidArgumentsAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> new LinearWarmupDecay(1e-4, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> new LinearWarmupDecay(1e-4, -1, 10));
        assertThrows(IllegalArgumentException.class, () -> s.lr(-1));
    }
}
