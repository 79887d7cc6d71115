package io.electra.bench.step;

import io.electra.engine.Backend;
import io.electra.engine.MemoryStats;
import io.electra.engine.Precision;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.testing.RecordingBackend;
import io.electra.model.Preset;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StepHarnessTest {
    private static final double LN_VOCAB = Math.log(30522), LN_2 = Math.log(2);

    /**
     * At HF's initialisation (weights of std 0.02) both networks predict almost uniformly: the generator's
     * cross-entropy is about ln V and the discriminator's BCE about ln 2, so ELECTRA's first loss is
     * ln V + 50 ln 2 = 44.98 and the masked LM's ln V = 10.33.
     */
    @Test
    void firstLossesAreThoseOfUniformPredictions() {
        try (Backend b = new CpuBackend(2)) {
            try (StepHarness h = new StepHarness(b, Preset.named("tiny"), Objective.ELECTRA, 2, 32, 5)) {
                double loss = h.step();
                assertEquals(LN_VOCAB + StepHarness.DISC_WEIGHT * LN_2, loss, 0.5, "ELECTRA loss at init");
            }
            try (StepHarness h = new StepHarness(b, Preset.named("tiny"), Objective.MLM, 2, 32, 5)) {
                assertEquals(LN_VOCAB, h.step(), 0.2, "MLM loss at init");
            }
        }
    }

    /** The arena reaches its size in the first step and keeps it: a warm step allocates nothing. */
    @Test
    void warmStepsDoNotGrowMemory() {
        try (Backend b = new CpuBackend(2); StepHarness h = new StepHarness(b, Preset.named("tiny"), Objective.ELECTRA, 2, 32, 5)) {
            h.step();
            MemoryStats warm = b.memoryStats();
            double first = h.step();
            double second = h.step();
            MemoryStats later = b.memoryStats();
            assertEquals(warm.arenaCapacityBytes(), later.arenaCapacityBytes(), "arena capacity");
            assertEquals(warm.persistentBytes(), later.persistentBytes(), "persistent bytes");
            assertTrue(Double.isFinite(first) && Double.isFinite(second));
        }
    }

    /**
     * The ELECTRA pair lists the shared embeddings once. tiny by hand: embeddings 64 * (30522 + 512 + 2 + 2);
     * discriminator layers 2 * 49984, head 4225; generator projection 2080, layers 2 * 12704, head 2112 + 128
     * + 30522 (its output weight is the shared word embedding table).
     */
    @Test
    void electraCountsSharedEmbeddingsOnce() {
        try (Backend b = new CpuBackend(1); StepHarness h = new StepHarness(b, Preset.named("tiny"), Objective.ELECTRA, 1, 16, 5)) {
            long embeddings = 64L * (30522 + 512 + 2 + 2);
            long expected = embeddings + 2 * 49984 + 4225 + 2080 + 2 * 12704 + 2112 + 128 + 30522;
            assertEquals(expected, h.parameterCount());
        }
    }

    /**
     * The graphed step (captured at step 1, replayed after) gives bit for bit the losses of the eager
     * step, with dropout on, in both precisions: the RNG offset moves each replay to its own step's
     * noise, and bf16 really changes the numbers.
     */
    @Test
    void graphReplaysMatchEagerStepsInBothPrecisions() {
        Preset tiny = Preset.named("tiny");
        double[][] eager = new double[2][], graphed = new double[2][];
        Precision[] precisions = {Precision.FP32, Precision.BF16};
        for (int p = 0; p < 2; p++) {
            try (Backend b = new CpuBackend(2); StepHarness h = new StepHarness(b, tiny, Objective.ELECTRA, 2, 32, 5, precisions[p], false)) {
                eager[p] = new double[]{h.step(), h.step(), h.step(), h.step()};
                assertEquals("eager", h.graphStatus());
            }
            Backend recording = RecordingBackend.over(new CpuBackend(2));
            try (recording; StepHarness h = new StepHarness(recording, tiny, Objective.ELECTRA, 2, 32, 5, precisions[p], true)) {
                graphed[p] = new double[]{h.step(), h.step(), h.step(), h.step()};
                assertEquals("graph (captured at step 1)", h.graphStatus());
                assertEquals(3, RecordingBackend.replays(recording));
            }
            org.junit.jupiter.api.Assertions.assertArrayEquals(eager[p], graphed[p], 0.0, precisions[p] + " losses");
        }
        assertTrue(eager[0][3] != eager[1][3], "bf16 and fp32 steps gave the same loss");
    }

    /** The CPU backend cannot capture: the harness says why and keeps stepping eagerly. */
    @Test
    void aBackendThatCannotCaptureStaysEager() {
        try (Backend b = new CpuBackend(1); StepHarness h = new StepHarness(b, Preset.named("tiny"), Objective.MLM, 1, 16, 5, Precision.FP32, true)) {
            h.step();
            h.step();
            assertTrue(h.graphStatus().startsWith("eager: "), h.graphStatus());
        }
    }
}
