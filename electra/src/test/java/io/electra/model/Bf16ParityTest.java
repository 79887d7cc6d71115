package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.Precision;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Tape;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.HalfFloats;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.nn.Parameter;
import io.electra.engine.optim.AdamW;
import io.electra.engine.optim.AdamWConfig;
import io.electra.engine.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The bf16 mixed-precision ELECTRA (CPU emulation) on the tiny fixture, against the fp32 run and
 * HuggingFace. The tolerance comes from bf16's unit roundoff U = 2^-8 (8-bit significand): a
 * rounding moves a value by at most U of itself, and a GEMM with both operands rounded moves its
 * output by at most 2U sum_k |a_k b_k| (f32 accumulation adds only ~K 2^-24). Counting the roundings
 * on the longest forward path of tiny (per layer: q/k/v 2, attention inputs, probabilities and
 * output 3, attention projection 2, the two FFN GEMMs 4; two layers; then the embedding projection,
 * the head's dense and the output GEMM, 2 each) gives R = 28; the worst-case first-order bound, with
 * LayerNorm and the residuals neither amplifying nor damping, is R U max|ref| per tensor. Gradients
 * add the rounded output gradient into every backward GEMM and run the path twice: 2R U max|ref|.
 * The fp32 run itself is within 1e-5 of HF (HfParityTest), negligible against these.
 */
class Bf16ParityTest {
    private static final double U = 0x1p-8;
    private static final int R = 28;

    /** What one forward and backward on the fixture batch gave. */
    record Result(Map<String, float[]> values, Map<String, float[]> grads) {
    }

    @Test
    void bf16ForwardAndBackwardStayWithinTheRoundingBoundOfFp32AndHuggingFace() throws Exception {
        Path dir = SharedData.path("fixtures/hf-electra/tiny");
        try (Backend b = new CpuBackend(); SafeTensorsFile exp = SafeTensorsFile.open(dir.resolve("expected.safetensors"))) {
            ElectraPretraining m = ElectraPretraining.fromHf(b, dir.resolve("generator"), dir.resolve("discriminator"), 50f);
            HfParityTest.FixtureBatch batch = HfParityTest.FixtureBatch.read(b, exp);
            Result fp32 = run(b, m, batch, Precision.FP32);
            m.usePrecision(Precision.BF16);
            Result bf16 = run(b, m, batch, Precision.BF16);

            List<String> failures = new ArrayList<>();
            StringBuilder report = new StringBuilder();
            double logitsDeviation = 0;
            for (String name : fp32.values().keySet()) {
                float[] ref = fp32.values().get(name), got = bf16.values().get(name);
                double dev = check(failures, report, "vs fp32 " + name, ref, got, R);
                if (name.equals("discriminator_logits")) logitsDeviation = dev;
                String hf = name.equals("generator_logits_masked") ? null : name;
                if (hf != null) check(failures, report, "vs HF " + name, exp.readFloat(hf), got, R);
            }
            for (var e : fp32.grads().entrySet()) {
                String key = e.getKey();
                if (key.endsWith("attention.self.key.bias")) continue; // analytically zero: rounding noise only
                float[] got = bf16.grads().get(key);
                check(failures, report, "grad vs fp32 " + key, e.getValue(), got, 2 * R);
                check(failures, report, "grad vs HF " + key, exp.readFloat("grad.total." + key), got, 2 * R);
            }
            System.out.println("bf16 vs fp32 / HF, max|d| / max|ref| in units of U = 2^-8:\n" + report);
            if (!failures.isEmpty()) fail(failures.size() + " over the bound:\n" + String.join("\n", failures));
            // bf16 must really be in use: the logits pass through every rounding counted above, while a path
            // that silently ran in fp32 would leave them within 1e-6 of the fp32 run, about U/4000.
            assertTrue(logitsDeviation > U / 2, "bf16 logits deviate from fp32 by max|d|/max|ref| " + logitsDeviation);
        }
    }

    /** Forward on the fixture batch with its fixed samples, backward of the total; parameters' gradients zeroed first. */
    static Result run(Backend b, ElectraPretraining m, HfParityTest.FixtureBatch batch, Precision precision) {
        Tape tape = new Tape(b);
        Ops ops = new Ops(tape);
        ops.setPrecision(precision);
        for (Parameter p : m.parameters()) p.zeroGrad();
        Map<String, float[]> values = new LinkedHashMap<>();
        ElectraPretraining.Output out = m.forward(ops, batch.inputs(), batch.masking(), batch.sampled(), null, null);
        values.put("discriminator_logits", b.downloadFloat(out.discriminatorLogits().value()));
        values.put("generator_loss", b.downloadFloat(out.generatorLoss().value()));
        values.put("discriminator_loss", b.downloadFloat(out.discriminatorLoss().value()));
        values.put("total_loss", b.downloadFloat(out.total().value()));
        values.put("generator_logits_masked", b.downloadFloat(out.generatorLogits().value()));
        tape.backward(out.total());
        Map<String, float[]> grads = new LinkedHashMap<>();
        m.generator.namedParameters().forEach((n, p) -> grads.put("generator." + n, b.downloadFloat(p.grad())));
        m.discriminator.namedParameters().forEach((n, p) -> grads.put("discriminator." + n, b.downloadFloat(p.grad())));
        tape.reset();
        b.resetArena();
        return new Result(values, grads);
    }

    /** max|got - ref| <= rounds U max|ref|; returns max|d| / max|ref|. */
    private static double check(List<String> failures, StringBuilder report, String what, float[] ref, float[] got, int rounds) {
        double maxRef = 0, maxDiff = 0;
        for (int i = 0; i < ref.length; i++) {
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
            maxDiff = Math.max(maxDiff, Math.abs(got[i] - ref[i]));
        }
        double rel = maxDiff / maxRef;
        report.append(String.format("  %-90s %.3f%n", what, rel / U));
        if (!(rel <= rounds * U)) failures.add(what + ": max|d| " + maxDiff + " > " + rounds + " U max|ref| = " + rounds * U * maxRef);
        return rel;
    }

    @Test
    void weightCopiesFollowTheMastersThroughAdamWAndLoads(@TempDir Path tmp) throws Exception {
        Path dir = SharedData.path("fixtures/hf-electra/tiny");
        try (Backend b = new CpuBackend(); SafeTensorsFile exp = SafeTensorsFile.open(dir.resolve("expected.safetensors"))) {
            ElectraPretraining m = ElectraPretraining.fromHf(b, dir.resolve("generator"), dir.resolve("discriminator"), 50f);
            m.usePrecision(Precision.BF16);
            HfParityTest.FixtureBatch batch = HfParityTest.FixtureBatch.read(b, exp);
            List<Parameter> withCopy = m.parameters().stream().filter(p -> p.bf16Copy() != null).toList();
            // every Linear weight (discriminator: projection, 2 x 6 in the layers, 2 in the head; generator:
            // 2 x 6 and the head's dense) plus the tied output projection, the word embeddings
            assertEquals((1 + 12 + 2) + (12 + 1) + 1, withCopy.size(), "bf16 copies: " + withCopy.stream().map(Parameter::name).toList());
            assertNotNull(m.generator.lmHeadWeight().bf16Copy());
            assertNull(m.discriminator.electra.embeddings.positionEmbeddings.weight.bf16Copy(), "lookup-only tables keep no copy");

            try (AdamW opt = new AdamW(b, m.parameters(), AdamWConfig.electra())) {
                for (int step = 0; step < 3; step++) {
                    float loss = run(b, m, batch, Precision.BF16).values().get("total_loss")[0];
                    opt.step(1e-3);
                    assertCopiesAreRoundedMasters(b, withCopy, "after step " + (step + 1));
                    // forward with the copies as AdamW left them == forward with copies made afresh
                    float again = run(b, m, batch, Precision.BF16).values().get("total_loss")[0];
                    for (Parameter p : withCopy) p.refreshBf16Copy();
                    float fresh = run(b, m, batch, Precision.BF16).values().get("total_loss")[0];
                    assertEquals(Float.floatToIntBits(fresh), Float.floatToIntBits(again), "the copies were current");
                    assertTrue(again != loss, "the step changed the bf16 forward");
                    for (Parameter p : m.parameters()) p.zeroGrad();
                }
            }
            // a checkpoint holds the F32 masters only, and reloads into an fp32 model bit for bit
            m.saveHf(tmp);
            try (SafeTensorsFile f = SafeTensorsFile.open(tmp.resolve("discriminator/model.safetensors"))) {
                for (String n : f.names()) assertTrue(!n.contains("bf16"), "checkpoint tensor " + n);
            }
            ElectraPretraining back = ElectraPretraining.fromHf(b, tmp.resolve("generator"), tmp.resolve("discriminator"), 50f);
            Map<String, Parameter> saved = m.discriminator.namedParameters(), loaded = back.discriminator.namedParameters();
            for (var e : saved.entrySet()) {
                float[] x = b.downloadFloat(e.getValue().value()), y = b.downloadFloat(loaded.get(e.getKey()).value());
                for (int i = 0; i < x.length; i++) {
                    assertEquals(Float.floatToIntBits(x[i]), Float.floatToIntBits(y[i]), e.getKey() + "[" + i + "]");
                }
            }
            m.usePrecision(Precision.FP32);
            assertNull(m.generator.lmHeadWeight().bf16Copy());
            float[] a = run(b, m, batch, Precision.FP32).values().get("total_loss");
            float[] c = run(b, back, batch, Precision.FP32).values().get("total_loss");
            assertEquals(Float.floatToIntBits(a[0]), Float.floatToIntBits(c[0]), "fp32 loss of the bf16-trained weights, reloaded");
            // a load into a bf16 model refreshes its copies
            back.usePrecision(Precision.BF16);
            for (Parameter p : back.parameters()) if (p.bf16Copy() != null) b.fill(p.bf16Copy(), 0);
            back.loadHf(tmp.resolve("generator"), tmp.resolve("discriminator"));
            assertCopiesAreRoundedMasters(b, back.parameters().stream().filter(p -> p.bf16Copy() != null).toList(), "after loadHf");
        }
    }

    private static void assertCopiesAreRoundedMasters(Backend b, List<Parameter> params, String when) {
        for (Parameter p : params) {
            float[] master = b.downloadFloat(p.value()), copy = b.downloadFloat(p.bf16Copy());
            for (int i = 0; i < master.length; i++) {
                if (Float.floatToIntBits(HalfFloats.roundToBf16(master[i])) != Float.floatToIntBits(copy[i])) {
                    fail(when + ": " + p.name() + "[" + i + "] copy " + copy[i] + ", master " + master[i] + " rounds to "
                            + HalfFloats.roundToBf16(master[i]));
                }
            }
        }
    }
}
