package io.electra.kernels.gpu;

import io.electra.engine.ParameterTable;
import io.electra.engine.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static io.electra.engine.DType.BF16;
import static io.electra.engine.DType.F32;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * adamw.cu (one parameter, and every parameter through a parameter table) and the reductions (sum,
 * mean, sum of squares, clip factor) against the CPU backend.
 */
@Tag("gpu")
class OptimizerGpuTest {
    @ParameterizedTest(name = "n {0}")
    @CsvSource({"1", "7", "33", "1000", "196608", "2359296"})
    void reductionsMatchTheCpu(int n) {
        try (Twins tw = new Twins(n)) {
            Twin in = tw.normal(1, n), out = tw.normal(1, 1);
            tw.both(b -> b.sum(out.on(b), in.on(b), 1f / n));
            tw.expectClose("reduce_forward_partial+reduce_forward_finalize", out, 1e-6, 1e-5);
            tw.both(b -> b.sumSquaresAccumulate(out.on(b), in.on(b)));
            tw.expectClose("reduce_forward_partial+reduce_forward_finalize", out, 1e-6, 1e-5);
            Twin scale = tw.zeros(F32, 1);
            tw.both(b -> b.clipFactor(scale.on(b), out.on(b), 1f));
            tw.expectClose("reduce_forward_clip", scale, 1e-7, 1e-6);
            Twin dIn = tw.normal(1, n), dOut = tw.floats(new float[] {0.3f}, 1);
            tw.both(b -> b.sumBackward(dIn.on(b), dOut.on(b), 2f));
            tw.expectClose("reduce_backward_sum", dIn, 1e-7, 1e-6);
        }
    }

    @ParameterizedTest(name = "n {0}")
    @CsvSource({"1", "7", "33", "1000", "196608"})
    void adamwStepMatchesTheCpu(int n) {
        try (Twins tw = new Twins(n * 3L)) {
            Twin p = tw.normal(1, n), g = tw.normal(1, n), m = tw.normal(0.1, n), v = tw.uniform(0, 0.1, n);
            Twin gradScale = tw.floats(new float[] {0.8f}, 1), hyper = tw.floats(new float[] {1f, 1f, 2e-4f}, 3);
            for (int step = 0; step < 3; step++) {
                tw.both(b -> b.adamwStep(p.on(b), g.on(b), m.on(b), v.on(b), gradScale.on(b), hyper.on(b), 0.9f, 0.999f, 1e-6f, 0.01f));
            }
            tw.expectClose("adamw_update", p, 1e-7, 1e-5);
            tw.expectClose("adamw_update", m, 1e-7, 1e-5);
            tw.expectClose("adamw_update", v, 1e-9, 1e-5);
        }
    }

    /**
     * The multi-tensor path (Backend.parameterTable, gradSumSquares, adamwStepAll) against the CPU
     * backend's per-tensor loop: sizes on both sides of a chunk (16384), three hyper groups, decay and
     * none, with and without bf16 copies; two steps with fresh gradients, which must be zero after each.
     */
    @ParameterizedTest(name = "bf16 copies {0}")
    @ValueSource(booleans = {false, true})
    void parameterTableStepsMatchTheCpu(boolean copies) {
        try (Twins tw = new Twins(copies ? 79 : 77)) {
            int[] sizes = {1, 7, 33, 1000, 16385, 40000};
            float[] decay = {0.01f, 0f, 0.01f, 0f, 0.01f, 0.01f};
            int[] row = {2, 0, 1, 0, 2, 1};
            Twin gradScale = tw.floats(new float[] {0.8f}, 1);
            Twin hyper = tw.floats(new float[] {0.9f, 0.99f, 1e-3f, 1f, 1f, 2e-4f, 0.5f, 0.7f, 3e-2f}, 9);  // 3 groups
            Twin[] p = new Twin[sizes.length], g = new Twin[sizes.length], m = new Twin[sizes.length], v = new Twin[sizes.length];
            List<Tensor> cpuCopies = new ArrayList<>(), gpuCopies = new ArrayList<>();
            for (int i = 0; i < sizes.length; i++) {
                p[i] = tw.normal(1, sizes[i]);
                g[i] = tw.normal(1, sizes[i]);
                m[i] = tw.normal(0.1, sizes[i]);
                v[i] = tw.uniform(0, 0.1, sizes[i]);
                boolean copy = copies && i % 2 == 0;  // mixed precision: some parameters have no copy (LayerNorm, biases)
                cpuCopies.add(copy ? tw.cpu.allocate(BF16, sizes[i]) : null);
                gpuCopies.add(copy ? tw.bf16Zeros(sizes[i]).gpu() : null);
            }
            Twin sumSquares = tw.floats(new float[] {42f}, 1);  // overwritten, not added to
            try (ParameterTable onCpu = tw.cpu.parameterTable(cpu(p), cpu(g), cpu(m), cpu(v), cpuCopies, decay, row);
                 ParameterTable onGpu = tw.gpu.parameterTable(gpu(p), gpu(g), gpu(m), gpu(v), gpuCopies, decay, row)) {
                for (int step = 0; step < 2; step++) {
                    tw.cpu.gradSumSquares(sumSquares.cpu(), onCpu);
                    tw.gpu.gradSumSquares(sumSquares.gpu(), onGpu);
                    tw.expectClose("adamw_grad_sumsq_multi+reduce_forward_finalize", sumSquares, 0, 1e-5);
                    float first = tw.gpu.downloadFloat(sumSquares.gpu())[0];
                    tw.gpu.gradSumSquares(sumSquares.gpu(), onGpu);
                    tw.expectIdentical("adamw_grad_sumsq_multi+reduce_forward_finalize", new float[] {first},
                            tw.gpu.downloadFloat(sumSquares.gpu()));
                    tw.cpu.adamwStepAll(onCpu, gradScale.cpu(), hyper.cpu(), 0.9f, 0.999f, 1e-6f);
                    tw.gpu.adamwStepAll(onGpu, gradScale.gpu(), hyper.gpu(), 0.9f, 0.999f, 1e-6f);
                    for (int i = 0; i < sizes.length; i++) {
                        tw.expectClose("adamw_update_multi", p[i], 1e-7, 1e-5);
                        tw.expectClose("adamw_update_multi", m[i], 1e-7, 1e-5);
                        tw.expectClose("adamw_update_multi", v[i], 1e-9, 1e-5);
                        float[] zeroed = tw.gpu.downloadFloat(g[i].gpu());
                        tw.expectIdentical("adamw_update_multi", new float[zeroed.length], zeroed);
                        if (gpuCopies.get(i) != null) expectRoundedCopy(tw, "adamw_update_multi", p[i].gpu(), gpuCopies.get(i));
                        float[] fresh = new float[sizes[i]];
                        for (int j = 0; j < fresh.length; j++) fresh[j] = (float) tw.random.nextGaussian();
                        tw.cpu.upload(g[i].cpu(), fresh);
                        tw.gpu.upload(g[i].gpu(), fresh);
                    }
                }
            }
        }
    }

