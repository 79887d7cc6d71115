package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.Precision;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.HalfFloats;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.nn.Parameter;
import io.electra.engine.optim.AdamW;
import io.electra.engine.optim.AdamWConfig;
import io.electra.engine.testing.SharedData;
import io.electra.kernels.CudaBackend;
import io.electra.kernels.CudaProbe;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The bf16 training step on CUDA (tensor-core GEMMs, bf16 attention, the bf16-writing AdamW)
 * against the CPU's emulation of it, on the tiny fixture: losses, logits and every gradient, then
 * the weights and their bf16 copies after one AdamW step. Both sides make the same roundings on
 * the same inputs, so what differs is f32 summation order and the roundings it flips, plus one
 * rounding of each attention probability (the GPU rounds P before normalising, or not at all at
 * the fixture's head dims 4 and 8, which take the composed f32 path). The bound is therefore the
 * bf16-vs-fp32 one of {@link Bf16ParityTest} (R U max|ref|, 2 R U for gradients), which each side
 * meets against the exact result; observed CPU-vs-GPU differences should be far smaller.
 */
@Tag("gpu")
class Bf16GpuStepTest {
    private static final double U = 0x1p-8;
    private static final int R = 28;

    @Test
    void cudaBf16StepMatchesTheCpuEmulation() throws Exception {
        CudaProbe probe = CudaBackend.tryCreate();
        Assumptions.assumeTrue(probe.isAvailable(), () -> "no CUDA device (" + probe.reason() + ")");
        Path dir = SharedData.path("fixtures/hf-electra/tiny");
        try (CudaBackend gpu = probe.backend().orElseThrow(); Backend cpu = new CpuBackend();
             SafeTensorsFile exp = SafeTensorsFile.open(dir.resolve("expected.safetensors"))) {
            ElectraPretraining onCpu = load(cpu, dir), onGpu = load(gpu, dir);
            Bf16ParityTest.Result want = Bf16ParityTest.run(cpu, onCpu, HfParityTest.FixtureBatch.read(cpu, exp), Precision.BF16);
            Bf16ParityTest.Result got = Bf16ParityTest.run(gpu, onGpu, HfParityTest.FixtureBatch.read(gpu, exp), Precision.BF16);
            List<String> failures = new ArrayList<>();
            want.values().forEach((n, ref) -> compare(failures, n, ref, got.values().get(n), R));
            want.grads().forEach((n, ref) -> {
                if (!n.endsWith("attention.self.key.bias")) compare(failures, "grad " + n, ref, got.grads().get(n), 2 * R);
            });

            // one AdamW step: each side's masters are the AdamW update of its own gradients, and its
            // bf16 copies are exactly its masters rounded
            try (AdamW a = new AdamW(cpu, onCpu.parameters(), AdamWConfig.electra());
                 AdamW b = new AdamW(gpu, onGpu.parameters(), AdamWConfig.electra())) {
                Bf16ParityTest.run(cpu, onCpu, HfParityTest.FixtureBatch.read(cpu, exp), Precision.BF16);
                Bf16ParityTest.run(gpu, onGpu, HfParityTest.FixtureBatch.read(gpu, exp), Precision.BF16);
                List<float[]> cpuGrads = new ArrayList<>(), gpuGrads = new ArrayList<>(), before = new ArrayList<>();
                for (Parameter p : onCpu.parameters()) cpuGrads.add(cpu.downloadFloat(p.grad()));
                for (Parameter p : onGpu.parameters()) gpuGrads.add(gpu.downloadFloat(p.grad()));
                for (Parameter p : onCpu.parameters()) before.add(cpu.downloadFloat(p.value()));
                a.step(LR);
                b.step(LR);
                List<Parameter> cp = onCpu.parameters(), gp = onGpu.parameters();
                double cpuScale = clipScale(a), gpuScale = clipScale(b);
                for (int i = 0; i < cp.size(); i++) {
                    float wd = cp.get(i).decay() ? (float) AdamWConfig.electra().weightDecay() : 0f;
                    expectStep(failures, "cpu master " + cp.get(i).name(), before.get(i), cpuGrads.get(i), cpuScale, wd,
                            cpu.downloadFloat(cp.get(i).value()));
                    expectStep(failures, "cuda master " + gp.get(i).name(), before.get(i), gpuGrads.get(i), gpuScale, wd,
                            gpu.downloadFloat(gp.get(i).value()));
                }
            }
            List<Parameter> gp = onGpu.parameters();
            for (int i = 0; i < gp.size(); i++) {
                if (gp.get(i).bf16Copy() != null) {
                    float[] master = gpu.downloadFloat(gp.get(i).value()), copy = gpu.downloadFloat(gp.get(i).bf16Copy());
                    for (int j = 0; j < master.length; j++) {
                        if (Float.floatToIntBits(HalfFloats.roundToBf16(master[j])) != Float.floatToIntBits(copy[j])) {
                            failures.add("gpu bf16 copy " + gp.get(i).name() + "[" + j + "] " + copy[j] + " for master " + master[j]);
                            break;
                        }
                    }
                }
            }
            if (!failures.isEmpty()) fail(failures.size() + " mismatches:\n" + String.join("\n", failures));
        }
    }

    private static ElectraPretraining load(Backend b, Path dir) throws Exception {
        ElectraPretraining m = ElectraPretraining.fromHf(b, dir.resolve("generator"), dir.resolve("discriminator"), 50f);
        m.usePrecision(Precision.BF16);
        return m;
    }

    private static void compare(List<String> failures, String what, float[] ref, float[] got, int rounds) {
        double maxRef = 0, maxDiff = 0;
        for (int i = 0; i < ref.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
        }
        System.out.printf("cpu vs cuda bf16 %-80s max|d|/max|ref| = %.3f U%n", what, maxDiff / maxRef / U);
        if (!(maxDiff <= rounds * U * maxRef)) failures.add(what + ": max|d| " + maxDiff + " > " + rounds + " U max|ref|");
    }

    private static final double LR = 1e-3;

    /** The clip factor AdamW applied: min(1, maxNorm / (norm + 1e-6)), as OptimizerCpu.clipFactor. */
    private static double clipScale(AdamW optimizer) {
        return Math.min(1.0, AdamWConfig.electra().maxGradNorm() / (optimizer.lastGradNorm() + 1e-6));
    }

    /**
     * Each side's masters after the step are ELECTRA's AdamW (no bias correction; first step, so
     * m = (1-b1) g', v = (1-b2) g'^2 with g' the clipped gradient) of that side's own gradients. The
     * gradients of the two sides already agree within the bound above. Their masters need not agree
     * any closer, because where |g'| is near eps / sqrt(1-b2) = 3e-5 the step lr m / (sqrt(v) + eps)
     * swings between 0 and 3.16 lr with small changes of g.
     */
    private static void expectStep(List<String> failures, String what, float[] before, float[] grad, double scale, float wd,
                                   float[] after) {
        AdamWConfig c = AdamWConfig.electra();
        for (int j = 0; j < before.length; j++) {
            double g = grad[j] * scale, m = (1 - c.beta1()) * g, v = (1 - c.beta2()) * g * g;
            double want = before[j] - LR * (m / (Math.sqrt(v) + c.eps()) + wd * before[j]);
            if (!(Math.abs(after[j] - want) <= 1e-6 + 0x1p-22 * Math.abs(before[j]))) {
                failures.add(what + "[" + j + "]: " + after[j] + ", while AdamW of its gradient " + grad[j] + " gives " + want);
                return;
            }
        }
    }
}
