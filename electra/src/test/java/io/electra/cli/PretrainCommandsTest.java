package io.electra.cli;

import io.electra.engine.testing.SharedData;
import io.electra.device.Devices;
import io.electra.pretrain.TestShards;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The pre-training commands end to end: pretrain, continue from HF folders, detect, and their errors. */
class PretrainCommandsTest {
    @TempDir
    static Path tmp;
    static Path shards, run;
    static String setupLog;

    @BeforeAll
    static void pretrainTwoSteps() throws Exception {
        shards = TestShards.prepare(tmp, 300, 64);
        run = tmp.resolve("run");
        Result r = exec("pretrain", "--data", shards.toString(), "--preset", "tiny", "--out", run.toString(), "--steps", "2",
                "--batch", "4", "--device", "cpu", "--log-every", "1", "--validate-every", "0");
        assertEquals(0, r.code, r.err);
        setupLog = r.err;
    }

    @Test
    void continuesPreTrainingFromHuggingFaceFolders() {
        Path ckpt = run.resolve("checkpoints/checkpoint-000000002");
        Result r = exec("pretrain", "--data", shards.toString(), "--preset", "tiny", "--out", tmp.resolve("adapted").toString(),
                "--steps", "1", "--batch", "4", "--device", "cpu", "--validate-every", "0",
                "--init-from", ckpt.resolve("generator") + "," + ckpt.resolve("discriminator"));
        assertEquals(0, r.code, r.err);
        assertTrue(r.err.contains("finished at step 1"), r.err);
    }

    @Test
    void precisionDefaultsToFp32OnTheCpuAndBf16IsAnEmulation() throws Exception {
        assertTrue(exec("pretrain", "--help").out.contains("--precision"));
        assertTrue(setupLog.contains("precision fp32"), "the default on the CPU is reported: " + setupLog);
        Path out = tmp.resolve("bf16");
        Result r = exec("pretrain", "--data", shards.toString(), "--preset", "tiny", "--out", out.toString(), "--steps", "1",
                "--batch", "4", "--device", "cpu", "--validate-every", "0", "--precision", "bf16");
        assertEquals(0, r.code, r.err);
        assertTrue(r.err.contains("precision bf16 (emulated on the CPU for testing"), r.err);
        assertTrue(java.nio.file.Files.readString(out.resolve("metrics.jsonl")).contains("\"precision\":\"bf16\""));
        Result bad = exec("pretrain", "--data", shards.toString(), "--preset", "tiny", "--out", out.toString(), "--steps", "1",
                "--device", "cpu", "--precision", "fp16");
        assertEquals(1, bad.code);
        assertTrue(bad.err.contains("unknown precision 'fp16' (expected fp32 or bf16)"), bad.err);
    }

    @Test
    void initFromAModelWithASmallerVocabIsAClearError() {
        Path fixture = SharedData.path("fixtures/hf-electra/tiny");
        Result r = exec("pretrain", "--data", shards.toString(), "--preset", "tiny", "--out", tmp.resolve("bad").toString(),
                "--steps", "1", "--device", "cpu",
                "--init-from", fixture.resolve("generator") + "," + fixture.resolve("discriminator"));
        assertEquals(1, r.code);
        assertTrue(r.err.contains("vocab of 30522 tokens") && r.err.contains("vocab_size 1000"), r.err);
    }

    @Test
    void shardsFromAnotherVocabAreRefused() {
        Result r = exec("pretrain", "--data", shards.toString(), "--preset", "tiny", "--out", tmp.resolve("cased").toString(),
                "--steps", "1", "--device", "cpu", "--vocab", SharedData.path("data/vocab/bert-base-cased-vocab.txt").toString());
        assertEquals(1, r.code);
        assertTrue(r.err.contains("vocab sha256"), r.err);
    }

    @Test
    void detectPrintsAProbabilityPerToken() {
        Result r = exec("detect", "--model", run.resolve("checkpoints/checkpoint-000000002").toString(),
                "--vocab", shards.resolve("vocab.txt").toString(), "--device", "cpu", "the cat sat on the mat");
        assertEquals(0, r.code, r.err);
        Matcher m = Pattern.compile("^\\s+(\\S+)\\s+([01]\\.\\d{3})", Pattern.MULTILINE).matcher(r.out);
        int tokens = 0;
        while (m.find()) {
            double p = Double.parseDouble(m.group(2));
            assertTrue(p >= 0 && p <= 1);
            tokens++;
        }
        assertEquals(8, tokens, "[CLS] the cat sat on the mat [SEP]:\n" + r.out);
    }

    @Test
    void finetunesFromOurOwnPreTrainingCheckpoint() throws Exception {
        Path out = tmp.resolve("sst2");
        Result r = exec("finetune", "--task", "sst2", "--model", run.resolve("checkpoints/checkpoint-000000002").toString(),
                "--data", SharedData.path("data/glue/SST-2").toString(), "--out", out.toString(), "--epochs", "1",
                "--max-train-examples", "64", "--batch", "16", "--max-length", "32", "--device", "cpu", "--no-progress-bar");
        assertEquals(0, r.code, r.err);
        assertTrue(java.nio.file.Files.isRegularFile(out.resolve("metrics.json")), "metrics.json written");
        assertTrue(java.nio.file.Files.isRegularFile(out.resolve("best/model.safetensors")), "best model written");
        assertTrue(java.nio.file.Files.isRegularFile(out.resolve("best/vocab.txt")), "the vocab travels with the model");
    }

    @Test
    void askingForCudaWithoutADeviceIsAClearError() {
        var e = assertThrows(IllegalStateException.class, () -> Devices.select("cuda", new PrintStream(new ByteArrayOutputStream())));
        assertTrue(e.getMessage().startsWith("--device cuda: "), e.getMessage());
    }

    record Result(int code, String out, String err) {
    }

    static Result exec(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        PrintStream oldOut = System.out, oldErr = System.err;
        ByteArrayOutputStream sysOut = new ByteArrayOutputStream(), sysErr = new ByteArrayOutputStream();
        System.setOut(new PrintStream(sysOut, true));
        System.setErr(new PrintStream(sysErr, true));
        int code;
        try {
            var cl = ElectraCli.commandLine();
            cl.setOut(new PrintWriter(out, true));
            cl.setErr(new PrintWriter(err, true));
            code = cl.execute(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Result(code, out + sysOut.toString(), err + sysErr.toString());
    }
}
