package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.ops.GemmTcKernels;
import io.electra.kernels.ops.GemmTcTile;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.F32;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * gemm_tc.cu against the CPU backend's f32 matmul of the same bf16-rounded inputs.
 *
 * <p>Tolerance. bf16 inputs are exact in f32 and the product of two 8-bit mantissas is exact in
 * f32, so the GPU and the CPU differ only in how the K products are summed: in a different order,
 * and inside the tensor cores with an adder that truncates alignment bits instead of rounding.
 * Modelled as an error of at most 2^-23 per addition, random in sign, the sum's error has standard
 * deviation about sqrt(K) * 2^-23 * sum|a b|; for N(0, 1) entries E|a b| = 2/pi, so
 * {@code atol = 4 sqrt(K) 2^-23 (2/pi) K} (four standard deviations; 0.05 at K = 3072, where
 * entries of C are about sqrt(K) = 55 in size). A BF16 out is then rounded once more on each side,
 * each with relative error at most 2^-8 (half an ulp: bf16 keeps 8 significant bits), and two nearly
 * equal sums may round to neighbouring bf16 values: {@code rtol = 2^-7} there (one ulp), 1e-6 for F32.
 * A wrong fragment or a missed tile edge produces errors of order |C|, far outside both.
 */
@Tag("gpu")
class GemmTcGpuTest {
    private static final double BF16_RTOL = 0x1p-7 * 1.01;

    static double atol(int k) {
        return 4 * Math.sqrt(Math.max(k, 1)) * 0x1p-23 * (2 / Math.PI) * Math.max(k, 1) + 1e-6;
    }

    static double rtol(DType out) {
        return out == DType.BF16 ? BF16_RTOL : 1e-6;
    }

    @ParameterizedTest(name = "{0} M {1} N {2} K {3}")
    @CsvSource({
            "nt, 1, 8, 8", "nt, 7, 33, 40", "nt, 129, 257, 72", "nt, 130, 30522, 64", "nt, 512, 768, 768",
            "nt, 256, 3072, 768", "nt, 300, 1024, 34",
            "nn, 1, 8, 8", "nn, 33, 50, 40", "nn, 256, 768, 3072", "nn, 64, 96, 30522", "nn, 77, 130, 1000",
            "tn, 2, 2, 1", "tn, 66, 50, 33", "tn, 768, 3072, 256", "tn, 30522, 64, 40", "tn, 1024, 256, 129"})
    void everyLayoutMatchesTheCpuForBothOutputTypes(String layout, int M, int N, int K) {
        boolean ta = layout.charAt(0) == 't', tb = layout.charAt(1) == 't';
        try (Twins tw = new Twins(M * 7919L + N * 31L + K)) {
            Twin a = ta ? tw.bf16Normal(1, K, M) : tw.bf16Normal(1, M, K);
            Twin b = tb ? tw.bf16Normal(1, N, K) : tw.bf16Normal(1, K, N);
            for (DType outType : new DType[] {DType.F32, DType.BF16}) {
                Twin c = EpilogueCheck.zeros(tw, outType, M, N);
                String kernel = tw.gpu.tensorCoreGemm().kernelFor(c.gpu(), a.gpu(), ta, b.gpu(), tb);
                tw.both(be -> be.matmul(c.on(be), a.on(be), ta, b.on(be), tb, 1f, false));
                tw.expectClose(kernel, c, atol(K), rtol(outType));
            }
        }
    }

    @Test
    void alphaAndAccumulateAddIntoTheOutputInItsOwnDtype() {
        int M = 100, N = 72, K = 96;
        try (Twins tw = new Twins(5)) {
            Twin a = tw.bf16Normal(1, M, K), b = tw.bf16Normal(1, N, K);
            Twin c32 = tw.normal(1, M, N), c16 = tw.bf16Normal(1, M, N);
            for (Twin c : new Twin[] {c32, c16}) {
                String kernel = tw.gpu.tensorCoreGemm().kernelFor(c.gpu(), a.gpu(), false, b.gpu(), true);
                tw.both(be -> be.matmul(c.on(be), a.on(be), false, b.on(be), true, -0.5f, true));
                tw.expectClose(kernel, c, atol(K), rtol(c.gpu().dtype()));
            }
        }
    }

    @Test
    void everyTileAndCopyWidthMatchesTheCpu() {
        // K = 40 (multiple of 8) takes the 16-byte copies, K = 34 the 4-byte ones; sizes leave ragged edges.
        for (String layout : new String[] {"nn", "nt", "tn"}) {
            boolean ta = layout.charAt(0) == 't', tb = layout.charAt(1) == 't';
            for (int dim : new int[] {40, 34}) {
                int M = ta ? dim * 5 : 150, N = tb ? 150 : dim * 3, K = dim;
                try (Twins tw = new Twins(dim * 10L + layout.hashCode())) {
                    Twin a = ta ? tw.bf16Normal(1, K, M) : tw.bf16Normal(1, M, K);
                    Twin b = tb ? tw.bf16Normal(1, N, K) : tw.bf16Normal(1, K, N);
                    for (GemmTcTile tile : GemmTcTile.values()) {
                        Twin c = tw.zeros(F32, M, N);
                        tw.cpu.matmul(c.cpu(), a.cpu(), ta, b.cpu(), tb, 1f, false);
                        tw.gpu.tensorCoreGemm().matmulWithTile(c.gpu(), a.gpu(), ta, b.gpu(), tb, tile);
                        String kernel = "gemm_tc_forward_" + layout + "_" + tile.id() + (dim % 8 == 0 ? "" : "_even");
                        tw.expectClose(kernel, c, atol(K), 1e-6);
                    }
                }
            }
        }
    }

