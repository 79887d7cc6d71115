package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

/**
 * Backend.setRngStepOffset on the reference backend: every random kernel with offset o and a key at
 * step s draws exactly what it draws with offset 0 at step s + o (so a replayed step graph that keeps
 * its captured keys still sees each step's own masks), and the offset does move the streams.
 */
class RngStepOffsetTest {
    private static final CpuBackend cpu = new CpuBackend(2);
    private static final long SEED = 77, STEP = 12, OFFSET = 5;

    @AfterAll
    static void close() {
        cpu.close();
    }

    /** What {@code kernel} computes for a key at {@code step} under {@code offset}; the offset is 0 again after. */
    private static float[] run(long step, long offset, Function<RngKey, float[]> kernel) {
        cpu.setRngStepOffset(offset);
        try {
            return kernel.apply(new RngKey(SEED, step, RngKey.DROPOUT_BASE + 2));
        } finally {
            cpu.setRngStepOffset(0);
        }
    }

    private static void assertOffsetMovesTheStep(String what, Function<RngKey, float[]> kernel) {
        float[] shifted = run(STEP, OFFSET, kernel);
        assertArrayEquals(run(STEP + OFFSET, 0, kernel), shifted, what + ": offset " + OFFSET + " at step " + STEP
                + " must equal offset 0 at step " + (STEP + OFFSET));
        assertFalse(Arrays.equals(run(STEP, 0, kernel), shifted), what + ": the offset must change the draw");
        assertArrayEquals(run(STEP, 0, kernel), run(STEP + 3, -3, kernel), what + ": negative offsets move back");
    }

    private static Tensor random(Random r, DType dtype, int... shape) {
        Tensor t = cpu.allocate(dtype, shape);
        float[] data = new float[(int) t.size()];
        for (int i = 0; i < data.length; i++) data[i] = (float) r.nextGaussian();
        cpu.upload(t, data);
        return t;
    }

    @Test
    void dropoutForwardAndBackwardDrawAtStepPlusOffset() {
        Tensor in = random(new Random(1), DType.F32, 1000);
        assertOffsetMovesTheStep("dropoutForward", key -> {
            Tensor out = cpu.allocateTemp(DType.F32, 1000);
            cpu.dropoutForward(out, in, 0.3f, key);
            return cpu.downloadFloat(out);
        });
        assertOffsetMovesTheStep("dropoutBackward", key -> {
            Tensor dIn = cpu.allocateTemp(DType.F32, 1000);
            cpu.dropoutBackward(dIn, in, 0.3f, key);
            return cpu.downloadFloat(dIn);
        });
    }

    @Test
    void attentionDropoutForwardAndBackwardDrawAtStepPlusOffset() {
        Random r = new Random(2);
        int B = 2, H = 2, T = 7, D = 4;
        Tensor q = random(r, DType.F32, B, H, T, D), k = random(r, DType.F32, B, H, T, D);
        Tensor v = random(r, DType.F32, B, H, T, D), dOut = random(r, DType.F32, B, H, T, D);
        Tensor mask = cpu.allocate(DType.I32, B, T);
        cpu.fill(mask, 1);
        Tensor saved = cpu.allocate(DType.F32, cpu.attentionSavedShape(B, H, T, D)), out = cpu.allocate(DType.F32, B, H, T, D);
        assertOffsetMovesTheStep("attentionForward", key -> {
            cpu.attentionForward(out, saved, q, k, v, mask, 0.5f, 0.2f, key);
            return cpu.downloadFloat(out);
        });
        assertOffsetMovesTheStep("attentionBackward", key -> {
            cpu.attentionForward(out, saved, q, k, v, mask, 0.5f, 0.2f, key);
            Tensor dq = cpu.allocateTemp(DType.F32, B, H, T, D), dk = cpu.allocateTemp(DType.F32, B, H, T, D);
            Tensor dv = cpu.allocateTemp(DType.F32, B, H, T, D);
            cpu.attentionBackward(dq, dk, dv, dOut, q, k, v, mask, saved, out, 0.5f, 0.2f, key);
            float[] all = new float[3 * (int) dq.size()];
            int n = (int) dq.size();
            System.arraycopy(cpu.downloadFloat(dq), 0, all, 0, n);
            System.arraycopy(cpu.downloadFloat(dk), 0, all, n, n);
            System.arraycopy(cpu.downloadFloat(dv), 0, all, 2 * n, n);
            return all;
        });
    }

    @Test
    void gumbelSamplingDrawsAtStepPlusOffset() {
        Tensor logits = random(new Random(3), DType.F32, 64, 50);  // flat logits: the noise decides
        assertOffsetMovesTheStep("gumbelSample", key -> {
            Tensor out = cpu.allocateTemp(DType.I32, 64);
            cpu.gumbelSample(out, logits, key);
            int[] ids = cpu.downloadInt(out);
            float[] f = new float[ids.length];
            for (int i = 0; i < ids.length; i++) f[i] = ids[i];
            return f;
        });
    }
}
