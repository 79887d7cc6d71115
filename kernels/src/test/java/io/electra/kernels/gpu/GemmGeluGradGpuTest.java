package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.ops.GemmTcKernels;
import io.electra.kernels.ops.GemmTcTile;
import io.electra.kernels.ops.GemmWgmmaTile;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.BF16;
import static io.electra.engine.DType.F32;
import static io.electra.kernels.gpu.GemmTcGpuTest.atol;
import static io.electra.kernels.gpu.GemmTcGpuTest.rtol;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The GELU-gradient epilogue (matmulGeluBackward): g = (d2 @ W2) * gelu'(pre) in the tensor-core GEMM's
 * epilogue, out = g (F32 or BF16), dBias += column sums of g from the CTAs' partials. The feed-forward's
 * shapes: d2 [M, C] BF16, W2 [C, H] BF16 (nn), pre [M, H] F32, at ragged M and H.
 *
 * <p>Three checks per path (the backend's choice, gemm_tc at each tile forced, gemm_wgmma at each tile
 * where it runs). (1) out is bit for bit what the same GPU's plain product on the same tile followed by
 * its elementwise pass (linearOutputGrad) gives: the epilogue sees the same f32 sums and multiplies them
 * the same way. (2) dBias is the column sums of the f32 g the GPU made, within the f32 summation bound
 * ({@link ColumnSums}), and a BF16 out leaves dBias the same bits as an F32 out (it sums g before the rounding).
 * (3) Against the CPU's matmulGeluBackward: out with the GEMM tolerance of GemmTcGpuTest times
 * max |gelu'| = 1.13; dBias, a sum of M such values, with M times it.
 */
@Tag("gpu")
class GemmGeluGradGpuTest {

    @ParameterizedTest(name = "M {0} C {1} H {2}")
    @CsvSource({"200, 64, 136", "130, 48, 264", "1, 16, 8", "64, 256, 1024"})
    void theBackendsChoiceMatchesItsUnfusedPassesAndTheCpu(int M, int C, int H) {
        try (Twins tw = new Twins(M * 31L + C * 7L + H)) {
            GemmTcKernels g = tw.gpu.tensorCoreGemm();
            check(tw, M, C, H, null, (out, dBias, d2, w2, pre) -> tw.gpu.matmulGeluBackward(out, dBias, d2, false, w2, false, pre),
                    (out, d2, w2) -> tw.gpu.matmul(out, d2, false, w2, false, 1f, false));
            assertTrue(g.kernelFor(tw.gpu.allocateTemp(F32, M, H), tw.gpu.allocateTemp(BF16, M, C), false,
                    tw.gpu.allocateTemp(BF16, C, H), false).startsWith("gemm_"), "a tensor-core kernel serves the shape");
        }
    }

    @ParameterizedTest(name = "gemm_tc {0}")
    @CsvSource({"T128X128", "T128X64", "T64X64"})
    void everyGemmTcTile(GemmTcTile tile) {
        try (Twins tw = new Twins(tile.ordinal() + 5)) {
            GemmTcKernels g = tw.gpu.tensorCoreGemm();
            check(tw, 200, 64, 136, "gemm_tc_forward_nn_" + tile.id(),
                    (out, dBias, d2, w2, pre) -> g.matmulGeluGradTc(out, dBias, d2, false, w2, false, pre, tile),
                    (out, d2, w2) -> g.matmulTc(out, d2, false, w2, false, 1f, false, GemmTcKernels.Epilogue.NONE, null, null, tile));
        }
    }

    @ParameterizedTest(name = "gemm_wgmma {0}")
    @CsvSource({"T128X256", "T128X128", "T64X128"})
    void everyGemmWgmmaTile(GemmWgmmaTile tile) {
        try (Twins tw = new Twins(tile.ordinal() + 50)) {
            GemmTcKernels g = tw.gpu.tensorCoreGemm();
            Assumptions.assumeTrue(g.usesWgmma(), () -> "SKIPPED: gemm_wgmma needs compute capability 9.0 (device: "
                    + tw.gpu.name() + ")");
            check(tw, 200, 64, 264, "gemm_wgmma_forward_nn_" + tile.id(),
                    (out, dBias, d2, w2, pre) -> g.matmulGeluGradWgmma(out, dBias, d2, false, w2, false, pre, tile),
                    (out, d2, w2) -> g.matmulWgmma(out, d2, false, w2, false, 1f, false, GemmTcKernels.Epilogue.NONE, null, null, tile));
        }
    }

