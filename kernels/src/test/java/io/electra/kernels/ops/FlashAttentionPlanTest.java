package io.electra.kernels.ops;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.kernels.LedgerFile;
import io.electra.kernels.runtime.Family;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The flash-attention launcher's device-free parts: head dims, saved shape, grid rows, checks, entry names. */
class FlashAttentionPlanTest {
    private static final CpuBackend CPU = new CpuBackend(1);

    @AfterAll
    static void close() {
        CPU.close();
    }

    @Test
    void theModelsHeadDimsHaveKernelsAndOthersDoNot() {
        for (int d : new int[] {16, 32, 64}) assertTrue(FlashAttentionKernels.supports(d), "head dim " + d);
        for (int d : new int[] {0, 1, 8, 48, 128}) assertFalse(FlashAttentionKernels.supports(d), "head dim " + d);
        assertArrayEquals(new int[] {2, 12, 128}, FlashAttentionKernels.savedShape(2, 12, 128));
    }

    @Test
    void ctasOwn64RowsOnTensorCoresAnd128ThreadsWorthOnCudaCores() {
        assertEquals(64, FlashAttentionKernels.rowsPerBlock(DType.BF16, 64));
        assertEquals(64, FlashAttentionKernels.rowsPerBlock(DType.BF16, 16));
        assertEquals(32, FlashAttentionKernels.rowsPerBlock(DType.F32, 64));   // 4 lanes per row
        assertEquals(64, FlashAttentionKernels.rowsPerBlock(DType.F32, 32));
        assertEquals(128, FlashAttentionKernels.rowsPerBlock(DType.F32, 16));
    }

    @Test
    void everyEntryPointTheLauncherUsesIsInTheCommittedPtx() {
        Map<String, Family> kernels = LedgerFile.kernels();
        int used = 2;  // the two prep kernels
        assertEquals(Family.FLASH_ATTENTION, kernels.get("flash_attention_backward_prep_f32"));
        assertEquals(Family.FLASH_ATTENTION, kernels.get("flash_attention_backward_prep_bf16"));
        for (DType type : new DType[] {DType.F32, DType.BF16}) {
            for (int d : new int[] {16, 32, 64}) {
                for (String direction : new String[] {"forward", "backward_dq", "backward_dkdv"}) {
                    String name = FlashAttentionKernels.kernelName(direction, type, d);
                    assertEquals(Family.FLASH_ATTENTION, kernels.get(name), name + " is not in flash_attention.ptx");
                    used++;
                }
            }
        }
        assertEquals(used, kernels.values().stream().filter(f -> f == Family.FLASH_ATTENTION).count(),
                "flash_attention.ptx has entry points the launcher never uses");
    }

    @Test
    void aWellFormedCallPassesInBothDtypes() {
        for (DType type : new DType[] {DType.F32, DType.BF16}) {
            Tensor q = t(type, 2, 4, 33, 64), mask = t(DType.I32, 2, 33), lse = t(DType.F32, 2, 4, 33);
            FlashAttentionCall c = FlashAttentionCall.of("forward", q, t(type, 2, 4, 33, 64), t(type, 2, 4, 33, 64), mask, lse, 0.1f,
                    t(type, 2, 4, 33, 64));
            assertEquals(new FlashAttentionCall(type, 2, 4, 33, 64), c);
            assertFalse(c.empty());
        }
        assertTrue(FlashAttentionCall.of("forward", t(DType.F32, 0, 4, 5, 16), t(DType.F32, 0, 4, 5, 16), t(DType.F32, 0, 4, 5, 16),
                t(DType.I32, 0, 5), t(DType.F32, 0, 4, 5), 0f).empty());
    }

