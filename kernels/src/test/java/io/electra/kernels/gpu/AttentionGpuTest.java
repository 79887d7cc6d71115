package io.electra.kernels.gpu;

import io.electra.engine.RngKey;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.F32;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;

/**
 * Heads split/merge and the composed attention against the CPU backend: padding in the key mask,
 * one sequence entirely padding (its rows must be exactly 0), with and without dropout. Head dims
 * 16, 32 and 64 take the flash kernels instead (FlashAttentionGpuTest); these use the others.
 */
@Tag("gpu")
class AttentionGpuTest {
    @ParameterizedTest(name = "B {0} H {1} T {2} D {3} p {4}")
    @CsvSource({"2, 3, 7, 5, 0", "3, 2, 33, 12, 0.1", "2, 4, 128, 48, 0.1", "1, 12, 512, 40, 0.1", "1, 1, 1, 1, 0"})
    void attentionMatchesTheCpu(int B, int H, int T, int D, float p) {
        try (Twins tw = new Twins(B * 100L + H * 10L + T)) {
            int[] mask = new int[B * T];
            for (int b = 0; b < B; b++) {
                int valid = b == B - 1 && B > 2 ? 0 : Math.max(1, T - b * T / 3);  // last of 3+ sequences: all padding
                for (int t = 0; t < valid; t++) mask[b * T + t] = 1;
            }
            Twin keyMask = tw.ints(mask, B, T);
            Twin x = tw.normal(1, B, T, H * D), q = tw.zeros(F32, B, H, T, D);
            Twin k = tw.normal(1, B, H, T, D), v = tw.normal(1, B, H, T, D);
            tw.both(be -> be.splitHeads(q.on(be), x.on(be), H, false));
            tw.expectClose("heads_forward_split_f32", q, 0, 0);
            RngKey key = new RngKey(1234567890123L, 77, RngKey.DROPOUT_BASE + 3);
            float scale = (float) (1 / Math.sqrt(D));
            assertArrayEquals(tw.cpu.attentionSavedShape(B, H, T, D), tw.gpu.attentionSavedShape(B, H, T, D),
                    "head dim " + D + " takes the composed path, which saves the probabilities as the CPU does");
            Twin out = tw.zeros(F32, B, H, T, D), saved = tw.zeros(F32, B, H, T, T);
            tw.both(be -> be.attentionForward(out.on(be), saved.on(be), q.on(be), k.on(be), v.on(be), keyMask.on(be), scale, p, key));
            tw.expectClose("softmax_forward_masked+gemm_forward_nt+gemm_forward_nn" + (p > 0 ? "+dropout_forward" : ""), saved, 1e-6, 1e-4);
            tw.expectClose("softmax_forward_masked+gemm_forward_nn", out, 1e-5, 1e-4);
            Twin dOut = tw.normal(1, B, H, T, D);
            Twin dq = tw.normal(1, B, H, T, D), dk = tw.normal(1, B, H, T, D), dv = tw.normal(1, B, H, T, D);
            tw.both(be -> be.attentionBackward(dq.on(be), dk.on(be), dv.on(be), dOut.on(be), q.on(be), k.on(be), v.on(be),
                    keyMask.on(be), saved.on(be), out.on(be), scale, p, key));
            double tol = 1e-5 * Math.sqrt(T);
            tw.expectClose("gemm_forward_tn+gemm_forward_nt", dv, tol, 1e-4);
            tw.expectClose("softmax_backward+gemm_forward_nn", dq, tol, 1e-4);
            tw.expectClose("softmax_backward+gemm_forward_tn", dk, tol, 1e-4);
            Twin merged = tw.normal(1, B, T, H * D);
            tw.both(be -> be.mergeHeads(merged.on(be), out.on(be), true));
            tw.expectClose("heads_forward_merge_f32", merged, 1e-6, 1e-6);
        }
    }
}
