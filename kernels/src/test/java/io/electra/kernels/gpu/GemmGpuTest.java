package io.electra.kernels.gpu;

import io.electra.engine.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.F32;

/** gemm.cu against the CPU backend: every transpose combination, odd sizes, ELECTRA shapes, batches. */
@Tag("gpu")
class GemmGpuTest {
    @ParameterizedTest(name = "M {0} N {1} K {2}")
    @CsvSource({"1, 1, 1", "7, 33, 1000", "33, 7, 65", "1000, 7, 33", "256, 256, 256", "512, 768, 768", "256, 1024, 256", "128, 3072, 768"})
    void everyTransposeCombinationMatchesTheCpu(int M, int N, int K) {
        try (Twins tw = new Twins(M * 1000L + N * 10L + K)) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    Twin a = ta ? tw.normal(1, K, M) : tw.normal(1, M, K);
                    Twin b = tb ? tw.normal(1, N, K) : tw.normal(1, K, N);
                    Twin c = tw.normal(1, M, N);
                    String kernel = "gemm_forward_" + (ta ? "t" : "n") + (tb ? "t" : "n");
                    tw.both(be -> be.matmul(c.on(be), a.on(be), ta, b.on(be), tb, 0.5f, true));
                    tw.expectClose(kernel, c, 1e-5 * Math.sqrt(K), 1e-4);
                    tw.both(be -> be.matmul(c.on(be), a.on(be), ta, b.on(be), tb, 1f, false));
                    tw.expectClose(kernel, c, 1e-5 * Math.sqrt(K), 1e-4);
                }
            }
        }
    }

    @Test
    void batchedProductsMatchTheCpu() {
        try (Twins tw = new Twins(42)) {
            int batch = 8, M = 33, N = 64, K = 128;  // attention-like: [B*H, T, D] x [B*H, D, T]
            Twin a = tw.normal(1, batch, M, K), b = tw.normal(1, batch, N, K), c = tw.zeros(F32, batch, M, N);
            tw.both(be -> be.matmul(c.on(be), a.on(be), false, b.on(be), true, 0.125f, false));
            tw.expectClose("gemm_forward_nt", c, 1e-4, 1e-4);
            Twin d = tw.normal(1, batch, K, N);
            tw.both(be -> be.matmul(d.on(be), a.on(be), true, c.on(be), false, 1f, true));
            tw.expectClose("gemm_forward_tn", d, 1e-4, 1e-4);
        }
    }

    @Test
    void rowViewsOffsetIntoTheirStorage() {
        try (Twins tw = new Twins(43)) {
            Twin a = tw.normal(1, 10, 16), b = tw.normal(1, 16, 5), c = tw.zeros(F32, 3, 5);
            tw.both(be -> {
                Tensor rows = a.on(be).rows(7, 3);
                be.matmul(c.on(be), rows, false, b.on(be), false, 1f, false);
            });
            tw.expectClose("gemm_forward_nn", c, 1e-5, 1e-5);
        }
    }
}
