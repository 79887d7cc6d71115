package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.StepCapture;
import io.electra.engine.StepGraph;
import io.electra.engine.Tensor;
import io.electra.engine.random.Philox;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import static io.electra.engine.DType.F32;
import static io.electra.engine.DType.I32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The device step-offset word every Philox kernel reads: with offset o a key at step s draws the CPU
 * reference's stream at step s + o (mod 2^32, the counter word), and a captured CUDA graph replayed
 * under an offset computes what eager launches compute with the moved keys.
 */
@Tag("gpu")
class RngStepOffsetGpuTest {
    private static final RngKey KEY = new RngKey(0x0bad_cafe_1234L, 4_000_000_000L, RngKey.DROPOUT_BASE + 5);

    @Test
    void philoxBitsFollowTheOffsetWordAcrossThe32BitWrap() {
        try (Twins tw = new Twins(1)) {
            Tensor out = tw.gpu.allocate(I32, 513);
            try {
                for (long offset : new long[] {1, 300_000_000, -4_000_000_001L, (1L << 32) + 7}) {
                    tw.gpu.setRngStepOffset(offset);
                    tw.gpu.philoxBits(out, 5, KEY);
                    tw.gpu.setRngStepOffset(0);
                    int[] got = tw.gpu.downloadInt(out);
                    RngKey moved = new RngKey(KEY.seed(), KEY.step() + offset, KEY.purpose());
                    for (int i = 0; i < got.length; i++) {
                        if (got[i] != Philox.bits(moved, 5 + i)) {
                            fail("offset " + offset + ", value " + (5 + i) + ": GPU " + Integer.toHexString(got[i])
                                    + ", Java at step + offset " + Integer.toHexString(Philox.bits(moved, 5 + i)));
                        }
                    }
                }
            } finally {
                tw.gpu.setRngStepOffset(0);
                tw.gpu.free(out);
            }
            Ledger.record("dropout_forward_bits", 0);
        }
    }

    @Test
    void randomKernelsUnderAnOffsetMatchTheCpuUnderTheSameOffset() {
        int n = 10_007, B = 2, H = 2, T = 45, D = 32, K = 37, V = 1000;
        long offset = 17;
        try (Twins tw = new Twins(2)) {
            Twin in = tw.uniform(0.5, 1.5, n), out = tw.zeros(F32, n), dIn = tw.normal(1, n), dOut = tw.normal(1, n);
            Twin q = tw.normal(1, B, H, T, D), k = tw.normal(1, B, H, T, D), v = tw.normal(1, B, H, T, D);
            Twin mask = tw.ints(1, 2, B, T), attn = tw.zeros(F32, B, H, T, D), gAttn = tw.normal(1, B, H, T, D);
            Twin dq = tw.zeros(F32, B, H, T, D), dk = tw.zeros(F32, B, H, T, D), dv = tw.zeros(F32, B, H, T, D);
            Twin saved = tw.pair(F32, tw.cpu.attentionSavedShape(B, H, T, D), F32, tw.gpu.attentionSavedShape(B, H, T, D));
            Twin logits = tw.normal(1, K, V), ids = tw.zeros(I32, K);
            try {
                tw.both(b -> {
                    b.setRngStepOffset(offset);
                    b.dropoutForward(out.on(b), in.on(b), 0.3f, KEY);
                    b.dropoutBackward(dIn.on(b), dOut.on(b), 0.3f, KEY);
                    b.attentionForward(attn.on(b), saved.on(b), q.on(b), k.on(b), v.on(b), mask.on(b), 0.2f, 0.1f, KEY);
                    b.attentionBackward(dq.on(b), dk.on(b), dv.on(b), gAttn.on(b), q.on(b), k.on(b), v.on(b), mask.on(b),
                            saved.on(b), attn.on(b), 0.2f, 0.1f, KEY);
                    b.gumbelSample(ids.on(b), logits.on(b), KEY.withPurpose(RngKey.GUMBEL));
                    b.setRngStepOffset(0);
                });
            } finally {
                tw.gpu.setRngStepOffset(0);
            }
            tw.expectClose("dropout_forward", out, 0, 1e-6);
            tw.expectClose("dropout_backward", dIn, 1e-7, 1e-6);
            tw.expectClose("flash_attention_forward_f32_d32", attn, 1e-5, 1e-4);
            tw.expectClose("flash_attention_backward_dq_f32_d32", dq, 1e-4, 1e-3);
            tw.expectClose("flash_attention_backward_dkdv_f32_d32", dk, 1e-4, 1e-3);
            tw.expectClose("flash_attention_backward_dkdv_f32_d32", dv, 1e-4, 1e-3);
            int[] c = tw.cpu.downloadInt(ids.cpu()), g = tw.gpu.downloadInt(ids.gpu());
            int differ = 0;
            for (int i = 0; i < K; i++) if (c[i] != g[i]) differ++;
            assertTrue(differ <= 1, differ + " of " + K + " Gumbel samples differ from the CPU's at step + offset");
        }
    }