    @Test
    void badCallsNameTheKernelAndTheTensor() {
        Tensor q = t(DType.BF16, 2, 4, 33, 64), mask = t(DType.I32, 2, 33), lse = t(DType.F32, 2, 4, 33);
        expectError("must be one [B, H, T, D] shape", () -> FlashAttentionCall.of("forward", q, t(DType.BF16, 2, 4, 32, 64), q, mask, lse, 0f));
        expectError("must have q's dtype BF16", () -> FlashAttentionCall.of("forward", q, q, t(DType.F32, 2, 4, 33, 64), mask, lse, 0f));
        expectError("must match q", () -> FlashAttentionCall.of("backward", q, q, q, mask, lse, 0f, q, t(DType.BF16, 2, 4, 33, 32)));
        expectError("head dim 48", () -> FlashAttentionCall.of("forward", t(DType.F32, 2, 4, 33, 48), t(DType.F32, 2, 4, 33, 48),
                t(DType.F32, 2, 4, 33, 48), mask, lse, 0f));
        expectError("keyMask", () -> FlashAttentionCall.of("forward", q, q, q, t(DType.F32, 2, 33), lse, 0f));
        expectError("keyMask", () -> FlashAttentionCall.of("forward", q, q, q, t(DType.I32, 33, 2), lse, 0f));
        expectError("log-sum-exp, F32 [2, 4, 33]", () -> FlashAttentionCall.of("forward", q, q, q, mask, t(DType.F32, 2, 4, 33, 33), 0f));
        expectError("outside [0, 1)", () -> FlashAttentionCall.of("forward", q, q, q, mask, lse, 1f));
        expectError("outside [0, 1)", () -> FlashAttentionCall.of("forward", q, q, q, mask, lse, Float.NaN));
        expectError("must be F32 or BF16", () -> FlashAttentionCall.of("forward", t(DType.I32, 2, 4, 33, 64), t(DType.I32, 2, 4, 33, 64),
                t(DType.I32, 2, 4, 33, 64), mask, lse, 0f));
    }

    @Test
    void aFusedProjectionCallTakesItsHeadsFromTheColumnsAndChecksTheContext() {
        Tensor qkv = t(DType.BF16, 2, 33, 3 * 4 * 64), mask = t(DType.I32, 2, 33), lse = t(DType.F32, 2, 4, 33);
        assertEquals(new FlashAttentionCall(DType.BF16, 2, 4, 33, 64),
                FlashAttentionCall.ofQkv("forward", qkv, 4, mask, lse, 0.1f, t(DType.BF16, 2, 33, 256)));
        expectError("is not [B, T, 3 * 5 heads * D]", () -> FlashAttentionCall.ofQkv("forward", qkv, 5, mask, lse, 0f));
        expectError("must be BF16 [2, 33, 256], the context of qkv",
                () -> FlashAttentionCall.ofQkv("forward", qkv, 4, mask, lse, 0f, t(DType.F32, 2, 33, 256)));
        expectError("must be BF16 [2, 33, 256]", () -> FlashAttentionCall.ofQkv("backward", qkv, 4, mask, lse, 0f,
                t(DType.BF16, 2, 33, 256), t(DType.BF16, 2, 256, 33)));
        expectError("head dim 48 of qkv", () -> FlashAttentionCall.ofQkv("forward", t(DType.F32, 2, 33, 3 * 4 * 48), 4, mask, lse, 0f));
        expectError("log-sum-exp, F32 [2, 4, 33]", () -> FlashAttentionCall.ofQkv("forward", qkv, 4, mask, t(DType.F32, 2, 33, 4), 0f));
        expectError("must be F32 or BF16", () -> FlashAttentionCall.ofQkv("forward", t(DType.I32, 2, 33, 3 * 4 * 64), 4, mask, lse, 0f));
    }

    @Test
    void headsLayoutsPlaceElementsWhereTheTensorsHaveThem() {
        int H = 4, T = 33, D = 64, C = H * D;
        // element (b, h, t, d) of each layout, against the index its tensor gives it
        int b = 1, h = 2, tt = 5, d = 7;
        assertEquals(((long) (b * H + h) * T + tt) * D + d, at(HeadsLayout.heads(H, T, D), b, h, tt, d));
        assertEquals(((long) b * T + tt) * 3 * C + h * D + d, at(HeadsLayout.qkv(H, T, D), b, h, tt, d));
        assertEquals(((long) b * T + tt) * C + h * D + d, at(HeadsLayout.context(H, T, D), b, h, tt, d));
    }

    private static long at(HeadsLayout l, int b, int h, int t, int d) {
        return b * l.batch() + (long) h * l.head() + (long) t * l.row() + d;
    }

    private static void expectError(String fragment, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' lacks '" + fragment + "'");
        assertTrue(e.getMessage().startsWith("flash_attention_"), "message '" + e.getMessage() + "' does not name the kernel");
    }

    private static Tensor t(DType type, int... shape) {
        return CPU.allocate(type, shape);
    }
}
