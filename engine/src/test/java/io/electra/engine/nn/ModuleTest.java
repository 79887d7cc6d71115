package io.electra.engine.nn;

import io.electra.engine.DType;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.testing.SharedData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModuleTest {
    private static final Path HF_DISCRIMINATOR =
            SharedData.path("fixtures/hf-electra/tiny/discriminator/model.safetensors");

    private final CpuBackend backend = new CpuBackend(1);

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void namesAndShapesEqualTheKeysOfAHuggingFaceFile() throws IOException {
        TinyElectra model = new TinyElectra(backend, DType.F32, TinyElectra.TINY_DISCRIMINATOR);
        Map<String, Parameter> named = model.namedParameters();
        try (SafeTensorsFile f = SafeTensorsFile.open(HF_DISCRIMINATOR)) {
            Set<String> fileKeys = new HashSet<>(f.names());
            fileKeys.remove("electra.embeddings.position_ids"); // a buffer, not a parameter
            assertEquals(fileKeys, named.keySet());
            named.forEach((name, p) -> {
                assertArrayEquals(f.entry(name).shape(), p.shape(), name);
                assertEquals(name, p.name(), "assignNames sets the full name");
            });
        }
    }

    @Test
    void orderIsOwnParametersThenChildrenInRegistrationOrder() {
        TinyElectra model = new TinyElectra(backend, DType.F32, TinyElectra.TINY_DISCRIMINATOR);
        List<String> names = new ArrayList<>(model.namedParameters().keySet());
        assertEquals("electra.embeddings.word_embeddings.weight", names.get(0));
        assertEquals(List.of(
                "electra.encoder.layer.0.attention.self.query.weight",
                "electra.encoder.layer.0.attention.self.query.bias",
                "electra.encoder.layer.0.attention.self.key.weight"),
                names.subList(names.indexOf("electra.encoder.layer.0.attention.self.query.weight"),
                        names.indexOf("electra.encoder.layer.0.attention.self.query.weight") + 3));
        assertTrue(names.indexOf("electra.encoder.layer.1.output.LayerNorm.bias")
                < names.indexOf("discriminator_predictions.dense.weight"));
        assertEquals("discriminator_predictions.dense_prediction.bias", names.get(names.size() - 1));
    }

    @Test
    void decayFlagsFollowElectraExclusions() {
        TinyElectra model = new TinyElectra(backend, DType.F32, TinyElectra.TINY_DISCRIMINATOR);
        model.namedParameters().forEach((name, p) -> {
            boolean excluded = name.contains("LayerNorm") || name.endsWith("bias");
            assertEquals(!excluded, p.decay(), name);
        });
    }

    /** A parameter under two names (a tied output layer) is listed under both, counted and named once. */
    @Test
    void tiedParameterIsListedUnderEachNameButOnceInParameters() {
        class Head extends Module {
            Head(Parameter tied) {
                super(backend);
                tie("weight", tied);
                param("bias", false, 10);
            }
        }
        class Lm extends Module {
            final Parameter words;

            Lm() {
                TinyElectra.Embedding e = child("embeddings", new TinyElectra.Embedding(backend, DType.F32, 10, 4));
                words = e.namedParameters().get("weight");
                child("head", new Head(words));
            }
        }
        Lm lm = new Lm();
        lm.assignNames("generator");
        assertEquals(List.of("embeddings.weight", "head.weight", "head.bias"),
                new ArrayList<>(lm.namedParameters().keySet()));
        assertSame(lm.words, lm.namedParameters().get("head.weight"));
        assertEquals(2, lm.parameters().size());
        assertEquals("generator.embeddings.weight", lm.words.name(), "the first name wins");
        assertEquals(10 * 4 + 10, lm.parameterCount());
    }

    /** ELECTRA's generator and discriminator share one embedding module; each tree names it its own way. */
    @Test
    void sharedChildIsNamedByEachParentsPath() {
        TinyElectra.LayerNorm shared = new TinyElectra.LayerNorm(backend, DType.F32, 3);
        class Holder extends Module {
            Holder(String slot) {
                child(slot, shared);
            }
        }
        Holder a = new Holder("ln"), b = new Holder("norm");
        assertEquals(List.of("ln.weight", "ln.bias"), new ArrayList<>(a.namedParameters().keySet()));
        assertEquals(List.of("norm.weight", "norm.bias"), new ArrayList<>(b.namedParameters().keySet()));
        assertSame(a.parameters().get(0), b.parameters().get(0));
    }

    @Test
    void badNamesAreRefused() {
        class Bad extends Module {
            Bad(String first, String second) {
                super(backend);
                param(first, true, 1);
                param(second, true, 1);
            }
        }
        IllegalArgumentException twice = assertThrows(IllegalArgumentException.class, () -> new Bad("w", "w"));
        assertTrue(twice.getMessage().contains("'w' registered twice"), twice.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Bad("a.b", "c"));
        assertThrows(IllegalArgumentException.class, () -> new Bad("", "c"));
    }

    @Test
    void moduleListNamesChildrenByIndex() {
        ModuleList<TinyElectra.LayerNorm> list = new ModuleList<>(List.of(
                new TinyElectra.LayerNorm(backend, DType.F32, 2), new TinyElectra.LayerNorm(backend, DType.F32, 2)));
        assertEquals(List.of("0.weight", "0.bias", "1.weight", "1.bias"),
                new ArrayList<>(list.namedParameters().keySet()));
        assertEquals(2, list.size());
        assertFalse(list.get(0) == list.get(1));
    }

    @Test
    void zeroGradClearsEveryGradient() {
        TinyElectra.Linear lin = new TinyElectra.Linear(backend, DType.F32, 2, 3);
        backend.fill(lin.weight.grad(), 5);
        backend.fill(lin.bias.grad(), -1);
        lin.zeroGrad();
        assertArrayEquals(new float[6], backend.downloadFloat(lin.weight.grad()));
        assertArrayEquals(new float[3], backend.downloadFloat(lin.bias.grad()));
    }
}
