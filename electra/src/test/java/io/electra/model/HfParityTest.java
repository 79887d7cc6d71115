package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Tape;
import io.electra.engine.autograd.Var;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.nn.Parameter;
import io.electra.engine.testing.SharedData;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Our ELECTRA against HuggingFace's own, on the fixtures' weights and batch: every activation,
 * both logits, the three losses and the gradient of the total loss, within the fixture README's
 * suggested float32 tolerances.
 */
class HfParityTest {

    @Test
    void tinyMatchesHuggingFaceEverywhere() throws Exception {
        check("tiny", true);
    }

    @Test
    void small2lMatchesHuggingFace() throws Exception {
        check("small2l", false);
    }

    private void check(String config, boolean everyGradient) throws Exception {
        Path dir = SharedData.path("fixtures/hf-electra/" + config);
        try (Backend b = new CpuBackend(); SafeTensorsFile exp = SafeTensorsFile.open(dir.resolve("expected.safetensors"))) {
            ElectraPretraining m = ElectraPretraining.fromHf(b, dir.resolve("generator"), dir.resolve("discriminator"), 50f);
            FixtureBatch batch = FixtureBatch.read(b, exp);
            Tape tape = new Tape(b);
            Ops ops = new Ops(tape);
            List<String> failures = new ArrayList<>();

            // generator at every position (HF computes logits for all rows), no gradient
            Map<String, Tensor> genTrace = new HashMap<>();
            try (var s = tape.noGrad()) {
                Var all = m.generator.logits(ops, batch.inputs.withIds(batch.masking.generatorIds()), null, genTrace);
                compare(failures, "generator_logits", b.downloadFloat(all.value()), exp.readFloat("generator_logits"));
            }
            for (var e : genTrace.entrySet()) compareTrace(failures, b, exp, e.getKey(), e.getValue());

            // the training forward: masked rows only, fixed samples, then backward of the total
            Map<String, Tensor> trace = new HashMap<>();
            ElectraPretraining.Output out = m.forward(ops, batch.inputs, batch.masking, batch.sampled, null, trace);
            for (var e : trace.entrySet()) if (e.getKey().startsWith("discriminator")) compareTrace(failures, b, exp, e.getKey(), e.getValue());
            compare(failures, "discriminator_logits", b.downloadFloat(out.discriminatorLogits().value()),
                    exp.readFloat("discriminator_logits"));
            assertEquals(toFloat(exp.readInt("discriminator_input_ids")).length, out.discriminatorIds().size());
            compareExact(failures, "discriminator_input_ids", b.downloadInt(out.discriminatorIds()), exp.readInt("discriminator_input_ids"));
            compareExact(failures, "discriminator_labels", toInt(b.downloadFloat(out.labels())), exp.readInt("discriminator_labels"));
            compareLoss(failures, "generator_loss", b.downloadFloat(out.generatorLoss().value())[0], exp.readFloat("generator_loss")[0]);
            compareLoss(failures, "discriminator_loss", b.downloadFloat(out.discriminatorLoss().value())[0], exp.readFloat("discriminator_loss")[0]);
            compareLoss(failures, "total_loss", b.downloadFloat(out.total().value())[0], exp.readFloat("total_loss")[0]);

            tape.backward(out.total());
            int checked = 0;
            checked += compareGrads(failures, b, exp, "generator", m.generator.namedParameters());
            checked += compareGrads(failures, b, exp, "discriminator", m.discriminator.namedParameters());
            if (everyGradient) {
                assertEquals(m.generator.namedParameters().size() + m.discriminator.namedParameters().size(), checked,
                        "every parameter of both models has a reference gradient");
            } else {
                assertTrue(checked >= 8, "the listed small2l gradients were compared, got " + checked);
            }
            if (!failures.isEmpty()) fail(failures.size() + " mismatches:\n" + String.join("\n", failures));
        }
    }

