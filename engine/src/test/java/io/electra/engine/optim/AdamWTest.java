package io.electra.engine.optim;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.HalfFloats;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.io.SafeTensorsWriter;
import io.electra.engine.nn.Parameter;
import io.electra.engine.testing.Approx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AdamWTest {
    private static final double ATOL = 1e-6, RTOL = 1e-5;

    @TempDir
    Path dir;

    private final CpuBackend backend = new CpuBackend(1);

    @AfterEach
    void close() {
        backend.close();
    }

    private Parameter param(String name, boolean decay, float... values) {
        Parameter p = new Parameter(backend, name, decay, values.length);
        backend.upload(p.value(), values);
        return p;
    }

    private float[] values(Parameter p) {
        return backend.downloadFloat(p.value());
    }

    /**
     * p = 1, g = 0.5, lr = 0.1, ELECTRA's constants. The norm 0.5 is under 1, so no clipping:
     * m = 0.1 * 0.5 = 0.05; v = 0.001 * 0.25 = 0.00025; sqrt(v) = 0.0158113883;
     * update = 0.05 / (0.0158113883 + 1e-6) + 0.01 * 1 = 3.1620776728 + 0.01 = 3.1720776728;
     * p = 1 - 0.1 * 3.1720776728 = 0.6827922327. (With the constants rounded to float32, as the kernel and
     * TensorFlow hold them, p = 0.6827901219: the tolerance, 7.8e-6 here, covers the 2.1e-6 between them.)
     */
    @Test
    void oneStepMatchesHandComputedElectraUpdate() {
        Parameter p = param("w", true, 1f);
        backend.upload(p.grad(), new float[] {0.5f});
        try (AdamW opt = new AdamW(backend, List.of(p), AdamWConfig.electra())) {
            opt.step(0.1);
            Approx.assertClose("param", 0.6827922327, values(p)[0], ATOL, RTOL);
            Approx.assertClose("m", 0.05, backend.downloadFloat(opt.exportState().get("w.adam_m"))[0], ATOL, RTOL);
            Approx.assertClose("v", (1 - (double) 0.999f) * 0.25, backend.downloadFloat(opt.exportState().get("w.adam_v"))[0], 1e-9, RTOL);
            assertEquals(0.5, opt.lastGradNorm(), 1e-7);
            assertEquals(1, opt.steps());
        }
    }

    /**
     * Bias-corrected first step of the same case: m_hat = 0.05 / 0.1 = 0.5, v_hat = 0.00025 / 0.001 = 0.25;
     * update = 0.5 / (0.5 + 1e-6) + 0.01 = 1.009998000004; p = 1 - 0.1 * 1.009998000004 = 0.8990001999996.
     */
    @Test
    void biasCorrectedFirstStepMatchesHandComputedAdamW() {
        Parameter p = param("w", true, 1f);
        backend.upload(p.grad(), new float[] {0.5f});
        try (AdamW opt = new AdamW(backend, List.of(p), AdamWConfig.electra().withBiasCorrection(true))) {
            opt.step(0.1);
            Approx.assertClose("param", 0.8990001999996, values(p)[0], ATOL, RTOL);
        }
    }

    /**
     * ELECTRA's AdamWeightDecayOptimizer (optionally with Adam's bias correction), per element, in double.
     * The constants are rounded to float first, as TensorFlow holds them in float32 tensors (that matters:
     * 1 - 0.999f differs from 0.001 by 1.3e-5 relative).
     */
    private static final class Reference {
        final double[][] p, m, v;
        final boolean[] decay;
        final AdamWConfig c;
        int t;

        Reference(AdamWConfig config, boolean[] decay, float[]... init) {
            this.c = new AdamWConfig((float) config.beta1(), (float) config.beta2(), (float) config.eps(),
                    (float) config.weightDecay(), config.maxGradNorm(), config.biasCorrection());
            this.decay = decay;
            p = new double[init.length][];
            m = new double[init.length][];
            v = new double[init.length][];
            for (int k = 0; k < init.length; k++) {
                p[k] = Approx.toDouble(init[k]);
                m[k] = new double[init[k].length];
                v[k] = new double[init[k].length];
            }
        }

        void step(double lr, double[] multiplier, float[]... grads) {
            t++;
            double sumSq = 0;
            for (float[] g : grads) for (float x : g) sumSq += (double) x * x;
            double norm = Math.sqrt(sumSq);
            double scale = c.maxGradNorm() > 0 ? Math.min(1, c.maxGradNorm() / (norm + 1e-6)) : 1;
            double bc1 = c.biasCorrection() ? 1 - Math.pow(c.beta1(), t) : 1;
            double bc2 = c.biasCorrection() ? 1 - Math.pow(c.beta2(), t) : 1;
            for (int k = 0; k < p.length; k++) {
                for (int i = 0; i < p[k].length; i++) {
                    double g = grads[k][i] * scale;
                    m[k][i] = c.beta1() * m[k][i] + (1 - c.beta1()) * g;
                    v[k][i] = c.beta2() * v[k][i] + (1 - c.beta2()) * g * g;
                    double update = (m[k][i] / bc1) / (Math.sqrt(v[k][i] / bc2) + c.eps());
                    if (decay[k]) update += c.weightDecay() * p[k][i];
                    p[k][i] -= lr * multiplier[k] * update;
                }
            }
        }
    }

    private void severalSteps(AdamWConfig config) {
        Parameter w = param("layer.weight", true, 0.5f, -1.25f, 2f, 0f, -0.03f);
        Parameter b = param("layer.bias", false, 0.1f, -0.2f, 0.3f);
        Reference ref = new Reference(config, new boolean[] {true, false}, values(w), values(b));
        float[][][] grads = {
                {{0.3f, -0.1f, 0.05f, 0f, 0.2f}, {0.01f, 0.02f, -0.03f}},   // norm 0.38: unclipped
                {{2f, -3f, 1f, 0.5f, -1f}, {4f, -2f, 1f}},                  // norm 6.2: clipped
                {{-0.2f, 0.4f, 0f, 0.1f, 0.05f}, {0f, 0f, 0.5f}},
                {{1e-4f, -2e-4f, 3e-4f, 0f, 0f}, {1e-5f, 0f, 0f}},          // tiny: eps matters
        };
        double[] lrs = {1e-3, 2e-3, 5e-4, 1e-2};
        try (AdamW opt = new AdamW(backend, List.of(w, b), config)) {
            for (int s = 0; s < grads.length; s++) {
                backend.upload(w.grad(), grads[s][0]);
                backend.upload(b.grad(), grads[s][1]);
                opt.step(lrs[s]);
                ref.step(lrs[s], new double[] {1, 1}, grads[s]);
                Approx.assertClose("weight after step " + s, ref.p[0], Approx.toDouble(values(w)), ATOL, RTOL);
                Approx.assertClose("bias after step " + s, ref.p[1], Approx.toDouble(values(b)), ATOL, RTOL);
                Map<String, Tensor> state = opt.exportState();
                Approx.assertClose("m after step " + s, ref.m[0],
                        backend.downloadDouble(state.get("layer.weight.adam_m")), 1e-9, RTOL);
                Approx.assertClose("v after step " + s, ref.v[1],
                        backend.downloadDouble(state.get("layer.bias.adam_v")), 1e-12, RTOL);
            }
        }
    }

    @Test
    void severalElectraStepsMatchTheScalarReference() {
        severalSteps(AdamWConfig.electra());
    }

    @Test
    void severalBiasCorrectedStepsMatchTheScalarReference() {
        severalSteps(AdamWConfig.electra().withBiasCorrection(true));
    }

    @Test
    void severalStepsWithoutClippingMatchTheScalarReference() {
        severalSteps(AdamWConfig.electra().withMaxGradNorm(0));
    }

    /** With zero gradients the Adam term is 0 / (0 + eps) = 0, leaving only the decay: p (1 - lr wd). */
    @Test
    void weightDecaySkipsParametersWithoutDecay() {
        Parameter w = param("dense.weight", true, 2f, -4f);
        Parameter ln = param("LayerNorm.weight", false, 2f, -4f);
        try (AdamW opt = new AdamW(backend, List.of(w, ln), AdamWConfig.electra())) {
            opt.step(0.5);
            Approx.assertClose("decayed", new double[] {2 * (1 - 0.5 * 0.01), -4 * (1 - 0.5 * 0.01)},
                    Approx.toDouble(values(w)), ATOL, RTOL);
            assertArrayEquals(new float[] {2f, -4f}, values(ln), "no decay, no gradient: unchanged");
        }
    }

    /** Global norm of (3, 4) is 5 > 1: every gradient is scaled by 1 / (5 + 1e-6) before entering m. */
    @Test
    void clippingScalesGradientsWhenGlobalNormExceedsMax() {
        Parameter a = param("a", true, 0f);
        Parameter b = param("b", true, 0f);
        backend.upload(a.grad(), new float[] {3f});
        backend.upload(b.grad(), new float[] {4f});
        try (AdamW opt = new AdamW(backend, List.of(a, b), AdamWConfig.electra())) {
            opt.step(0);
            double scale = 1 / (5 + 1e-6);
            Approx.assertClose("m(a)", 0.1 * 3 * scale, backend.downloadFloat(opt.exportState().get("a.adam_m"))[0], 1e-9, 1e-6);
            Approx.assertClose("m(b)", 0.1 * 4 * scale, backend.downloadFloat(opt.exportState().get("b.adam_m"))[0], 1e-9, 1e-6);
            Approx.assertClose("v(b)", (1 - (double) 0.999f) * 16 * scale * scale,
                    backend.downloadFloat(opt.exportState().get("b.adam_v"))[0], 1e-12, 1e-6);
            assertEquals(5, opt.lastGradNorm(), 1e-6);
        }
    }

    @Test
    void clippingInactiveBelowTheThresholdAndWhenTurnedOff() {
        for (AdamWConfig config : List.of(AdamWConfig.electra(), AdamWConfig.electra().withMaxGradNorm(0))) {
            Parameter a = param("a", true, 0f);
            float g = config.maxGradNorm() > 0 ? 0.6f : 30f;
            backend.upload(a.grad(), new float[] {g});
            try (AdamW opt = new AdamW(backend, List.of(a), config)) {
                opt.step(0);
                Approx.assertClose("m with maxGradNorm " + config.maxGradNorm(), 0.1 * g,
                        backend.downloadFloat(opt.exportState().get("a.adam_m"))[0], 1e-9, 1e-6);
            }
        }
    }

    @Test
    void learningRateMultipliersScaleEachParametersStep() {
        Parameter emb = param("electra.embeddings.word_embeddings.weight", true, 1f, -1f);
        Parameter layer0 = param("electra.encoder.layer.0.output.dense.weight", true, 1f, -1f);
        Parameter head = param("classifier.weight", true, 1f, -1f);
        float[] g = {0.2f, 0.1f};
        for (Parameter p : List.of(emb, layer0, head)) backend.upload(p.grad(), g);
        AdamWConfig c = AdamWConfig.electra();
        // one layer, decay 0.5: embeddings 0.5^3, layer 0 0.5^2, head 1
        try (AdamW opt = new AdamW(backend, List.of(emb, layer0, head), c, LayerwiseLrDecay.multipliers(0.5, 1))) {
            opt.step(0.01);
        }
        Reference ref = new Reference(c, new boolean[] {true, true, true},
                new float[] {1f, -1f}, new float[] {1f, -1f}, new float[] {1f, -1f});
        ref.step(0.01, new double[] {0.125, 0.25, 1}, g, g, g);
        Approx.assertClose("embeddings", ref.p[0], Approx.toDouble(values(emb)), ATOL, RTOL);
        Approx.assertClose("layer 0", ref.p[1], Approx.toDouble(values(layer0)), ATOL, RTOL);
        Approx.assertClose("head", ref.p[2], Approx.toDouble(values(head)), ATOL, RTOL);
        double headDelta = 1 - values(head)[0], embDelta = 1 - values(emb)[0];
        assertEquals(0.125, embDelta / headDelta, 1e-4, "embedding step is 1/8 of the head's");
    }

    @Test
    void gradientsAreZeroedAfterEachStep() {
        Parameter p = param("w", true, 1f, 2f);
        backend.upload(p.grad(), new float[] {0.5f, -0.5f});
        try (AdamW opt = new AdamW(backend, List.of(p), AdamWConfig.electra())) {
            opt.step(1e-3);
        }
        assertArrayEquals(new float[2], backend.downloadFloat(p.grad()));
    }

    /** ELECTRA's first update runs at step 0 of the schedule, whose rate is 0: only the moments move. */
    @Test
    void firstScheduledStepOnlyMovesTheMoments() {
        Parameter p = param("w", true, 1f);
        LinearWarmupDecay schedule = new LinearWarmupDecay(1e-3, 10, 100);
        try (AdamW opt = new AdamW(backend, List.of(p), AdamWConfig.electra())) {
            backend.upload(p.grad(), new float[] {0.5f});
            opt.step(schedule);
            assertArrayEquals(new float[] {1f}, values(p));
            Approx.assertClose("m", 0.05, backend.downloadFloat(opt.exportState().get("w.adam_m"))[0], 1e-9, 1e-6);
            backend.upload(p.grad(), new float[] {0.5f});
            opt.step(schedule);
            assertTrue(values(p)[0] < 1f, "the second update (lr = 1e-4) moves the parameter");
        }
    }

    @Test
    void stateSavedToAFileResumesIdentically() throws IOException {
        float[] init = {0.5f, -0.25f, 1f};
        float[][] grads = {{0.1f, 0.2f, -0.3f}, {1f, -2f, 0.5f}, {-0.05f, 0.01f, 0.2f}};
        Parameter a = param("enc.w", true, init);
        Path file = dir.resolve("optimizer.safetensors");
        AdamW optA = new AdamW(backend, List.of(a), AdamWConfig.electra());
        for (int s = 0; s < 2; s++) {
            backend.upload(a.grad(), grads[s]);
            optA.step(1e-2);
        }
        optA.addStateTo(new SafeTensorsWriter()).write(file);

        Parameter b = param("enc.w", true, values(a));
        try (AdamW optB = new AdamW(backend, List.of(b), AdamWConfig.electra());
             SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertEquals(List.of("enc.w.adam_m", "enc.w.adam_v"), f.names());
            optB.readState(f);
            assertEquals(2, optB.steps());
            backend.upload(a.grad(), grads[2]);
            backend.upload(b.grad(), grads[2]);
            optA.step(1e-2);
            optB.step(1e-2);
            assertArrayEquals(values(a), values(b));
        }
        optA.close();
    }

    @Test
    void importStateRefusesMismatchedNames() {
        Parameter p = param("w", true, 1f, 2f);
        try (AdamW opt = new AdamW(backend, List.of(p), AdamWConfig.electra())) {
            Tensor m = backend.allocate(DType.F32, 2);
            Tensor v = backend.allocate(DType.F32, 3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> opt.importState(Map.of("w.adam_m", m, "x.adam_v", v), 5));
            assertTrue(e.getMessage().contains("missing [w.adam_v]") && e.getMessage().contains("unexpected [x.adam_v]"),
                    e.getMessage());
            backend.upload(m, new float[] {7, 8});
            Tensor v2 = backend.allocate(DType.F32, 2);
            opt.importState(Map.of("w.adam_m", m, "w.adam_v", v2), 5);
            assertEquals(5, opt.steps());
            assertArrayEquals(new float[] {7, 8}, backend.downloadFloat(opt.exportState().get("w.adam_m")));
        }
    }

    /** The backend's parameter table is built once; a bf16 copy enabled or freed later is followed, not written stale. */
    @Test
    void bf16CopiesEnabledOrDisabledAfterConstructionAreFollowed() {
        Parameter w = param("w", true, 1f, -2f, 3f), b = param("b", false, 0.5f);
        try (AdamW opt = new AdamW(backend, List.of(w, b), AdamWConfig.electra())) {
            backend.upload(w.grad(), new float[] {0.1f, 0.2f, -0.3f});
            opt.step(1e-2);
            w.enableBf16Copy();
            backend.fill(w.bf16Copy(), 0);  // the step must refresh it
            backend.upload(w.grad(), new float[] {0.3f, -0.2f, 0.1f});
            opt.step(1e-2);
            float[] master = values(w), copy = backend.downloadFloat(w.bf16Copy());
            for (int i = 0; i < master.length; i++) {
                assertEquals(Float.floatToIntBits(HalfFloats.roundToBf16(master[i])), Float.floatToIntBits(copy[i]), "copy " + i);
            }
            w.disableBf16Copy();
            backend.upload(w.grad(), new float[] {0.1f, 0.1f, 0.1f});
            opt.step(1e-2);  // no write into the freed copy
            assertEquals(3, opt.steps());
            assertArrayEquals(new float[3], backend.downloadFloat(w.grad()), "gradients zeroed");
        }
    }

    @Test
    void nonF32ParametersAndDuplicatesAreRefused() {
        Parameter f64 = new Parameter(backend, DType.F64, "d", true, 2);
        assertThrows(IllegalArgumentException.class, () -> new AdamW(backend, List.of(f64), AdamWConfig.electra()));
        Parameter p = param("w", true, 1f);
        assertThrows(IllegalArgumentException.class, () -> new AdamW(backend, List.of(p, p), AdamWConfig.electra()));
    }
}