    /** Setting the offset inside a capture would bake one value into every replay: the capture fails, naming it. */
    @Test
    void settingTheOffsetInsideACaptureFailsTheCapture() {
        try (Twins tw = new Twins(4)) {
            Twin in = tw.uniform(0.5, 1.5, 1000), out = tw.zeros(F32, 1000);
            RngKey key = new RngKey(9, 100, RngKey.DROPOUT_BASE);
            tw.gpu.dropoutForward(out.gpu(), in.gpu(), 0.4f, key);
            StepCapture capture = tw.gpu.captureStep(() -> {
                tw.gpu.setRngStepOffset(3);
                tw.gpu.dropoutForward(out.gpu(), in.gpu(), 0.4f, key);
            });
            assertFalse(capture.isCaptured());
            assertTrue(capture.reason().contains("setRngStepOffset inside a captured step"), capture.reason());
            tw.gpu.dropoutForward(out.gpu(), in.gpu(), 0.4f, key);  // the stream is usable again
            tw.gpu.synchronize();
        }
    }

    @Test
    void aReplayedGraphDrawsTheStreamsOfTheOffsetStep() {
        int n = 4099, B = 1, H = 2, T = 64, D = 64, K = 20, V = 300;
        try (Twins tw = new Twins(3)) {
            var gpu = tw.gpu;
            Twin in = tw.uniform(0.5, 1.5, n), out = tw.zeros(F32, n);
            Twin q = tw.normal(1, B, H, T, D), k = tw.normal(1, B, H, T, D), v = tw.normal(1, B, H, T, D);
            Twin mask = tw.ints(1, 2, B, T), attn = tw.zeros(F32, B, H, T, D), logits = tw.normal(1, K, V), ids = tw.zeros(I32, K);
            Tensor lse = gpu.allocate(F32, gpu.attentionSavedShape(B, H, T, D));
            java.util.function.Consumer<RngKey> step = key -> {
                gpu.dropoutForward(out.gpu(), in.gpu(), 0.4f, key);
                gpu.attentionForward(attn.gpu(), lse, q.gpu(), k.gpu(), v.gpu(), mask.gpu(), 0.125f, 0.2f, key);
                gpu.gumbelSample(ids.gpu(), logits.gpu(), key.withPurpose(RngKey.GUMBEL));
            };
            RngKey captured = new RngKey(9, 100, RngKey.DROPOUT_BASE), later = new RngKey(9, 107, RngKey.DROPOUT_BASE);
            try {
                step.accept(later);
                float[][] eager = {gpu.downloadFloat(out.gpu()), gpu.downloadFloat(attn.gpu()), gpu.downloadFloat(ids.gpu())};
                step.accept(captured);  // warm-up at the captured step
                StepCapture capture = gpu.captureStep(() -> step.accept(captured));
                assertTrue(capture.isCaptured(), capture.reason());
                try (StepGraph graph = capture.graph().orElseThrow()) {
                    gpu.setRngStepOffset(7);
                    graph.replay();
                    gpu.setRngStepOffset(0);
                    float[][] replayed = {gpu.downloadFloat(out.gpu()), gpu.downloadFloat(attn.gpu()), gpu.downloadFloat(ids.gpu())};
                    String[] names = {"dropout", "attention", "gumbel"};
                    for (int i = 0; i < names.length; i++) {
                        assertArrayEquals(eager[i], replayed[i], names[i] + ": a replay under offset 7 must draw step 107's stream");
                    }
                }
            } finally {
                gpu.setRngStepOffset(0);
                gpu.free(lse);
            }
            Ledger.record("dropout_forward+flash_attention_forward_f32_d64+sampling_forward_gumbel", 0);
        }
    }
}