    @ParameterizedTest(name = "out {0}")
    @CsvSource({"F32", "BF16"})
    void biasGeluAndResidualEpiloguesMatchTheUnfusedCpuOps(DType outType) {
        // Through the Backend methods the model calls (gemm_tc, or gemm_wgmma on a 9.0 device).
        try (Twins tw = new Twins(11)) {
            EpilogueCheck.check(tw, null, outType, 200, 136, 64, (out, x, w, alpha, accumulate, epilogue, bias, aux) -> {
                switch (epilogue) {
                    case NONE -> tw.gpu.matmul(out, x, false, w, true, alpha, accumulate);
                    case BIAS -> tw.gpu.matmulBias(out, x, false, w, true, bias);
                    case BIAS_GELU -> tw.gpu.matmulBiasGelu(out, aux, x, false, w, true, bias);
                    case RESIDUAL -> tw.gpu.matmulResidual(out, x, false, w, true, aux);
                }
            });
        }
    }

    @Test
    void fusedLinearEntryPointsFallBackWhereNoTensorCoreKernelServes() {
        // F32 operands (the fp32 run) and an odd contiguous dimension (K = 7) take the product, bias and GELU apart.
        try (Twins tw = new Twins(12)) {
            int M = 9, N = 6;
            for (boolean bf16 : new boolean[] {false, true}) {
                int K = bf16 ? 7 : 33;
                Twin x = bf16 ? tw.bf16Normal(1, M, K) : tw.normal(1, M, K), w = bf16 ? tw.bf16Normal(1, N, K) : tw.normal(1, N, K);
                Twin bias = tw.normal(1, N), y = tw.zeros(F32, M, N), pre = tw.zeros(F32, M, N), z = tw.zeros(F32, M, N);
                tw.both(be -> be.matmulBias(y.on(be), x.on(be), false, w.on(be), true, bias.on(be)));
                tw.both(be -> be.matmulBiasGelu(z.on(be), pre.on(be), x.on(be), false, w.on(be), true, bias.on(be)));
                String product = (bf16 ? "copy_forward_bf16_to_f32+" : "") + "gemm_forward_nt+elementwise_forward_bias";
                tw.expectClose(product, y, 1e-5, 1e-5);
                tw.expectClose(product, pre, 1e-5, 1e-5);
                tw.expectClose(product + "+elementwise_forward_gelu", z, 1e-5, 1e-5);
            }
        }
    }

    @Test
    void batchedProductsAndRowViewsMatchTheCpu() {
        try (Twins tw = new Twins(42)) {
            int batch = 6, M = 33, N = 64, K = 128;
            Twin a = tw.bf16Normal(1, batch, M, K), b = tw.bf16Normal(1, batch, N, K), c = tw.zeros(F32, batch, M, N);
            String kernel = tw.gpu.tensorCoreGemm().kernelFor(c.gpu(), a.gpu(), false, b.gpu(), true);
            tw.both(be -> be.matmul(c.on(be), a.on(be), false, b.on(be), true, 0.125f, false));
            tw.expectClose(kernel, c, atol(K) * 0.125, 1e-6);
            // Rows 1.. of a [10, 34] matrix start 68 bytes in: only the 4-byte copies can read them.
            Twin m = tw.bf16Normal(1, 10, 34), w = tw.bf16Normal(1, 34, 18), y = tw.zeros(F32, 7, 18);
            Tensor rows = m.gpu().rows(1, 7);
            String viewKernel = tw.gpu.tensorCoreGemm().kernelFor(y.gpu(), rows, false, w.gpu(), false);
            assertTrue(viewKernel.endsWith("_even"), viewKernel);
            tw.both(be -> be.matmul(y.on(be), m.on(be).rows(1, 7), false, w.on(be), false, 1f, false));
            tw.expectClose(viewKernel, y, atol(34), 1e-6);
        }
    }

    @Test
    void anOddContiguousDimensionIsRefusedByTheKernelAndServedByTheBackend() {
        try (Twins tw = new Twins(1)) {
            Twin a = tw.bf16Normal(1, 4, 7), b = tw.bf16Normal(1, 7, 6), c = tw.zeros(F32, 4, 6);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> tw.gpu.tensorCoreGemm().matmul(c.gpu(), a.gpu(), false, b.gpu(), false, 1f, false));
            assertTrue(e.getMessage().contains("contiguous dimension must be even"), e.getMessage());
            assertTrue(!tw.gpu.tensorCoreGemm().serves(c.gpu(), a.gpu(), false, b.gpu(), false));
            // The backend widens such operands to f32 and takes the SIMT GEMM.
            tw.both(be -> be.matmul(c.on(be), a.on(be), false, b.on(be), false, 1f, false));
            tw.expectClose("gemm_forward_nn", c, atol(7), 1e-6);
        }
    }

    @ParameterizedTest(name = "gemm_tc forced, out {0}")
    @CsvSource({"F32", "BF16"})
    void gemmTcKeepsAlphaAccumulateAndEveryEpilogueWhereWgmmaServesTheModel(DType outType) {
        // On a 9.0 device the Backend calls above run on gemm_wgmma; this holds gemm_tc to the same function.
        try (Twins tw = new Twins(23 + outType.ordinal())) {
            GemmTcKernels g = tw.gpu.tensorCoreGemm();
            GemmTcTile tile = GemmTcTile.T64X64;
            EpilogueCheck.check(tw, "gemm_tc_forward_nt_" + tile.id(), outType, 136, 72, 96,
                    (out, x, w, alpha, accumulate, epilogue, bias, aux) ->
                            g.matmulTc(out, x, false, w, true, alpha, accumulate, epilogue, bias, aux, tile));
        }
    }
}
