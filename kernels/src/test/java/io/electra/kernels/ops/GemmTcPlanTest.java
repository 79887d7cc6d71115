package io.electra.kernels.ops;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.kernels.LedgerFile;
import io.electra.kernels.runtime.Family;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Everything of the tensor-core GEMM launcher that needs no device: the tile table, the copy
 * width, the shape and dtype checks, and that every entry point it may launch exists in the
 * committed PTX.
 */
class GemmTcPlanTest {
    private static final CpuBackend CPU = new CpuBackend(1);
    private static final int H100_SMS = 132;

    @AfterAll
    static void close() {
        CPU.close();
    }

    @ParameterizedTest(name = "M {0} N {1} batch {2} -> {3}")
    @CsvSource({
            "16384, 1024, 1, T128X128",   // Small FFN up: 128 x 8 = 1024 CTAs
            "16384, 30522, 1, T128X128",  // logits
            "16384, 256, 1, T128X128",    // Small hidden: 256 CTAs, no ragged edge
            "16384, 128, 1, T128X64",     // 128 CTAs at 128 x 128 leave SMs idle; 128 x 64 gives 256
            "4096, 128, 1, T64X64",       // 32 and 64 CTAs at the big tiles: only 64 x 64 (128 CTAs) comes close
            "2048, 64, 1, T64X64",        // Small generator hidden (64): half of a 128-wide tile would be padding
            "256, 256, 1, T64X64",        // too few CTAs for the big tiles
            "128, 128, 12, T64X64",       // batched: 12 CTAs at 128 x 128
            "1024, 1024, 4, T128X128",    // batched: 256 CTAs
            "1, 1, 1, T64X64"})
    void theTableTakesTheLargestTileThatFillsTheGpu(int m, int n, int batch, GemmTcTile want) {
        assertEquals(want, GemmTcTile.choose(m, n, batch, H100_SMS), "tile for M " + m + ", N " + n + ", batch " + batch);
    }

    @Test
    void aChosenTileNeverWastesMoreThanAQuarterOfItsWorkOnTheEdge() {
        for (int m : new int[] {1, 7, 100, 129, 1000, 4096, 16384, 131072}) {
            for (int n : new int[] {1, 33, 64, 128, 200, 768, 3072, 30522}) {
                GemmTcTile t = GemmTcTile.choose(m, n, 1, H100_SMS);
                if (t != GemmTcTile.T64X64) {
                    assertTrue(t.edgeWaste(m, n) <= GemmTile.MAX_EDGE_WASTE, t + " for " + m + " x " + n
                            + " wastes " + t.edgeWaste(m, n));
                    assertTrue(t.ctas(m, n, 1) >= H100_SMS, t + " for " + m + " x " + n + " has only " + t.ctas(m, n, 1) + " CTAs");
                }
            }
        }
    }

    @ParameterizedTest(name = "wgmma: M {0} N {1} batch {2} -> {3}")
    @CsvSource({
            "16384, 1024, 1, T128X256",   // Small FFN up: 128 x 4 = 512 CTAs
            "16384, 3072, 1, T128X256",   // Base FFN up
            "16384, 30522, 1, T128X256",  // logits: 120 columns of 256, 2.3% padding
            "16384, 256, 1, T128X128",    // Small hidden: 128 CTAs at 128 x 256 leave 4 SMs idle
            "4096, 256, 1, T64X128",      // 64 CTAs at 128 x 128
            "2048, 64, 1, T64X128",       // the fallback
            "1024, 1024, 4, T128X128",    // batched: 128 CTAs at 128 x 256, 256 at 128 x 128
            "1, 1, 1, T64X128"})
    void theWgmmaTableTakesTheLargestTileThatFillsTheGpu(int m, int n, int batch, GemmWgmmaTile want) {
        assertEquals(want, GemmWgmmaTile.choose(m, n, batch, H100_SMS), "tile for M " + m + ", N " + n + ", batch " + batch);
    }

