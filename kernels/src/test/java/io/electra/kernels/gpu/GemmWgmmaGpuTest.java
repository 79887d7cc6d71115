package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.kernels.ops.GemmTcKernels;
import io.electra.kernels.ops.GemmTcKernels.Epilogue;
import io.electra.kernels.ops.GemmWgmmaTile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.F32;
import static io.electra.kernels.gpu.GemmTcGpuTest.atol;
import static io.electra.kernels.gpu.GemmTcGpuTest.rtol;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * gemm_wgmma.sm_90a.cu (Hopper's warpgroup MMA) against the CPU backend's f32 matmul of the same
 * bf16 inputs, with GemmTcGpuTest's tolerance (same argument: exact products, sums that differ
 * in order and in the tensor cores' truncating adder). Runs where the device is compute
 * capability 9.0; elsewhere it is skipped, visibly.
 *
 * <p>Shapes cross every boundary the kernel has: M and N not multiples of the tile (zero-filled
 * rows, masked epilogue), K not a multiple of the 64-deep k-tile (zero-filled tail), and K deeper
 * than the ring (k-tiles wrap around the stages, which is where a missing wait shows).
 */
@Tag("gpu")
class GemmWgmmaGpuTest {

    private static GemmTcKernels gemm(Twins tw) {
        GemmTcKernels g = tw.gpu.tensorCoreGemm();
        Assumptions.assumeTrue(g.usesWgmma(), () -> "SKIPPED: gemm_wgmma needs compute capability 9.0 (device: "
                + tw.gpu.name() + "), or -D" + GemmTcKernels.WGMMA_PROPERTY + "=false switched it off");
        return g;
    }

    @ParameterizedTest(name = "{0} M {1} N {2} K {3}")
    @CsvSource({
            "nt, 8, 8, 8", "nt, 130, 264, 520", "nt, 200, 136, 72",
            "nn, 8, 8, 8", "nn, 72, 264, 456", "nn, 129, 128, 64",
            "tn, 8, 8, 1", "tn, 136, 256, 457", "tn, 64, 136, 100"})
    void everyLayoutAndTileMatchesTheCpuForBothOutputTypes(String layout, int M, int N, int K) {
        boolean ta = layout.charAt(0) == 't', tb = layout.charAt(1) == 't';
        try (Twins tw = new Twins(M * 7919L + N * 31L + K)) {
            GemmTcKernels g = gemm(tw);
            Twin a = ta ? tw.bf16Normal(1, K, M) : tw.bf16Normal(1, M, K);
            Twin b = tb ? tw.bf16Normal(1, N, K) : tw.bf16Normal(1, K, N);
            for (GemmWgmmaTile tile : GemmWgmmaTile.values()) {
                for (DType outType : new DType[] {DType.F32, DType.BF16}) {
                    Twin c = EpilogueCheck.zeros(tw, outType, M, N);
                    tw.cpu.matmul(c.cpu(), a.cpu(), ta, b.cpu(), tb, 1f, false);
                    g.matmulWgmma(c.gpu(), a.gpu(), ta, b.gpu(), tb, 1f, false, Epilogue.NONE, null, null, tile);
                    tw.expectClose("gemm_wgmma_forward_" + layout + "_" + tile.id(), c, atol(K), rtol(outType));
                }
            }
        }
    }

    @ParameterizedTest(name = "out {0}")
    @CsvSource({"F32", "BF16"})
    void alphaAccumulateAndTheFusedEpiloguesMatchTheUnfusedCpuOps(DType outType) {
        try (Twins tw = new Twins(outType.ordinal() + 17)) {
            GemmTcKernels g = gemm(tw);
            GemmWgmmaTile tile = GemmWgmmaTile.T128X128;
            EpilogueCheck.check(tw, "gemm_wgmma_forward_nt_" + tile.id(), outType, 144, 136, 200,
                    (out, x, w, alpha, accumulate, epilogue, bias, aux) ->
                            g.matmulWgmma(out, x, false, w, true, alpha, accumulate, epilogue, bias, aux, tile));
        }
    }

    @Test
    void batchedProductsMatchTheCpu() {
        try (Twins tw = new Twins(42)) {
            GemmTcKernels g = gemm(tw);
            int batch = 3, M = 72, N = 64, K = 136;
            Twin a = tw.bf16Normal(1, batch, K, M), b = tw.bf16Normal(1, batch, K, N), c = tw.zeros(F32, batch, M, N);
            tw.cpu.matmul(c.cpu(), a.cpu(), true, b.cpu(), false, 0.125f, false);
            g.matmulWgmma(c.gpu(), a.gpu(), true, b.gpu(), false, 0.125f, false, Epilogue.NONE, null, null, GemmWgmmaTile.T64X128);
            tw.expectClose("gemm_wgmma_forward_tn_64x128", c, atol(K) * 0.125, 1e-6);
        }
    }

    @Test
    void theBackendRoutesAlignedOperandsToWgmmaAndTheVocabularyToGemmTc() {
        try (Twins tw = new Twins(3)) {
            GemmTcKernels g = gemm(tw);
            Twin x = tw.bf16Normal(1, 16, 64), w = tw.bf16Normal(1, 48, 64), y = tw.zeros(F32, 16, 48);
            String kernel = g.kernelFor(y.gpu(), x.gpu(), false, w.gpu(), true);
            assertEquals("gemm_wgmma_forward_nt_64x128", kernel);
            tw.both(be -> be.matmul(y.on(be), x.on(be), false, w.on(be), true, 1f, false));
            tw.expectClose(kernel, y, atol(64), 1e-6);
            // dlogits [M, 30522] as A of dx = dlogits E: 4-byte copies only, which gemm_wgmma lacks.
            Twin dl = tw.bf16Normal(1, 8, 30522), e = tw.bf16Normal(1, 30522, 8), dx = tw.zeros(F32, 8, 8);
            String even = g.kernelFor(dx.gpu(), dl.gpu(), false, e.gpu(), false);
            assertTrue(even.startsWith("gemm_tc_forward_nn_") && even.endsWith("_even"), even);
        }
    }

    @Test
    void operandsWithoutSixteenByteRowsAreRefusedByWgmmaAndServedByGemmTc() {
        try (Twins tw = new Twins(4)) {
            GemmTcKernels g = gemm(tw);
            Twin x = tw.bf16Normal(1, 8, 34), w = tw.bf16Normal(1, 16, 34), y = tw.zeros(F32, 8, 16);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> g.matmulWgmma(y.gpu(), x.gpu(), false,
                    w.gpu(), true, 1f, false, Epilogue.NONE, null, null, GemmWgmmaTile.T64X128));
            assertTrue(e.getMessage().contains("16-byte pieces"), e.getMessage());
            String kernel = g.kernelFor(y.gpu(), x.gpu(), false, w.gpu(), true);
            assertEquals("gemm_tc_forward_nt_64x64_even", kernel);
            tw.both(be -> be.matmul(y.on(be), x.on(be), false, w.on(be), true, 1f, false));
            tw.expectClose(kernel, y, atol(34), 1e-6);
        }
    }
}
