package io.electra.kernels.gpu;

import io.electra.engine.Tensor;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static io.electra.engine.DType.F32;

/** adamw.cu and the reductions (sum, mean, sum of squares, clip factor) against the CPU backend. */
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

    @Test
    void fusedUpdateOfEveryParameterEqualsOneStepEach() {
        try (Twins tw = new Twins(77)) {
            int[] sizes = {1, 7, 33, 1000, 40000, 16385};
            float[] decay = {0.01f, 0f, 0.01f, 0f, 0.01f, 0.01f};
            Twin gradScale = tw.floats(new float[] {0.5f}, 1), hyper = tw.floats(new float[] {0.9f, 0.99f, 1e-3f}, 3);
            Twin[] p = new Twin[sizes.length], g = new Twin[sizes.length], m = new Twin[sizes.length], v = new Twin[sizes.length];
            for (int i = 0; i < sizes.length; i++) {
                p[i] = tw.normal(1, sizes[i]);
                g[i] = tw.normal(1, sizes[i]);
                m[i] = tw.normal(0.1, sizes[i]);
                v[i] = tw.uniform(0, 0.1, sizes[i]);
                int j = i;
                tw.cpu.adamwStep(p[j].cpu(), g[j].cpu(), m[j].cpu(), v[j].cpu(), gradScale.cpu(), hyper.cpu(), 0.9f, 0.999f, 1e-6f, decay[j]);
            }
            try (var table = tw.gpu.adamwTable(gpu(p), gpu(g), gpu(m), gpu(v), decay)) {
                tw.gpu.adamwStepAll(table, gradScale.gpu(), hyper.gpu(), 0.9f, 0.999f, 1e-6f);
                for (int i = 0; i < sizes.length; i++) {
                    tw.expectClose("adamw_update_multi", p[i], 1e-7, 1e-5);
                    tw.expectClose("adamw_update_multi", v[i], 1e-9, 1e-5);
                }
            }
        }
    }

    @Test
    void theBf16WeightCopyIsTheUpdatedParameterRoundedAsCopyRoundsIt() {
        try (Twins tw = new Twins(78)) {
            int[] sizes = {5, 1000, 16385};
            Twin gradScale = tw.floats(new float[] {1f}, 1), hyper = tw.floats(new float[] {1f, 1f, 1e-2f}, 3);
            Twin[] p = new Twin[sizes.length], g = new Twin[sizes.length], m = new Twin[sizes.length], v = new Twin[sizes.length];
            List<Tensor> copies = new java.util.ArrayList<>();
            for (int i = 0; i < sizes.length; i++) {
                p[i] = tw.normal(1, sizes[i]);
                g[i] = tw.normal(1, sizes[i]);
                m[i] = tw.normal(0.1, sizes[i]);
                v[i] = tw.uniform(0, 0.1, sizes[i]);
                copies.add(i == 1 ? null : tw.bf16Zeros(sizes[i]).gpu());  // parameter 1 has no copy
            }
            // one parameter through the single update, then all through the table
            tw.both(b -> b.adamwStep(p[0].on(b), g[0].on(b), m[0].on(b), v[0].on(b), gradScale.on(b), hyper.on(b), 0.9f, 0.999f, 1e-6f, 0.01f));
            tw.gpu.adamwStep(p[0].gpu(), copies.get(0), g[0].gpu(), m[0].gpu(), v[0].gpu(), gradScale.gpu(), hyper.gpu(), 0.9f, 0.999f, 1e-6f, 0.01f);
            tw.cpu.adamwStep(p[0].cpu(), g[0].cpu(), m[0].cpu(), v[0].cpu(), gradScale.cpu(), hyper.cpu(), 0.9f, 0.999f, 1e-6f, 0.01f);
            tw.expectClose("adamw_update_bf16", p[0], 1e-7, 1e-5);
            expectRoundedCopy(tw, "adamw_update_bf16", p[0].gpu(), copies.get(0));
            float[] decay = {0.01f, 0.01f, 0f};
            for (int i = 0; i < sizes.length; i++) {
                tw.cpu.adamwStep(p[i].cpu(), g[i].cpu(), m[i].cpu(), v[i].cpu(), gradScale.cpu(), hyper.cpu(), 0.9f, 0.999f, 1e-6f, decay[i]);
            }
            try (var table = tw.gpu.adamwTable(gpu(p), gpu(g), gpu(m), gpu(v), decay, copies)) {
                tw.gpu.adamwStepAll(table, gradScale.gpu(), hyper.gpu(), 0.9f, 0.999f, 1e-6f);
            }
            for (int i = 0; i < sizes.length; i++) {
                tw.expectClose("adamw_update_multi", p[i], 1e-7, 1e-5);
                if (copies.get(i) != null) expectRoundedCopy(tw, "adamw_update_multi", p[i].gpu(), copies.get(i));
            }
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
        return java.util.Arrays.stream(twins).map(Twin::gpu).toList();
    }
}
