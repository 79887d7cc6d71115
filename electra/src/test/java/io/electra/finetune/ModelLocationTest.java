package io.electra.finetune;

import io.electra.engine.testing.SharedData;
import io.electra.glue.GlueTask;
import io.electra.model.ElectraConfig;
import io.electra.pretrain.CheckpointStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@code --model} and {@code --vocab} resolve to, and the errors for folders that do not fit. */
class ModelLocationTest {
    @TempDir
    Path tmp;

    private static Path hfFolder(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), "{}");
        return dir;
    }

    private static Path vocab(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n");
        return file;
    }

    @Test
    void huggingFaceFolderUsesItsOwnVocab() throws IOException {
        Path dir = hfFolder(tmp.resolve("electra-small"));
        Path v = vocab(dir.resolve("vocab.txt"));
        ModelLocation loc = ModelLocation.resolve(dir, null);
        assertEquals(dir.toAbsolutePath(), loc.weights());
        assertEquals(v.toAbsolutePath(), loc.vocab().toAbsolutePath());
    }

    @Test
    void checkpointUsesItsDiscriminatorAndTheCheckpointVocab() throws IOException {
        Path ckpt = tmp.resolve("run/checkpoint-000001000");
        hfFolder(ckpt.resolve("generator"));
        Path disc = hfFolder(ckpt.resolve("discriminator"));
        Path v = vocab(ckpt.resolve("vocab.txt"));
        ModelLocation loc = ModelLocation.resolve(ckpt, null);
        assertEquals(disc.toAbsolutePath(), loc.weights());
        assertEquals(v.toAbsolutePath(), loc.vocab().toAbsolutePath());
    }

    @Test
    void runFolderUsesItsNewestCompleteCheckpoint() throws IOException {
        Path run = tmp.resolve("run");
        for (String step : new String[] {"000001000", "000002000", "000003000"}) {
            Path ckpt = run.resolve("checkpoint-" + step);
            hfFolder(ckpt.resolve("discriminator"));
            vocab(ckpt.resolve("vocab.txt"));
            // the newest was interrupted before its trainer state was written: not complete
            if (!step.equals("000003000")) Files.writeString(ckpt.resolve(CheckpointStore.MARKER), "{}");
        }
        ModelLocation loc = ModelLocation.resolve(run, null);
        assertEquals(run.resolve("checkpoint-000002000/discriminator").toAbsolutePath(), loc.weights());
    }

    @Test
    void explicitVocabWins() throws IOException {
        Path dir = hfFolder(tmp.resolve("m"));
        vocab(dir.resolve("vocab.txt"));
        Path other = vocab(tmp.resolve("other/vocab.txt"));
        assertEquals(other, ModelLocation.resolve(dir, other).vocab());
    }

    @Test
    void missingVocabSaysToPassVocab() throws IOException {
        Path dir = hfFolder(tmp.resolve("m"));
        IOException e = assertThrows(IOException.class, () -> ModelLocation.resolve(dir, null));
        assertTrue(e.getMessage().contains("--vocab") && e.getMessage().contains(dir.toAbsolutePath().toString()), e.getMessage());
    }

    @Test
    void folderWithoutModelIsAnErrorNamingIt() throws IOException {
        Path dir = Files.createDirectories(tmp.resolve("empty"));
        IOException e = assertThrows(IOException.class, () -> ModelLocation.resolve(dir, null));
        assertTrue(e.getMessage().contains("empty") && e.getMessage().contains("config.json"), e.getMessage());
    }

    @Test
    void vocabLargerThanTheModelIsAnErrorNamingBoth() throws IOException {
        ElectraConfig c = TinyDiscriminator.config(1000);
        Path model = TinyDiscriminator.save(c, tmp.resolve("small-vocab-model"), 1);
        Path vocab = SharedData.path("data/vocab/bert-base-uncased-vocab.txt");
        FinetuneOptions o = FinetuneOptions.builder(GlueTask.SST2, model, SharedData.path("data/glue/SST-2"), tmp.resolve("out"))
                .vocab(vocab).device("cpu").build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FinetuneJob.prepare(o, new PrintStream(new ByteArrayOutputStream())));
        assertTrue(e.getMessage().contains("30522") && e.getMessage().contains("vocab_size 1000")
                && e.getMessage().contains(vocab.toString()) && e.getMessage().contains(model.toString()), e.getMessage());
    }
}
