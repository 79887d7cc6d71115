package io.electra.engine.testing;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.StepCapture;
import io.electra.engine.StepGraph;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The emulated step graph behaves like stream capture: the capture runs nothing, a replay computes
 * what the eager step computes from the inputs' current contents, random kernels follow the step
 * offset set before the replay, and a step that reads back or writes from the host cannot be captured.
 */
class RecordingBackendTest {
    private final CpuBackend cpu = new CpuBackend(1);
    private final Backend b = RecordingBackend.over(cpu);
    private final Tensor in = b.allocate(DType.F32, 10), out = b.allocate(DType.F32, 10);

    @AfterEach
    void close() {
        cpu.close();
    }

    /** out = dropout(2 * in) + 1, through an arena temporary. */
    private void step(RngKey key) {
        Tensor twice = b.allocateTemp(DType.F32, 10);
        b.accumulate(twice, in, 2);
        b.dropoutForward(out, twice, 0.5f, key);
        b.add(out, out, 1, out, 0);
        b.resetArena();
    }

    private float[] eager(float[] input, RngKey key) {
        b.upload(in, input);
        step(key);
        return b.downloadFloat(out);
    }

    @Test
    void captureRunsNothingAndReplayComputesTheEagerStep() {
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, y = {-1, -2, -3, -4, -5, -6, -7, -8, -9, -10};
        RngKey key = new RngKey(3, 40, RngKey.DROPOUT_BASE);
        float[] eagerX = eager(x, key), eagerY = eager(y, key);
        b.fill(out, -7);
        StepCapture capture = b.captureStep(() -> step(key));
        assertTrue(capture.isCaptured(), capture.reason());
        for (float v : b.downloadFloat(out)) assertEquals(-7f, v, "the capture must not execute the step");
        try (StepGraph graph = capture.graph().orElseThrow()) {
            b.upload(in, x);
            graph.replay();
            assertArrayEquals(eagerX, b.downloadFloat(out), "replay with the first input");
            b.upload(in, y);
            graph.replay();
            assertArrayEquals(eagerY, b.downloadFloat(out), "replay reads the input's current contents");
            assertEquals(2, RecordingBackend.replays(b));
        }
    }

    @Test
    void replayDrawsTheStreamOfTheCapturedStepPlusTheOffset() {
        float[] x = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        RngKey captured = new RngKey(3, 40, RngKey.DROPOUT_BASE);
        float[] step43 = eager(x, new RngKey(3, 43, RngKey.DROPOUT_BASE)), step40 = eager(x, captured);
        StepCapture capture = b.captureStep(() -> step(captured));
        try (StepGraph graph = capture.graph().orElseThrow()) {
            b.setRngStepOffset(3);
            graph.replay();
            b.setRngStepOffset(0);
            float[] replayed = b.downloadFloat(out);
            assertArrayEquals(step43, replayed, "offset 3 replays step 43's mask");
            assertFalse(java.util.Arrays.equals(step40, replayed), "and not the captured step's");
        }
    }

    @Test
    void aStepThatReadsBackOrWritesFromTheHostCannotBeCaptured() {
        refused("downloadFloat", t -> b.downloadFloat(t));
        refused("upload", t -> b.upload(t, new float[10]));
        refused("synchronize", t -> b.synchronize());
        refused("allocate", t -> b.allocate(DType.F32, 3));
        refused("setRngStepOffset", t -> b.setRngStepOffset(1));
        // the backend is usable after a failed capture
        b.fill(out, 2);
        b.scale(out, out, 3);
        assertEquals(6f, b.downloadFloat(out)[0]);
    }

    private void refused(String call, Consumer<Tensor> hostCall) {
        StepCapture capture = b.captureStep(() -> {
            b.scale(out, in, 2);
            try {
                hostCall.accept(out);
            } catch (IllegalStateException swallowed) {
                // a step that swallows the refusal is still not captured
            }
        });
        assertFalse(capture.isCaptured(), call + " inside the step must fail the capture");
        assertTrue(capture.reason().contains(call + " inside a captured step"), capture.reason());
    }
}
