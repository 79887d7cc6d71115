package io.electra.finetune;

import io.electra.engine.testing.SharedData;
import io.electra.glue.GlueTask;
import io.electra.model.ElectraConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * curves.png that cannot be written (here a folder squats on its name; in the GPU bundle's jlink
 * runtime XChart is absent altogether) costs the picture, not the fine-tuning run.
 */
class FinetuneCurvesFailureTest {
    @Test
    void curvesThatCannotBeDrawnDoNotStopFinetuning(@TempDir Path tmp) throws Exception {
        Path model = TinyDiscriminator.save(TinyDiscriminator.config(30522), tmp.resolve("model"), 5);
        Path out = tmp.resolve("out");
        Files.createDirectories(out.resolve("curves.png").resolve("occupied"));
        FinetuneOptions o = FinetuneOptions.builder(GlueTask.SST2, model, SharedData.path("data/glue/SST-2"), out)
                .vocab(SharedData.path("data/vocab/bert-base-uncased-vocab.txt")).epochs(2).batch(16).maxLength(16)
                .seeds(List.of(1L)).device("cpu").maxTrainExamples(32).progressBar(false).build();
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        RunResult r = Finetuning.run(o, new PrintStream(log, true, StandardCharsets.UTF_8)).get(0);
        String printed = log.toString(StandardCharsets.UTF_8);
        assertEquals(2, r.epochs().size(), "both epochs ran");
        assertEquals(1, printed.split("curves.png not drawn", -1).length - 1, printed);
        assertTrue(Files.isRegularFile(out.resolve("metrics.json")));
    }
}
