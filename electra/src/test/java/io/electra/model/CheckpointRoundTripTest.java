package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.Precision;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.HalfFloats;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.nn.Module;
import io.electra.engine.nn.Parameter;
import io.electra.engine.nn.StackedLinear;
import io.electra.engine.testing.SharedData;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Our checkpoints are HuggingFace folders: HF's files load, ours have HF's keys, and a round trip is exact. */
class CheckpointRoundTripTest {

    @Test
    void savedFoldersHaveHuggingFaceKeysAndReloadBitExactly(@TempDir Path tmp) throws Exception {
        Path fixture = SharedData.path("fixtures/hf-electra/tiny");
        try (Backend b = new CpuBackend()) {
            ElectraPretraining m = ElectraPretraining.fromHf(b, fixture.resolve("generator"), fixture.resolve("discriminator"), 50f);
            m.saveHf(tmp);

            // the discriminator file has exactly HF's ElectraForPreTraining keys (the fixture's file)
            assertEquals(keys(fixture.resolve("discriminator/model.safetensors")), keys(tmp.resolve("discriminator/model.safetensors")));
            // the generator file is standalone: HF's generator keys plus the shared embeddings it uses
            Set<String> gen = keys(fixture.resolve("generator/model.safetensors"));
            for (String k : keys(fixture.resolve("discriminator/model.safetensors"))) {
                if (k.startsWith("electra.embeddings.") && !k.startsWith("electra.embeddings_project")) gen.add(k);
            }
            assertEquals(gen, keys(tmp.resolve("generator/model.safetensors")));
            assertEquals("ElectraForMaskedLM", HfFolder.readConfig(tmp.resolve("generator")).architectures.get(0));
            assertEquals(HfFolder.readConfig(fixture.resolve("discriminator")).hiddenSize,
                    HfFolder.readConfig(tmp.resolve("discriminator")).hiddenSize);

            // every tensor the fixture has comes back with the same bits
            for (String model : new String[]{"generator", "discriminator"}) {
                try (SafeTensorsFile a = SafeTensorsFile.open(fixture.resolve(model + "/model.safetensors"));
                     SafeTensorsFile c = SafeTensorsFile.open(tmp.resolve(model + "/model.safetensors"))) {
                    for (String k : a.names()) assertArrayEquals(a.readRaw(k), c.readRaw(k), model + " " + k);
                }
            }
            // and our folders load back into a fresh pair with identical parameters
            ElectraPretraining again = ElectraPretraining.fromHf(b, tmp.resolve("generator"), tmp.resolve("discriminator"), 50f);
            for (var e : m.discriminator.namedParameters().entrySet()) {
                Parameter p = again.discriminator.namedParameters().get(e.getKey());
                assertArrayEquals(b.downloadFloat(e.getValue().value()), b.downloadFloat(p.value()), e.getKey());
            }
        }
    }

    /**
     * Each layer's query, key and value are rows of one stacked projection: loading a folder (here over a
     * bf16 model) writes the stack and its shared bf16 copy, and saving writes three separate [C, C] and
     * [C] tensors under HF's names, with the same bits.
     */
    @Test
    void queryKeyAndValueLoadIntoTheStackedProjectionAndSaveAsSeparateTensors(@TempDir Path tmp) throws Exception {
        Path fixture = SharedData.path("fixtures/hf-electra/tiny");
        Path file = fixture.resolve("discriminator/model.safetensors");
        try (Backend b = new CpuBackend(); SafeTensorsFile f = SafeTensorsFile.open(file)) {
            ElectraPretraining m = ElectraPretraining.fromHf(b, fixture.resolve("generator"), fixture.resolve("discriminator"), 50f);
            m.usePrecision(Precision.BF16);
            Map<String, Parameter> named = m.discriminator.namedParameters();
            for (Parameter p : named.values()) b.fill(p.value(), 0);  // so only the reload below can put the values back
            HfFolder.requireComplete(HfFolder.load(named, fixture.resolve("discriminator"), Set.of()), fixture);
            int layers = m.discriminator.config.numHiddenLayers, c = m.discriminator.config.hiddenSize;
            for (int i = 0; i < layers; i++) {
                String prefix = "electra.encoder.layer." + i + ".attention.self";
                StackedLinear self = (StackedLinear) module(m.discriminator, prefix);
                float[] weights = b.downloadFloat(self.weight.value()), biases = b.downloadFloat(self.bias.value());
                float[] copy = b.downloadFloat(self.weight.bf16Copy());
                String[] names = {"query", "key", "value"};
                for (int part = 0; part < 3; part++) {
                    String key = prefix + "." + names[part];
                    float[] w = f.readFloat(key + ".weight");
                    assertArrayEquals(w, Arrays.copyOfRange(weights, part * c * c, (part + 1) * c * c), key + ".weight");
                    assertArrayEquals(f.readFloat(key + ".bias"), Arrays.copyOfRange(biases, part * c, (part + 1) * c), key + ".bias");
                    for (int j = 0; j < w.length; j++) {
                        assertEquals(HalfFloats.roundToBf16(w[j]), copy[part * c * c + j], 0f, key + " bf16 copy [" + j + "]");
                    }
                }
            }
            m.saveHf(tmp);
            try (SafeTensorsFile saved = SafeTensorsFile.open(tmp.resolve("discriminator/model.safetensors"))) {
                for (int i = 0; i < layers; i++) {
                    for (String name : new String[] {"query", "key", "value"}) {
                        String key = "electra.encoder.layer." + i + ".attention.self." + name;
                        assertArrayEquals(new int[] {c, c}, saved.entry(key + ".weight").shape(), key);
                        assertArrayEquals(new int[] {c}, saved.entry(key + ".bias").shape(), key);
                        assertArrayEquals(f.readRaw(key + ".weight"), saved.readRaw(key + ".weight"), key);
                        assertArrayEquals(f.readRaw(key + ".bias"), saved.readRaw(key + ".bias"), key);
                    }
                }
            }
        }
    }

    /** The module at a dotted path of child names. */
    private static Module module(Module root, String path) {
        Module m = root;
        for (String name : path.split("\\.")) m = m.children().get(name);
        return m;
    }

    @Test
    void mismatchedShapesAndMissingTensorsAreNamed(@TempDir Path tmp) throws Exception {
        Path fixture = SharedData.path("fixtures/hf-electra");
        try (Backend b = new CpuBackend()) {
            // the small2l discriminator folder does not fit the tiny generator's embeddings
            Exception e = assertThrows(IllegalArgumentException.class,
                    () -> ElectraPretraining.fromHf(b, fixture.resolve("tiny/generator"), fixture.resolve("small2l/discriminator"), 50f));
            assertTrue(e.getMessage().contains("share"), e.getMessage());
            // a folder missing its weights
            Files.createDirectories(tmp.resolve("gen"));
            Files.copy(fixture.resolve("tiny/generator/config.json"), tmp.resolve("gen/config.json"));
            Exception f = assertThrows(java.io.IOException.class,
                    () -> ElectraPretraining.fromHf(b, tmp.resolve("gen"), fixture.resolve("tiny/discriminator"), 50f));
            assertTrue(f.getMessage().contains("model.safetensors") && f.getMessage().contains(tmp.resolve("gen").toString()), f.getMessage());
        }
    }

    private static Set<String> keys(Path file) throws Exception {
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            return new TreeSet<>(f.names());
        }
    }
}
