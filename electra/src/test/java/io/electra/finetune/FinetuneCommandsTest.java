package io.electra.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.electra.cli.FinetuneCommand;
import io.electra.cli.PredictCommand;
import io.electra.engine.testing.SharedData;
import io.electra.glue.GlueTask;
import io.electra.model.ElectraConfig;
import io.electra.model.HfFolder;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The commands on tiny runs (a few dozen rows, one epoch): what they write, not how well they learn
 * ({@link Sst2FinetuneTest} covers that).
 */
class FinetuneCommandsTest {
    private static final PrintStream QUIET = new PrintStream(new ByteArrayOutputStream());

    @TempDir
    static Path tmp;
    static Path model;
    static Path vocab;

    @BeforeAll
    static void randomDiscriminator() throws IOException {
        vocab = SharedData.path("data/vocab/bert-base-uncased-vocab.txt");
        model = TinyDiscriminator.save(TinyDiscriminator.config(30522), tmp.resolve("random-discriminator"), 3);
    }

    private static int run(Object command, String... args) {
        CommandLine cl = new CommandLine(command);
        cl.setErr(new java.io.PrintWriter(System.err, true));
        return cl.execute(args);
    }

    @Test
    void mrpcWithTwoSeedsWritesEachRunTheMedianAndSubmissionFilesMatchingEvaluation() throws Exception {
        Path glue = SharedData.path("data/glue/MRPC");
        Path out = tmp.resolve("mrpc");
        assertEquals(0, run(new FinetuneCommand(), "--task", "mrpc", "--model", model.toString(), "--data", glue.toString(),
                "--out", out.toString(), "--vocab", vocab.toString(), "--epochs", "1", "--batch", "16", "--max-length", "32",
                "--seeds", "1,2", "--device", "cpu", "--max-train-examples", "40", "--no-progress-bar"));

        ObjectMapper json = new ObjectMapper();
        double[] scores = new double[2];
        for (int s = 1; s <= 2; s++) {
            JsonNode metrics = json.readTree(out.resolve("seed-" + s + "/metrics.json").toFile());
            assertEquals(s, metrics.get("seed").asInt());
            assertEquals(80, metrics.get("config").get("train_examples").asInt(), "40 rows, each also swapped");
            JsonNode dev = metrics.get("best").get("dev").get("MRPC");
            for (String key : List.of("f1", "accuracy", "combined")) assertTrue(dev.has(key), dev.toString());
            assertEquals((dev.get("f1").asDouble() + dev.get("accuracy").asDouble()) / 2, dev.get("combined").asDouble(), 1e-12);
            scores[s - 1] = metrics.get("best").get("score").asDouble();
            assertTrue(Files.isRegularFile(out.resolve("seed-" + s + "/best/model.safetensors")));
        }
        JsonNode summary = json.readTree(out.resolve("summary.json").toFile());
        assertEquals("combined", summary.get("metric").asText());
        assertEquals(2, summary.get("runs").size());
        assertEquals((scores[0] + scores[1]) / 2, summary.get("median").asDouble(), 1e-12);

        // a test file made of the dev rows: the submission's labels are the evaluation's argmax
        Path best = out.resolve("seed-1/best");
        Path testDir = Files.createDirectories(tmp.resolve("mrpc-test"));
        List<String> dev = Files.readAllLines(glue.resolve("dev.tsv"), StandardCharsets.UTF_8);
        List<String> test = new ArrayList<>();
        test.add("index\t#1 ID\t#2 ID\t#1 String\t#2 String");
        for (int i = 1; i < dev.size(); i++) test.add((i - 1) + dev.get(i).substring(dev.get(i).indexOf('\t')));
        Files.write(testDir.resolve("test.tsv"), test, StandardCharsets.UTF_8);
        Path submissions = tmp.resolve("mrpc-submission");
        assertEquals(0, run(new PredictCommand(), "--task", "MRPC", "--model", best.toString(), "--data", testDir.toString(),
                "--out", submissions.toString(), "--device", "cpu"));
        List<String> written = Files.readAllLines(submissions.resolve("MRPC.tsv"));
        assertEquals("index\tprediction", written.get(0));
        assertEquals(dev.size(), written.size());
        Evaluation.Result eval = Evaluation.run(new InferenceOptions(GlueTask.MRPC, best, glue.resolve("dev.tsv"), null, null,
                64, null, "cpu", false), QUIET);
        int[] argmax = Scoring.argmax(eval.logits());
        for (int i = 1; i < written.size(); i++) {
            assertEquals((i - 1) + "\t" + argmax[i - 1], written.get(i), "submission line " + (i + 1));
        }

        // the model has two outputs: MNLI's three labels cannot use it
        IOException e = assertThrows(IOException.class, () -> Evaluation.run(new InferenceOptions(GlueTask.MNLI, best,
                glue.resolve("dev.tsv"), null, null, 64, null, "cpu", false), QUIET));
        assertTrue(e.getMessage().contains("2 output(s)") && e.getMessage().contains("mnli needs 3"), e.getMessage());
    }

