package io.electra.kernels.gpu;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.electra.engine.DType.F32;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * embedding.cu and sort.cu against the CPU backend. The backward is checked for determinism too:
 * heavy duplicates (one id 40% of all rows, as [MASK] and padding are) run twice give the same bits.
 */
@Tag("gpu")
class EmbeddingGpuTest {
    @ParameterizedTest(name = "N {0} V {1} C {2}")
    @CsvSource({"1, 1, 1", "7, 7, 7", "33, 33, 33", "1000, 1000, 1000", "2048, 30522, 256", "16384, 30522, 768", "5000, 3, 65"})
    void lookupAndDeterministicGradientMatchTheCpu(int N, int V, int C) {
        try (Twins tw = new Twins(N + 31L * V + C)) {
            int[] ids = new int[N];
            for (int i = 0; i < N; i++) ids[i] = tw.random.nextDouble() < 0.4 ? V / 2 : tw.random.nextInt(V);
            Twin id = tw.ints(ids, N), table = tw.normal(1, V, C), out = tw.zeros(F32, N, C), dOut = tw.normal(1, N, C);
            tw.both(b -> b.embeddingForward(out.on(b), table.on(b), id.on(b)));
            tw.expectClose("embedding_forward", out, 0, 0);
            Twin dTable = tw.normal(1, V, C);
            float[] before = tw.gpu.downloadFloat(dTable.gpu());
            tw.both(b -> b.embeddingBackward(dTable.on(b), dOut.on(b), id.on(b)));
            float[] first = tw.gpu.downloadFloat(dTable.gpu());
            tw.expectClose("embedding_backward_keys+embedding_backward_chunks+embedding_backward_fixup"
                    + "+sort_forward_local+sort_forward_global+sort_forward_merge", dTable, 1e-5 * Math.sqrt(N), 1e-4);
            tw.gpu.upload(dTable.gpu(), before);
            tw.gpu.embeddingBackward(dTable.gpu(), dOut.gpu(), id.gpu());
            tw.expectIdentical("embedding_backward_chunks", first, tw.gpu.downloadFloat(dTable.gpu()));
        }
    }

    /** The word, position and token-type lookups and their sum, to the bit (the CPU rounds the first sum too). */
    @ParameterizedTest(name = "N {0} V {1} C {2}")
    @CsvSource({"1, 1, 1", "33, 7, 33", "1000, 30522, 65", "16384, 30522, 256"})
    void threeLookupsSummedMatchTheCpuBitForBit(int N, int V, int C) {
        try (Twins tw = new Twins(N + 11L * V + C)) {
            int positions = Math.min(N, 512);
            Twin words = tw.ints(0, V, N), pos = tw.ints(0, positions, N), types = tw.ints(0, 2, N);
            Twin wordTable = tw.normal(1, V, C), posTable = tw.normal(1, positions, C), typeTable = tw.normal(1, 2, C);
            Twin out = tw.zeros(F32, N, C);
            tw.both(b -> b.embeddingSumForward(out.on(b), wordTable.on(b), words.on(b), posTable.on(b), pos.on(b),
                    typeTable.on(b), types.on(b)));
            tw.expectClose("embedding_forward_sum3", out, 0, 0);
        }
    }

    @Test
    void anIdOutsideTheSecondTableIsReportedByName() {
        try (Twins tw = new Twins(6)) {
            Twin a = tw.normal(1, 10, 4), b = tw.normal(1, 3, 4), c = tw.normal(1, 2, 4), out = tw.zeros(F32, 2, 4);
            Twin ids = tw.ints(new int[] {1, 9}, 2), bad = tw.ints(new int[] {0, 3}, 2), types = tw.ints(new int[] {0, 1}, 2);
            tw.gpu.embeddingSumForward(out.gpu(), a.gpu(), ids.gpu(), b.gpu(), bad.gpu(), c.gpu(), types.gpu());
            var e = assertThrows(IllegalArgumentException.class, () -> tw.gpu.downloadFloat(out.gpu()));
            assertTrue(e.getMessage().contains("second table (the positions)"), e.getMessage());
        }
    }

    @ParameterizedTest(name = "rows {0} K {1} C {2}")
    @CsvSource({"1, 1, 1", "33, 7, 33", "16384, 2458, 256", "1000, 1000, 1000"})
    void gatherAndScatterAddMatchTheCpu(int rows, int K, int C) {
        try (Twins tw = new Twins(rows + 7L * K)) {
            Twin in = tw.normal(1, rows, C), index = tw.ints(0, rows, K), out = tw.zeros(F32, K, C);
            tw.both(b -> b.gatherRows(out.on(b), in.on(b), index.on(b)));
            tw.expectClose("embedding_forward", out, 0, 0);
            Twin dIn = tw.normal(1, rows, C), dOut = tw.normal(1, K, C);
            tw.both(b -> b.scatterAddRows(dIn.on(b), dOut.on(b), index.on(b)));
            tw.expectClose("embedding_backward_chunks+embedding_backward_fixup", dIn, 1e-5, 1e-5);
        }
    }

    @Test
    void anIdOutsideTheTableIsReportedAtTheNextDownload() {
        try (Twins tw = new Twins(5)) {
            Twin table = tw.normal(1, 10, 4), out = tw.zeros(F32, 3, 4), ids = tw.ints(new int[] {1, 10, 2}, 3);
            tw.gpu.embeddingForward(out.gpu(), table.gpu(), ids.gpu());
            assertThrows(IllegalArgumentException.class, () -> tw.gpu.downloadFloat(out.gpu()));
        }
    }
}
