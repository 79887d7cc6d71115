package io.electra.finetune;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.electra.engine.testing.SharedData;
import io.electra.glue.GlueRows;
import io.electra.glue.GlueTask;
import io.electra.glue.GlueTsvReader;
import io.electra.model.ElectraConfig;
import io.electra.model.HfFolder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * End to end on the CPU: a small randomly initialised ELECTRA fine-tuned on the first rows of SST-2
 * beats the majority class on the whole dev set, writes every output, and its saved folder reloads
 * to the same predictions.
 */
class Sst2FinetuneTest {
    // Tuned to stay near a minute on two cores: a random-init model has no pre-trained layers to
    // protect, so no layer-wise decay and a high rate; most SST-2 train phrases fit in 32 tokens.
    // Seeds 1/7 reach 0.719 and 2/8 0.714 dev accuracy against a majority rate of 0.509.
    private static final int TRAIN_ROWS = 2000;
    private static final int EPOCHS = 3;
    private static final double LEARNING_RATE = 2e-3;
    private static final int MAX_LENGTH = 32;
    private static final double REQUIRED_MARGIN = 0.08;

    @TempDir
    Path tmp;

    @Test
    void smallModelBeatsMajorityClassAndSavedFolderReproducesItsPredictions() throws Exception {
        Path glue = SharedData.path("data/glue/SST-2");
        Path vocab = SharedData.path("data/vocab/bert-base-uncased-vocab.txt");
        ElectraConfig c = TinyDiscriminator.config(30522);
        Path model = TinyDiscriminator.save(c, tmp.resolve("random-discriminator"), 7);
        Path out = tmp.resolve("out");
        FinetuneOptions o = FinetuneOptions.builder(GlueTask.SST2, model, glue, out).vocab(vocab).epochs(EPOCHS)
                .learningRate(LEARNING_RATE).layerwiseDecay(1.0).batch(32).maxLength(MAX_LENGTH).seeds(List.of(1L)).device("cpu")
                .maxTrainExamples(TRAIN_ROWS).progressBar(false).build();
        ByteArrayOutputStream logBytes = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        RunResult r = Finetuning.run(o, new PrintStream(logBytes, true, StandardCharsets.UTF_8)).get(0);
        double seconds = (System.nanoTime() - t0) / 1e9;
        String log = logBytes.toString(StandardCharsets.UTF_8);

        GlueRows dev = new GlueTsvReader(false).readLabelled(GlueTask.SST2, glue.resolve("dev.tsv"));
        int positives = Arrays.stream(dev.labelIndexes()).sum();
        double majority = Math.max(positives, dev.size() - positives) / (double) dev.size();
        double accuracy = r.bestMetrics().get("SST-2").get("accuracy");
        System.out.printf("SST-2 dev: majority %.4f, fine-tuned %.4f (best epoch %d), %.1f s%n%s", majority, accuracy,
                r.bestEpoch(), seconds, log);
        assertTrue(accuracy >= majority + REQUIRED_MARGIN, String.format(
                "dev accuracy %.4f should beat the majority class %.4f by %.2f%n%s", accuracy, majority, REQUIRED_MARGIN, log));

        // metrics.json: every epoch, every metric, the config and the seed
        JsonNode metrics = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
        assertEquals(EPOCHS, metrics.get("epochs").size());
        assertEquals(1, metrics.get("seed").asLong());
        assertEquals(LEARNING_RATE, metrics.get("config").get("learning_rate").asDouble());
        assertEquals(TRAIN_ROWS, metrics.get("config").get("train_examples").asInt());
        assertEquals(r.bestEpoch(), metrics.get("best_epoch").asInt());
        assertEquals(accuracy, metrics.get("best").get("dev").get("SST-2").get("accuracy").asDouble());
        for (JsonNode e : metrics.get("epochs")) assertTrue(e.get("train_loss").asDouble() > 0, e.toString());

        byte[] png = Files.readAllBytes(out.resolve("curves.png"));
        assertArrayEquals(new byte[] {(byte) 0x89, 'P', 'N', 'G'}, Arrays.copyOf(png, 4), "curves.png is a PNG");
        List<String> predictions = Files.readAllLines(out.resolve("dev_predictions.tsv"));
        assertEquals(dev.size() + 1, predictions.size(), "header + one line per dev row");

        // the saved folder is an HF classifier folder with the task's labels
        Path best = out.resolve(FinetuneRun.BEST);
        ElectraConfig saved = HfFolder.readConfig(best);
        assertEquals(2, saved.numLabels);
        assertEquals("single_label_classification", saved.problemType);
        assertEquals(List.of("ElectraForSequenceClassification"), saved.architectures);
        assertEquals("1", saved.id2label.get("1"));
        assertEquals(0, saved.label2id.get("0"));
        assertEquals(Files.readAllLines(vocab), Files.readAllLines(best.resolve("vocab.txt")));
        assertEquals(MAX_LENGTH, TokenizerConfig.read(best).modelMaxLength());

        // reloaded, it gives the best epoch's dev logits again
        InferenceOptions eval = new InferenceOptions(GlueTask.SST2, best, glue.resolve("dev.tsv"), null, null, 32, null,
                "cpu", false);
        Evaluation.Result again = Evaluation.run(eval, new PrintStream(new ByteArrayOutputStream()));
        float[][] expected = r.bestLogits().get(0);
        assertEquals(expected.length, again.logits().length);
        for (int i = 0; i < expected.length; i++) {
            for (int j = 0; j < expected[i].length; j++) {
                double diff = Math.abs(expected[i][j] - again.logits()[i][j]);
                if (diff > 1e-6) fail("row " + i + " logit " + j + ": trained " + expected[i][j] + " vs reloaded "
                        + again.logits()[i][j] + " (diff " + diff + ")");
            }
        }
        assertArrayEquals(Scoring.argmax(expected), Scoring.argmax(again.logits()));
        assertEquals(accuracy, again.metrics().get("accuracy"));
    }
}