    @Test
    void accumulatingOrBatchedCallsAreRefused() {
        try (Twins tw = new Twins(3)) {
            GemmTcKernels g = tw.gpu.tensorCoreGemm();
            Tensor d2 = tw.gpu.allocateTemp(BF16, 16, 8), w2 = tw.gpu.allocateTemp(BF16, 8, 24), pre = tw.gpu.allocateTemp(F32, 16, 24);
            Tensor out = tw.gpu.allocateTemp(BF16, 16, 24);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> g.matmulTc(out, d2, false, w2, false, 1f, true, GemmTcKernels.Epilogue.GELU_GRAD, null, pre, GemmTcTile.T64X64));
            assertTrue(e.getMessage().contains("does not accumulate"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> g.matmulGeluGrad(out, tw.gpu.allocateTemp(F32, 16), d2, false, w2, false, pre));
            assertTrue(e.getMessage().contains("F32 [24]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> g.matmulGeluGrad(out, null, d2, false, w2, false, tw.gpu.allocateTemp(F32, 16, 8).named("pre")));
            assertTrue(e.getMessage().contains("pre F32[16, 8]"), e.getMessage());
        }
    }

    interface Fused {
        void run(Tensor out, Tensor dBias, Tensor d2, Tensor w2, Tensor pre);
    }

    interface Plain {
        void run(Tensor out, Tensor d2, Tensor w2);
    }

    private static void check(Twins tw, int M, int C, int H, String kernel, Fused fused, Plain plain) {
        Twin d2 = tw.bf16Normal(1, M, C), w2 = tw.bf16Normal(0.2, C, H), pre = tw.normal(1.5, M, H);
        Twin start = tw.normal(1, H);
        float[] startValues = tw.gpu.downloadFloat(start.gpu());
        if (kernel == null) kernel = tw.gpu.tensorCoreGemm().kernelFor(tw.gpu.allocateTemp(F32, M, H), d2.gpu(), false, w2.gpu(), false);
        float[] gF32 = null, biasF32 = null;
        for (DType type : new DType[] {F32, BF16}) {
            Twin out = EpilogueCheck.zeros(tw, type, M, H), dBias = tw.normal(0, H);
            tw.cpu.upload(dBias.cpu(), startValues);
            tw.gpu.upload(dBias.gpu(), startValues);
            tw.cpu.matmulGeluBackward(out.cpu(), dBias.cpu(), d2.cpu(), false, w2.cpu(), false, pre.cpu());
            fused.run(out.gpu(), dBias.gpu(), d2.gpu(), w2.gpu(), pre.gpu());

            // (1) the GPU's own unfused passes on the same tile
            Tensor product = tw.gpu.allocateTemp(F32, M, H), want = tw.gpu.allocateTemp(type, M, H);
            plain.run(product, d2.gpu(), w2.gpu());
            tw.gpu.linearOutputGrad(want, null, product, pre.gpu());
            float[] w = tw.gpu.downloadFloat(want), got = tw.gpu.downloadFloat(out.gpu());
            for (int i = 0; i < w.length; i++) {
                if (Float.floatToRawIntBits(w[i]) != Float.floatToRawIntBits(got[i])) {
                    fail(kernel + " " + type + ": element " + i + " is " + got[i] + " fused, " + w[i] + " unfused");
                }
            }
            float[] bias = tw.gpu.downloadFloat(dBias.gpu());
            if (type == F32) {
                gF32 = got;
                biasF32 = bias;
                // (2) the column sums of the GPU's f32 g (one partial per CTA row of at least 64)
                ColumnSums.assertWithinSummationBound(kernel + " dBias", startValues, gF32, M, H, (M + 63) / 64, bias);
            } else {
                for (int c = 0; c < H; c++) {
                    if (Float.floatToRawIntBits(bias[c]) != Float.floatToRawIntBits(biasF32[c])) {
                        fail(kernel + ": dBias[" + c + "] with a BF16 out is " + bias[c] + ", with an F32 out " + biasF32[c]);
                    }
                }
            }
            // (3) the CPU
            double atol = atol(C) * 0.2 * 1.13;
            tw.expectClose(kernel, out, atol, rtol(type));
            tw.expectClose(kernel + "+reduce_forward_columns", dBias, atol * M, 1e-4);
        }
    }
}