    @Test
    void wgmmaRingsFitHoppersSharedMemoryAndHoldTheEpilogueTile() {
        assertEquals(4 * (128 + 256) * 64 * 2 + 1024, GemmWgmmaTile.T128X256.sharedBytes());
        for (GemmWgmmaTile t : GemmWgmmaTile.values()) {
            assertTrue(t.sharedBytes() <= 227 * 1024, t + ": " + t.sharedBytes() + " bytes is over sm_90's 227 KiB per block");
            assertTrue(t.bm * t.bn * 4 <= t.sharedBytes() - 1024, t + ": the f32 epilogue tile does not fit the ring");
            assertEquals(t.bm / 64 * 128, t.threads());
        }
    }

    @Test
    void everyWgmmaEntryPointTheLauncherMayUseIsInTheCommittedPtx() {
        Map<String, Family> kernels = LedgerFile.kernels();
        for (String name : GemmTcKernels.wgmmaKernelNames()) {
            assertEquals(Family.GEMM_WGMMA, kernels.get(name), name + " is not an entry point of gemm_wgmma.sm_90a.ptx");
        }
        long inPtx = kernels.values().stream().filter(f -> f == Family.GEMM_WGMMA).count();
        assertEquals(GemmTcKernels.wgmmaKernelNames().length, inPtx, "gemm_wgmma.sm_90a.ptx has entry points the launcher never uses");
    }

    @Test
    void sharedMemoryIsFourStagesOfBothTiles() {
        assertEquals(65536, GemmTcTile.T128X128.sharedBytes());  // 4 * (128 + 128) * 32 * 2
        assertEquals(49152, GemmTcTile.T128X64.sharedBytes());
        assertEquals(32768, GemmTcTile.T64X64.sharedBytes());
        for (GemmTcTile t : GemmTcTile.values()) {
            // the epilogue stages the f32 C tile in the same bytes (static_assert in gemm_tc.cu)
            assertTrue(t.bm * t.bn * 4 <= t.sharedBytes(), t + ": the f32 epilogue tile does not fit the ring");
        }
    }

    @ParameterizedTest(name = "contiguous {0}, {1}; addresses {2}, {3} -> {4}")
    @CsvSource({
            "768, 768, 0, 256, 8",
            "768, 30522, 0, 0, 2",     // the vocabulary: 30522 = 2 mod 8
            "768, 768, 0, 4, 2",       // a row view 2 elements in: 4-byte aligned only
            "768, 768, 0, 2, 0",       // 2-byte aligned: no copy width fits
            "7, 768, 0, 0, 0",         // odd contiguous dimension
            "64, 66, 16, 32, 2"})
    void theCopyWidthFollowsTheOperandsAlignment(int contA, int contB, long addrA, long addrB, int want) {
        assertEquals(want, GemmTcKernels.vectorWidth(contA, contB, addrA, addrB));
    }

    @Test
    void everyEntryPointTheLauncherMayUseIsInTheCommittedPtx() {
        Map<String, Family> kernels = LedgerFile.kernels();
        for (String name : GemmTcKernels.kernelNames()) {
            assertEquals(Family.GEMM_TC, kernels.get(name), name + " is not an entry point of gemm_tc.ptx");
        }
        long inPtx = kernels.values().stream().filter(f -> f == Family.GEMM_TC).count();
        assertEquals(GemmTcKernels.kernelNames().length, inPtx, "gemm_tc.ptx has entry points the launcher never uses");
    }

    @Test
    void linearLayerShapesChainForEveryLayout() {
        Tensor x = bf16(64, 256), w = bf16(1024, 256), y = f32(64, 1024);
        GemmTcCall nt = GemmTcCall.of(y, x, false, w, true, GemmTcKernels.Epilogue.NONE, null, null);
        assertEquals(new GemmTcCall(64, 1024, 256, 1, false, true), nt);
        assertEquals(1, nt.layout());
        assertEquals(256, nt.contiguousA());
        assertEquals(256, nt.contiguousB());
        Tensor dy = bf16(64, 1024), dx = f32(64, 256);
        GemmTcCall nn = GemmTcCall.of(dx, dy, false, w, false, GemmTcKernels.Epilogue.NONE, null, null);
        assertEquals(new GemmTcCall(64, 256, 1024, 1, false, false), nn);
        assertEquals(256, nn.contiguousB());
        Tensor dw = f32(1024, 256);
        GemmTcCall tn = GemmTcCall.of(dw, dy, true, x, false, GemmTcKernels.Epilogue.NONE, null, null);
        assertEquals(new GemmTcCall(1024, 256, 64, 1, true, false), tn);
        assertEquals(1024, tn.contiguousA());
        GemmTcCall batched = GemmTcCall.of(f32(3, 5, 7), bf16(3, 5, 8), false, bf16(3, 8, 7), false,
                GemmTcKernels.Epilogue.NONE, null, null);
        assertEquals(new GemmTcCall(5, 7, 8, 3, false, false), batched);
    }