    @Test
    void aParameterTableIsRefusedByAnotherBackendAndAfterClose() {
        try (Twins tw = new Twins(80)) {
            Twin p = tw.normal(1, 5), g = tw.normal(1, 5), m = tw.zeros(F32, 5), v = tw.zeros(F32, 5);
            Twin out = tw.zeros(F32, 1), scale = tw.floats(new float[] {1f}, 1), hyper = tw.floats(new float[] {1f, 1f, 1e-3f}, 3);
            List<Tensor> noCopy = java.util.Collections.singletonList(null);
            float[] decay = {0f};
            int[] row = {0};
            try (ParameterTable onCpu = tw.cpu.parameterTable(List.of(p.cpu()), List.of(g.cpu()), List.of(m.cpu()), List.of(v.cpu()),
                    noCopy, decay, row)) {
                assertThrows(IllegalArgumentException.class, () -> tw.gpu.gradSumSquares(out.gpu(), onCpu));
            }
            ParameterTable onGpu = tw.gpu.parameterTable(List.of(p.gpu()), List.of(g.gpu()), List.of(m.gpu()), List.of(v.gpu()),
                    noCopy, decay, new int[] {1});
            var rows = assertThrows(IllegalArgumentException.class,
                    () -> tw.gpu.adamwStepAll(onGpu, scale.gpu(), hyper.gpu(), 0.9f, 0.999f, 1e-6f));
            assertTrue(rows.getMessage().contains("adamw_update_multi") && rows.getMessage().contains("2 groups"), rows.getMessage());
            onGpu.close();
            var closed = assertThrows(IllegalArgumentException.class, () -> tw.gpu.gradSumSquares(out.gpu(), onGpu));
            assertTrue(closed.getMessage().contains("closed"), closed.getMessage());
            assertThrows(IllegalArgumentException.class, () -> tw.gpu.parameterTable(List.of(p.gpu()), List.of(g.gpu()),
                    List.of(m.gpu()), List.of(v.cpu()), noCopy, decay, row), "a CPU tensor in a CUDA table");
        }
    }

    @Test
    void theBf16WeightCopyIsTheUpdatedParameterRoundedAsCopyRoundsIt() {
        try (Twins tw = new Twins(78)) {
            int n = 16385;
            Twin gradScale = tw.floats(new float[] {1f}, 1), hyper = tw.floats(new float[] {1f, 1f, 1e-2f}, 3);
            Twin p = tw.normal(1, n), g = tw.normal(1, n), m = tw.normal(0.1, n), v = tw.uniform(0, 0.1, n);
            Tensor copy = tw.bf16Zeros(n).gpu();
            tw.gpu.adamwStep(p.gpu(), copy, g.gpu(), m.gpu(), v.gpu(), gradScale.gpu(), hyper.gpu(), 0.9f, 0.999f, 1e-6f, 0.01f);
            tw.cpu.adamwStep(p.cpu(), g.cpu(), m.cpu(), v.cpu(), gradScale.cpu(), hyper.cpu(), 0.9f, 0.999f, 1e-6f, 0.01f);
            tw.expectClose("adamw_update_bf16", p, 1e-7, 1e-5);
            expectRoundedCopy(tw, "adamw_update_bf16", p.gpu(), copy);
        }
    }

    /** copy must equal CpuBackend.copy(F32 -> BF16) of the GPU's updated parameter, bit for bit. */
    private static void expectRoundedCopy(Twins tw, String kernel, Tensor param, Tensor copy) {
        Tensor f32 = tw.cpu.allocate(io.electra.engine.DType.F32, param.shape()), bf16 = tw.cpu.allocate(io.electra.engine.DType.BF16, param.shape());
        tw.cpu.upload(f32, tw.gpu.downloadFloat(param));
        tw.cpu.copy(bf16, f32);
        tw.expectIdentical(kernel, tw.cpu.downloadFloat(bf16), tw.gpu.downloadFloat(copy));
    }

    private static List<Tensor> gpu(Twin[] twins) {
        return Arrays.stream(twins).map(Twin::gpu).toList();
    }

    private static List<Tensor> cpu(Twin[] twins) {
        return Arrays.stream(twins).map(Twin::cpu).toList();
    }
}
