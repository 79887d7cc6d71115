package io.electra.engine.nn;

import io.electra.engine.DType;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.io.SafeTensorsWriter;
import io.electra.engine.testing.SharedData;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ModuleStateTest {
    private static final Path HF_DISCRIMINATOR =
            SharedData.path("fixtures/hf-electra/tiny/discriminator/model.safetensors");

    @TempDir
    Path dir;

    private final CpuBackend backend = new CpuBackend(1);

    @AfterEach
    void close() {
        backend.close();
    }

    @Test
    void huggingFaceWeightsLoadIntoTheMatchingTree() throws IOException {
        TinyElectra model = new TinyElectra(backend, DType.F32, TinyElectra.TINY_DISCRIMINATOR);
        try (SafeTensorsFile f = SafeTensorsFile.open(HF_DISCRIMINATOR)) {
            ModuleState.load(model, f, Set.of(), Set.of("electra.embeddings.position_ids"));
            for (var e : model.namedParameters().entrySet()) {
                assertArrayEquals(f.readFloat(e.getKey()), backend.downloadFloat(e.getValue().value()), e.getKey());
            }
        }
    }

    @Test
    void huggingFaceWeightsLoadIntoAnF64TreeExactly() throws IOException {
        TinyElectra model = new TinyElectra(backend, DType.F64, TinyElectra.TINY_DISCRIMINATOR);
        try (SafeTensorsFile f = SafeTensorsFile.open(HF_DISCRIMINATOR)) {
            ModuleState.load(model, f, Set.of(), Set.of("electra.embeddings.position_ids"));
            String name = "electra.encoder.layer.1.attention.self.value.weight";
            assertArrayEquals(f.readDouble(name), backend.downloadDouble(model.namedParameters().get(name).value()));
        }
    }

    @Test
    void saveThenLoadRestoresEveryParameter() throws IOException {
        TinyElectra a = new TinyElectra(backend, DType.F32, TinyElectra.TINY_DISCRIMINATOR);
        for (Parameter p : a.parameters()) Init.truncatedNormal(p, 0.02, 11);
        Path file = dir.resolve("model.safetensors");
        ModuleState.save(a, file, Map.of("format", "pt"));
        TinyElectra b = new TinyElectra(backend, DType.F32, TinyElectra.TINY_DISCRIMINATOR);
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertEquals("pt", f.metadata().get("format"));
            ModuleState.load(b, f);
        }
        for (String name : a.namedParameters().keySet()) {
            assertArrayEquals(backend.downloadFloat(a.namedParameters().get(name).value()),
                    backend.downloadFloat(b.namedParameters().get(name).value()), name);
        }
    }

    @Test
    void everyMissingUnexpectedAndMisshapedNameIsReportedAtOnce() throws IOException {
        TinyElectra.Linear lin = new TinyElectra.Linear(backend, DType.F32, 2, 3); // weight [3,2], bias [3]
        Path file = dir.resolve("bad.safetensors");
        new SafeTensorsWriter()
                .add("weight", new float[6], 2, 3)
                .add("extra.one", new float[1], 1)
                .add("extra.two", new long[1], 1)
                .write(file);
        backend.fill(lin.weight.value(), 7);
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            StateMismatchException e = assertThrows(StateMismatchException.class, () -> ModuleState.load(lin, f));
            assertEquals(List.of("bias"), e.missing());
            assertEquals(List.of("extra.one", "extra.two"), e.unexpected());
            assertEquals(List.of("weight: file F32[2, 3] vs module F32[3, 2]"), e.mismatched());
            assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        }
        // nothing was uploaded
        for (float w : backend.downloadFloat(lin.weight.value())) assertEquals(7f, w);
    }

    @Test
    void integerTensorUnderAParameterNameIsAMismatch() throws IOException {
        TinyElectra.LayerNorm ln = new TinyElectra.LayerNorm(backend, DType.F32, 2);
        Path file = dir.resolve("int.safetensors");
        new SafeTensorsWriter().add("weight", new int[] {1, 2}, 2).add("bias", new float[2], 2).write(file);
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            StateMismatchException e = assertThrows(StateMismatchException.class, () -> ModuleState.load(ln, f));
            assertEquals(List.of("weight: file I32[2] vs module F32[2]"), e.mismatched());
        }
    }

    @Test
    void allowedMissingAndExtraNamesAreTolerated() throws IOException {
        TinyElectra.Linear lin = new TinyElectra.Linear(backend, DType.F32, 1, 2);
        backend.fill(lin.bias.value(), 3);
        Path file = dir.resolve("partial.safetensors");
        new SafeTensorsWriter().add("weight", new float[] {1, 2}, 2, 1).add("buffer", new long[] {0}, 1).write(file);
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            ModuleState.load(lin, f, Set.of("bias"), Set.of("buffer"));
        }
        assertArrayEquals(new float[] {1, 2}, backend.downloadFloat(lin.weight.value()));
        assertArrayEquals(new float[] {3, 3}, backend.downloadFloat(lin.bias.value()), "bias kept its value");
    }

    /** As HuggingFace's save drops a tied alias, the tied weight is written once and loads back without it. */
    @Test
    void tiedParameterIsSavedOnceAndLoadsFromItsFirstName() throws IOException {
        class Tied extends Module {
            final Parameter w;

            Tied() {
                super(backend);
                w = param("w", true, 2);
                tie("alias", w);
            }
        }
        Tied a = new Tied();
        backend.upload(a.w.value(), new float[] {4, 5});
        Path file = dir.resolve("tied.safetensors");
        ModuleState.save(a, file, Map.of());
        Tied b = new Tied();
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            assertEquals(List.of("w"), f.names());
            assertFalse(f.contains("alias"));
            ModuleState.load(b, f);
        }
        assertArrayEquals(new float[] {4, 5}, backend.downloadFloat(b.w.value()));
    }
}
