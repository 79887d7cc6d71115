package io.electra.finetune;

import io.electra.glue.GlueTask;
import io.electra.model.ElectraConfig;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The official recipe's defaults (ELECTRA paper, appendix), and options overriding them. */
class RecipeTest {
    private static ElectraConfig model(int hidden, int layers) {
        ElectraConfig c = new ElectraConfig();
        c.hiddenSize = hidden;
        c.numHiddenLayers = layers;
        return c;
    }

    private static Recipe resolve(GlueTask task, ElectraConfig c, PrintStream log) {
        return Recipe.resolve(FinetuneOptions.builder(task, Path.of("m"), Path.of("d"), Path.of("o")).build(), c, log);
    }

    @Test
    void defaultsFollowModelSizeAndTask() {
        PrintStream quiet = new PrintStream(new ByteArrayOutputStream());
        Recipe small = resolve(GlueTask.SST2, model(256, 12), quiet);
        assertEquals(3e-4, small.learningRate());
        assertEquals(0.8, small.layerwiseDecay());
        assertEquals(3, small.epochs());
        assertEquals(32, small.batch());
        assertEquals(128, small.maxLength());
        assertEquals(0.1, small.warmupProportion());
        assertEquals(0.01, small.weightDecay());
        assertEquals(1e-4, resolve(GlueTask.MNLI, model(768, 12), quiet).learningRate());
        Recipe large = resolve(GlueTask.RTE, model(1024, 24), quiet);
        assertEquals(5e-5, large.learningRate());
        assertEquals(0.9, large.layerwiseDecay());
        assertEquals(10, large.epochs());
        assertEquals(10, resolve(GlueTask.STSB, model(256, 12), quiet).epochs());
    }

    @Test
    void unknownSizeGetsBaseRateWithANote() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Recipe r = resolve(GlueTask.COLA, model(64, 2), new PrintStream(bytes, true));
        assertEquals(1e-4, r.learningRate());
        assertTrue(bytes.toString().contains("hidden size 64"), bytes.toString());
    }

    @Test
    void optionsOverrideDefaults() {
        FinetuneOptions o = FinetuneOptions.builder(GlueTask.RTE, Path.of("m"), Path.of("d"), Path.of("o"))
                .learningRate(2e-5).layerwiseDecay(0.7).epochs(2).maxLength(64).build();
        Recipe r = Recipe.resolve(o, model(256, 12), new PrintStream(new ByteArrayOutputStream()));
        assertEquals(2e-5, r.learningRate());
        assertEquals(0.7, r.layerwiseDecay());
        assertEquals(2, r.epochs());
        assertEquals(64, r.maxLength());
    }

    @Test
    void maxLengthBeyondPositionsIsAnError() {
        ElectraConfig c = model(256, 12);
        c.maxPositionEmbeddings = 128;
        FinetuneOptions o = FinetuneOptions.builder(GlueTask.SST2, Path.of("m"), Path.of("d"), Path.of("o")).maxLength(256).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Recipe.resolve(o, c, new PrintStream(new ByteArrayOutputStream())));
        assertTrue(e.getMessage().contains("256") && e.getMessage().contains("128"), e.getMessage());
    }
}