    @Test
    void stsbTrainsARegressionHeadSavedAsHuggingFaceRegression() throws Exception {
        // STS-B's shared folder has no dev file: train on 48 rows, score on the next 48
        List<String> lines = Files.readAllLines(SharedData.path("data/glue/STS-B/train.tsv"), StandardCharsets.UTF_8);
        Path data = Files.createDirectories(tmp.resolve("stsb-data"));
        Files.write(data.resolve("train.tsv"), lines.subList(0, 49), StandardCharsets.UTF_8);
        List<String> dev = new ArrayList<>(lines.subList(49, 97));
        dev.add(0, lines.get(0));
        Files.write(data.resolve("dev.tsv"), dev, StandardCharsets.UTF_8);
        Path out = tmp.resolve("stsb");
        FinetuneOptions o = FinetuneOptions.builder(GlueTask.STSB, model, data, out).vocab(vocab).epochs(1).batch(16)
                .maxLength(32).device("cpu").progressBar(false).build();
        RunResult r = Finetuning.run(o, QUIET).get(0);

        Map<String, Double> m = r.bestMetrics().get("STS-B");
        assertEquals(List.of("pearson", "spearman", "combined"), List.copyOf(m.keySet()));
        ElectraConfig saved = HfFolder.readConfig(out.resolve("best"));
        assertEquals(1, saved.numLabels);
        assertEquals("regression", saved.problemType);
        assertEquals(Map.of("0", "LABEL_0"), saved.id2label);
        List<String> predictions = Files.readAllLines(out.resolve("dev_predictions.tsv"));
        assertEquals(49, predictions.size());
        for (String line : predictions.subList(1, 49)) {
            String[] f = line.split("\t");
            assertTrue(Float.isFinite(Float.parseFloat(f[1])) && Float.parseFloat(f[2]) >= 0, line);
        }
        assertEquals(96, new ObjectMapper().readTree(out.resolve("metrics.json").toFile())
                .get("config").get("train_examples").asInt(), "STS-B trains on both sentence orders");
    }

    /**
     * bf16 mixed precision (emulated on the CPU) trains the same model as fp32 up to bf16 rounding:
     * the epoch loss differs (bf16 really ran) but by far less than the loss itself, the precision
     * is recorded, and the saved classifier holds the F32 masters, no bf16 copy.
     */
    @Test
    void bf16FinetuningTracksFp32AndIsRecorded() throws Exception {
        Path glue = SharedData.path("data/glue/MRPC");
        double[] loss = new double[2];
        String[] precisions = {"fp32", "bf16"};
        for (int i = 0; i < 2; i++) {
            Path out = tmp.resolve("mrpc-" + precisions[i]);
            assertEquals(0, run(new FinetuneCommand(), "--task", "mrpc", "--model", model.toString(), "--data", glue.toString(),
                    "--out", out.toString(), "--vocab", vocab.toString(), "--epochs", "1", "--batch", "16", "--max-length", "32",
                    "--device", "cpu", "--max-train-examples", "40", "--no-progress-bar", "--precision", precisions[i]));
            JsonNode metrics = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
            assertEquals(precisions[i], metrics.get("config").get("precision").asText());
            loss[i] = metrics.get("epochs").get(0).get("train_loss").asDouble();
            try (var f = io.electra.engine.io.SafeTensorsFile.open(out.resolve("best/model.safetensors"))) {
                for (String n : f.names()) assertTrue(!f.entry(n).dtype().name().equals("BF16"), n + " saved as bf16");
            }
        }
        assertTrue(loss[0] != loss[1], "bf16 ran with the same roundings as fp32: " + loss[0]);
        // 5 updates of a 3-layer model: bf16 roundings (2^-8 relative) move the mean loss by well under 1%
        assertEquals(loss[0], loss[1], 0.01 * loss[0], "fp32 vs bf16 epoch loss");
    }

    @Test
    void evaluatingADiscriminatorWithoutAHeadIsAnError() {
        IOException e = assertThrows(IOException.class, () -> Evaluation.run(new InferenceOptions(GlueTask.SST2, model,
                SharedData.path("data/glue/SST-2/dev.tsv"), null, vocab, 64, null, "cpu", false), QUIET));
        assertTrue(e.getMessage().contains("no trained classifier head"), e.getMessage());
    }
}
