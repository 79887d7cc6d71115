package io.electra.cli;

import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.io.SafeTensorsWriter;
import io.electra.engine.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code electra forward} reproduces HuggingFace's outputs from the fixture folders and an inputs file. */
class ForwardCommandTest {

    @Test
    void writesHuggingFaceOutputsAndGradients(@TempDir Path tmp) throws Exception {
        Path dir = SharedData.path("fixtures/hf-electra/tiny");
        Path out = tmp.resolve("out.safetensors");
        int code = ElectraCli.commandLine().execute("forward", "--generator", dir.resolve("generator").toString(),
                "--discriminator", dir.resolve("discriminator").toString(),
                "--inputs", dir.resolve("expected.safetensors").toString(), "--out", out.toString(), "--grads");
        assertEquals(0, code);
        try (SafeTensorsFile got = SafeTensorsFile.open(out); SafeTensorsFile exp = SafeTensorsFile.open(dir.resolve("expected.safetensors"))) {
            for (String name : new String[]{"generator_logits", "discriminator_logits", "generator_loss", "discriminator_loss", "total_loss"}) {
                assertClose(name, exp.readFloat(name), got.readFloat(name), 2e-5, 1e-5);
            }
            int grads = 0;
            for (String name : exp.names()) {
                if (!name.startsWith("grad.total.")) continue;
                grads++;
                assertTrue(got.contains(name), "missing " + name);
                float[] ref = exp.readFloat(name);
                double max = 0;
                for (float r : ref) max = Math.max(max, Math.abs(r));
                assertClose(name, ref, got.readFloat(name), name.endsWith("key.bias") ? 1e-6 : 5e-5 * max + 1e-7, 0);
            }
            assertEquals(86, grads, "43 + 43 names, the tied generator_lm_head.weight among the generator's");
        }
    }

    @Test
    void missingInputTensorIsNamed(@TempDir Path tmp) throws Exception {
        Path dir = SharedData.path("fixtures/hf-electra/tiny");
        Path inputs = tmp.resolve("in.safetensors");
        new SafeTensorsWriter().add("input_ids", new int[]{101, 102}, 1, 2).write(inputs);
        StringWriter err = new StringWriter();
        var cl = ElectraCli.commandLine();
        cl.setErr(new PrintWriter(err));
        int code = cl.execute("forward", "--generator", dir.resolve("generator").toString(),
                "--discriminator", dir.resolve("discriminator").toString(), "--inputs", inputs.toString(),
                "--out", tmp.resolve("o.safetensors").toString());
        assertEquals(1, code);
        assertTrue(err.toString().contains("missing tensor 'attention_mask'"), err.toString());
    }

    static void assertClose(String name, float[] ref, float[] got, double atol, double rtol) {
        assertEquals(ref.length, got.length, name + " length");
        for (int i = 0; i < ref.length; i++) {
            double tol = atol + rtol * Math.abs(ref[i]);
            assertTrue(Math.abs(ref[i] - got[i]) <= tol, name + "[" + i + "]: got " + got[i] + ", HF " + ref[i]);
        }
    }
}