    /** The fixture batch as device tensors and the masking the fixture used. */
    record FixtureBatch(ElectraInputs inputs, ElectraPretraining.DeviceMasking masking, Tensor sampled) {
        static FixtureBatch read(Backend b, SafeTensorsFile f) {
            int[] shape = f.entry("input_ids").shape();
            int batch = shape[0], seq = shape[1];
            ElectraInputs in = ElectraInputs.upload(b, batch, seq, f.readInt("input_ids"), f.readInt("token_type_ids"),
                    f.readInt("attention_mask"));
            int[] pos = f.readInt("mlm_positions");
            int k = pos.length / 2;
            int[] rows = new int[k], targets = new int[k];
            int[] ids = f.readInt("input_ids");
            for (int i = 0; i < k; i++) {
                rows[i] = pos[2 * i] * seq + pos[2 * i + 1];
                targets[i] = ids[rows[i]];
            }
            Masking.Batch mb = new Masking.Batch(f.readInt("generator_input_ids"), rows, targets, rows.clone());
            Tensor sampled = b.allocate(DType.I32, k);
            b.upload(sampled, f.readInt("sampled_ids"));
            return new FixtureBatch(in, ElectraPretraining.DeviceMasking.upload(b, mb, batch, seq), sampled);
        }
    }

    private static void compareTrace(List<String> failures, Backend b, SafeTensorsFile exp, String name, Tensor t) {
        if (!exp.contains(name)) {
            failures.add("trace tensor " + name + " has no reference in the fixture");
            return;
        }
        compare(failures, name, b.downloadFloat(t), exp.readFloat(name));
    }

    /** activations and logits: |d| <= 2e-5 + 1e-5 |ref| (README). */
    private static void compare(List<String> failures, String name, float[] got, float[] ref) {
        if (got.length != ref.length) {
            failures.add(name + ": " + got.length + " values, reference has " + ref.length);
            return;
        }
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < got.length; i++) {
            double tol = 2e-5 + 1e-5 * Math.abs(ref[i]);
            double d = Math.abs(got[i] - ref[i]);
            if (!(d <= tol) && (worst < 0 || d - tol > worstExcess)) {
                worst = i;
                worstExcess = d - tol;
            }
        }
        if (worst >= 0) failures.add(name + "[" + worst + "]: got " + got[worst] + ", HF " + ref[worst]);
    }

    private static void compareLoss(List<String> failures, String name, float got, float ref) {
        if (!(Math.abs(got - ref) <= 1e-5 * Math.abs(ref))) failures.add(name + ": got " + got + ", HF " + ref);
    }

    private static void compareExact(List<String> failures, String name, int[] got, int[] ref) {
        if (!java.util.Arrays.equals(got, ref)) {
            failures.add(name + ": got " + java.util.Arrays.toString(got) + ", HF " + java.util.Arrays.toString(ref));
        }
    }

    /** gradients: max|d| <= 5e-5 max|ref| + 1e-7 per tensor; attention key biases absolute 1e-6. */
    private static int compareGrads(List<String> failures, Backend b, SafeTensorsFile exp, String model,
                                    Map<String, Parameter> params) {
        int checked = 0;
        for (var e : params.entrySet()) {
            String key = "grad.total." + model + "." + e.getKey();
            if (!exp.contains(key)) {
                // small2l stores the shared embedding gradients once, under the discriminator
                key = "grad.total.discriminator." + e.getKey();
                if (!e.getKey().startsWith("electra.embeddings.") || !exp.contains(key)) continue;
            }
            checked++;
            float[] ref = exp.readFloat(key);
            float[] got = b.downloadFloat(e.getValue().grad());
            double maxRef = 0, maxDiff = 0;
            int at = 0;
            for (int i = 0; i < ref.length; i++) {
                maxRef = Math.max(maxRef, Math.abs(ref[i]));
                double d = Math.abs(got[i] - ref[i]);
                if (d > maxDiff) {
                    maxDiff = d;
                    at = i;
                }
            }
            boolean keyBias = e.getKey().endsWith("attention.self.key.bias");
            double tol = keyBias ? 1e-6 : 5e-5 * maxRef + 1e-7;
            if (!(maxDiff <= tol)) {
                failures.add(key + "[" + at + "]: got " + got[at] + ", HF " + ref[at] + " (max|d| " + maxDiff
                        + " > tol " + tol + ")");
            }
        }
        return checked;
    }

    private static float[] toFloat(int[] a) {
        float[] f = new float[a.length];
        for (int i = 0; i < a.length; i++) f[i] = a[i];
        return f;
    }

    private static int[] toInt(float[] a) {
        int[] r = new int[a.length];
        for (int i = 0; i < a.length; i++) r[i] = Math.round(a[i]);
        return r;
    }
}
