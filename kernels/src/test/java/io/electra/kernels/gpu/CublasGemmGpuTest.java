package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.kernels.CublasGemm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The optional cuBLAS provider (the benchmarks' second GEMM column) against the CPU backend's matmul:
 * every layout, F32 and BF16 inputs, F32 and BF16 outputs, ragged sizes. It proves the row-major to
 * column-major mapping; it is not one of our kernels, so nothing goes into the ledger. Skips visibly
 * where there is no device or no libcublas.so.12. Tolerances as in {@link GemmTcGpuTest}; F32 inputs
 * also round each product, so twice its atol.
 */
@Tag("gpu")
class CublasGemmGpuTest {
    private static CublasGemm.Detection detection;

    private static synchronized CublasGemm gemm() {
        Gpu.backend();  // skip first when there is no device at all
        if (detection == null) detection = CublasGemm.open();
        Assumptions.assumeTrue(detection.isAvailable(), () -> "no cuBLAS (" + detection.reason() + ")");
        return detection.gemm().orElseThrow();
    }

    @AfterAll
    static synchronized void close() {
        if (detection != null) detection.gemm().ifPresent(CublasGemm::close);
    }

    @ParameterizedTest(name = "{0} {1} in, {2} out, M {3} N {4} K {5}")
    @CsvSource({
            "nn, F32, F32, 37, 50, 70", "nt, F32, F32, 37, 50, 70", "tn, F32, F32, 37, 50, 70", "tt, F32, F32, 37, 50, 70",
            "nn, BF16, F32, 33, 65, 40", "nt, BF16, F32, 33, 65, 40", "tn, BF16, F32, 33, 65, 40", "tt, BF16, F32, 33, 65, 40",
            "nt, BF16, BF16, 129, 257, 72", "tn, BF16, BF16, 256, 768, 1000", "nn, BF16, BF16, 64, 30522, 128"})
    void everyLayoutMatchesTheCpu(String layout, DType in, DType out, int M, int N, int K) {
        CublasGemm gemm = gemm();
        boolean ta = layout.charAt(0) == 't', tb = layout.charAt(1) == 't';
        try (Twins tw = new Twins(M * 7919L + N * 31L + K + layout.hashCode())) {
            int[] aShape = ta ? new int[] {K, M} : new int[] {M, K}, bShape = tb ? new int[] {N, K} : new int[] {K, N};
            Twin a = in == DType.F32 ? tw.normal(1, aShape) : tw.bf16Normal(1, aShape);
            Twin b = in == DType.F32 ? tw.normal(1, bShape) : tw.bf16Normal(1, bShape);
            Twin c = out == DType.F32 ? tw.zeros(DType.F32, M, N) : tw.bf16Zeros(M, N);
            tw.cpu.matmul(c.cpu(), a.cpu(), ta, b.cpu(), tb, 1f, false);
            tw.gpu.synchronize();  // the uploads ran on the backend's stream
            gemm.matmul(c.gpu(), a.gpu(), ta, b.gpu(), tb);
            gemm.synchronize();
            double atol = GemmTcGpuTest.atol(K) * (in == DType.F32 ? 2 : 1), rtol = GemmTcGpuTest.rtol(out);
            float[] want = tw.cpu.downloadFloat(c.cpu()), got = tw.gpu.downloadFloat(c.gpu());
            assertEquals(want.length, got.length);
            for (int i = 0; i < want.length; i++) {
                double diff = Math.abs((double) got[i] - want[i]);
                if (!(diff <= atol + rtol * Math.abs(want[i]))) {
                    fail(String.format("cuBLAS %s %s: element %d (row %d, col %d) is %s, the CPU says %s, difference %.3g "
                            + "(allowed %.3g)", layout, in, i, i / N, i % N, got[i], want[i], diff, atol + rtol * Math.abs(want[i])));
                }
            }
        }
    }
}