    @Test
    void badCallsNameTheKernelAndTheTensors() {
        Tensor a = bf16(4, 8), b = bf16(8, 6), out = f32(4, 6);
        expectError("must both be BF16", () -> GemmTcCall.of(out, f32(4, 8), false, b, false, GemmTcKernels.Epilogue.NONE, null, null));
        expectError("nn, nt and tn", () -> GemmTcCall.of(out, bf16(8, 4), true, bf16(6, 8), true, GemmTcKernels.Epilogue.NONE, null, null));
        expectError("op(a) is [4, 8], op(b) [6, 8]", () -> GemmTcCall.of(out, a, false, b, true, GemmTcKernels.Epilogue.NONE, null, null));
        expectError("must be F32 or BF16", () -> GemmTcCall.of(CPU.allocate(DType.I32, 4, 6), a, false, b, false,
                GemmTcKernels.Epilogue.NONE, null, null));
        expectError("batch sizes differ", () -> GemmTcCall.of(f32(2, 4, 6), bf16(2, 4, 8), false, bf16(3, 8, 6), false,
                GemmTcKernels.Epilogue.NONE, null, null));
        expectError("F32 bias [6]", () -> GemmTcCall.of(out, a, false, b, false, GemmTcKernels.Epilogue.BIAS, f32(4), null));
        expectError("F32 bias [6], got none", () -> GemmTcCall.of(out, a, false, b, false, GemmTcKernels.Epilogue.BIAS_GELU, null, f32(4, 6)));
        expectError("pre-activation must be F32 or BF16 with out's shape", () -> GemmTcCall.of(out, a, false, b, false,
                GemmTcKernels.Epilogue.BIAS_GELU, f32(6), CPU.allocate(DType.I32, 4, 6)));
        expectError("residual must be F32 or BF16 with out's shape", () -> GemmTcCall.of(out, a, false, b, false,
                GemmTcKernels.Epilogue.RESIDUAL, null, f32(6, 4)));
        // a BF16 GELU output over an F32 pre-activation (the mixed-precision feed-forward), and the reverse, are fine
        GemmTcCall.of(bf16(4, 6), a, false, b, false, GemmTcKernels.Epilogue.BIAS_GELU, f32(6), f32(4, 6));
        GemmTcCall.of(out, a, false, b, false, GemmTcKernels.Epilogue.BIAS_GELU, f32(6), bf16(4, 6));
        assertEquals(1, GemmTcKernels.bf16Flags(bf16(4, 6), f32(4, 6)));
        assertEquals(2, GemmTcKernels.bf16Flags(out, bf16(4, 6)));
        assertEquals(3, GemmTcKernels.bf16Flags(bf16(4, 6), bf16(4, 6)));
        assertEquals(0, GemmTcKernels.bf16Flags(out, null));
        GemmTcCall.of(out, a, false, b, false, GemmTcKernels.Epilogue.RESIDUAL, null, out);  // in place is allowed
    }

    private static void expectError(String fragment, Runnable call) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
        assertTrue(e.getMessage().contains(fragment), "message '" + e.getMessage() + "' lacks '" + fragment + "'");
        assertTrue(e.getMessage().startsWith("gemm_tc_forward_"), "message '" + e.getMessage() + "' does not name the kernel");
    }

    private static Tensor bf16(int... shape) {
        return CPU.allocate(DType.BF16, shape);
    }

    private static Tensor f32(int... shape) {
        return CPU.allocate(DType.F32, shape);
    }
}
