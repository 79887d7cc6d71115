package io.electra.engine.nn;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.HalfFloats;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.optim.AdamW;
import io.electra.engine.optim.AdamWConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;

/**
 * A {@link StackedLinear} is, to everything but its forward, three separate linear layers: HF's names
 * in state-dict order, parts that are rows of the stacks (so writing a part writes what the fused GEMM
 * reads), a shared bf16 copy offered only while every part keeps its own, AdamW with per-name groups
 * and weight decay bit for bit as on three {@link Linear}s, and checkpoints with separate tensors.
 */
class StackedLinearTest {
    private static final String[] NAMES = {"query", "key", "value"};
    private static final int C = 6, IN = 5;

    @TempDir
    Path dir;

    private final CpuBackend backend = new CpuBackend(1);
    private final Random rnd = new Random(31);

    @AfterEach
    void close() {
        backend.close();
    }

    /** HF's attention.self both ways: stacked, and three Linears. */
    private StackedLinear stacked() {
        StackedLinear s = new StackedLinear(backend, IN, C, true, NAMES);
        s.assignNames("attention.self");
        return s;
    }

    private Group separate() {
        Group g = new Group(backend);
        for (String n : NAMES) g.add(n, new Linear(backend, IN, C, true));
        g.assignNames("attention.self");
        return g;
    }

    @Test
    void partsAreNamedRowViewsOfTheStacks() {
        StackedLinear s = stacked();
        assertEquals(List.copyOf(separate().namedParameters().keySet()), List.copyOf(s.namedParameters().keySet()));
        assertEquals(List.of(3 * C, IN), List.of(s.weight.value().dim(0), s.weight.value().dim(1)));
        for (int p = 0; p < 3; p++) {
            Parameter w = s.parts().get(p).weight, b = s.parts().get(p).bias;
            assertEquals("attention.self." + NAMES[p] + ".weight", w.name());
            assertArrayEquals(new int[] {C, IN}, w.shape());
            float[] values = gaussian(C * IN), bias = gaussian(C);
            backend.upload(w.value(), values);
            backend.upload(b.value(), bias);
            backend.upload(w.grad(), gaussian(C * IN));
            assertArrayEquals(values, rows(backend.downloadFloat(s.weight.value()), p, C * IN), NAMES[p] + " weight");
            assertArrayEquals(bias, rows(backend.downloadFloat(s.bias.value()), p, C), NAMES[p] + " bias");
            assertArrayEquals(backend.downloadFloat(w.grad()), rows(backend.downloadFloat(s.weight.grad()), p, C * IN),
                    NAMES[p] + " weight gradient");
        }
        s.zeroGrad();
        for (float g : backend.downloadFloat(s.weight.grad())) assertEquals(0f, g, "zeroGrad of the parts zeroes the stack");
    }

    @Test
    void theStackOffersItsBf16CopyOnlyWhileEveryPartHasOne() {
        StackedLinear s = stacked();
        backend.upload(s.weight.value(), gaussian(3 * C * IN));
        long before = backend.memoryStats().persistentBytes();
        List<Linear> parts = s.parts();
        parts.get(0).weight.enableBf16Copy();
        parts.get(1).weight.enableBf16Copy();
        assertNull(s.weight.bf16Copy(), "the value part has no copy yet: the GEMM must round the weight itself");
        parts.get(2).weight.enableBf16Copy();
        Tensor copy = s.weight.bf16Copy();
        assertNotNull(copy);
        assertEquals(before + 2L * 3 * C * IN, backend.memoryStats().persistentBytes(), "one shared copy");
        assertArrayEquals(rounded(backend.downloadFloat(s.weight.value())), backend.downloadFloat(copy));
        // a loader writes one part and refreshes its copy: the shared copy's rows follow
        float[] key = gaussian(C * IN);
        backend.upload(parts.get(1).weight.value(), key);
        parts.get(1).weight.refreshBf16Copy();
        assertArrayEquals(rounded(key), rows(backend.downloadFloat(s.weight.bf16Copy()), 1, C * IN));
        assertArrayEquals(rounded(backend.downloadFloat(s.weight.value())), backend.downloadFloat(s.weight.bf16Copy()));
        parts.get(0).weight.disableBf16Copy();
        assertNull(s.weight.bf16Copy());
        parts.get(1).weight.disableBf16Copy();
        parts.get(2).weight.disableBf16Copy();
        assertEquals(before, backend.memoryStats().persistentBytes(), "the last part frees the shared copy");
        Bf16Copies.enableLinearWeights(s);
        assertNotNull(s.weight.bf16Copy(), "Bf16Copies finds the parts");
        Bf16Copies.disableAll(s);
        assertNull(s.weight.bf16Copy());
    }

    @Test
    void adamwUpdatesThePartsAsItUpdatesSeparateLinears() {
        StackedLinear s = stacked();
        Group g = separate();
        Map<String, Parameter> a = s.namedParameters(), b = g.namedParameters();
        b.forEach((name, p) -> {
            float[] v = gaussian((int) p.value().size());
            backend.upload(p.value(), v);
            backend.upload(a.get(name).value(), v);
        });
        Bf16Copies.enableLinearWeights(s);
        Bf16Copies.enableLinearWeights(g);
        AdamWConfig config = AdamWConfig.electra().withBiasCorrection(true);
        // per-name groups (as layer-wise decay makes) and weight decay on the weights only
        try (AdamW stackedOpt = new AdamW(backend, s.parameters(), config, p -> p.name().contains(".key.") ? 0.5 : 1);
             AdamW separateOpt = new AdamW(backend, g.parameters(), config, p -> p.name().contains(".key.") ? 0.5 : 1)) {
            for (int step = 0; step < 3; step++) {
                b.forEach((name, p) -> {
                    float[] grad = gaussian((int) p.value().size());
                    backend.upload(p.grad(), grad);
                    backend.upload(a.get(name).grad(), grad);
                });
                stackedOpt.step(0.01);
                separateOpt.step(0.01);
            }
            float[] copies = backend.downloadFloat(s.weight.bf16Copy());
            for (int p = 0; p < 3; p++) {
                Linear separate = (Linear) g.children().get(NAMES[p]);
                assertArrayEquals(backend.downloadFloat(separate.weight.value()), rows(backend.downloadFloat(s.weight.value()), p, C * IN));
                assertArrayEquals(backend.downloadFloat(separate.bias.value()), rows(backend.downloadFloat(s.bias.value()), p, C));
                assertArrayEquals(backend.downloadFloat(separate.weight.bf16Copy()), rows(copies, p, C * IN), "bf16 copy");
            }
            for (float x : backend.downloadFloat(s.weight.grad())) assertEquals(0f, x, "gradients zeroed");
            assertEquals(separateOpt.exportState().keySet(), stackedOpt.exportState().keySet());
        }
    }

    @Test
    void checkpointsHoldSeparateTensorsAndLoadIntoTheStack() throws IOException {
        Group g = separate();
        for (Parameter p : g.parameters()) backend.upload(p.value(), gaussian((int) p.value().size()));
        Path file = dir.resolve("separate.safetensors");
        ModuleState.save(g, file, Map.of());
        StackedLinear s = stacked();
        Bf16Copies.enableLinearWeights(s);
        Tensor copy = s.weight.bf16Copy();
        try (SafeTensorsFile f = SafeTensorsFile.open(file)) {
            ModuleState.load(s, f);
        }
        assertSame(copy, s.weight.bf16Copy(), "loading keeps the shared copy");
        for (int p = 0; p < 3; p++) {
            Linear separate = (Linear) g.children().get(NAMES[p]);
            assertArrayEquals(backend.downloadFloat(separate.weight.value()), rows(backend.downloadFloat(s.weight.value()), p, C * IN));
            assertArrayEquals(backend.downloadFloat(separate.bias.value()), rows(backend.downloadFloat(s.bias.value()), p, C));
        }
        assertArrayEquals(rounded(backend.downloadFloat(s.weight.value())), backend.downloadFloat(s.weight.bf16Copy()),
                "loading refreshes the parts' rows of the shared copy");
        Path again = dir.resolve("stacked.safetensors");
        ModuleState.save(s, again, Map.of());
        try (SafeTensorsFile a = SafeTensorsFile.open(file); SafeTensorsFile b = SafeTensorsFile.open(again)) {
            assertEquals(a.names(), b.names());
            for (String k : a.names()) {
                assertArrayEquals(a.entry(k).shape(), b.entry(k).shape(), k);
                assertArrayEquals(a.readRaw(k), b.readRaw(k), k);
            }
        }
    }

    private float[] gaussian(int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) rnd.nextGaussian();
        return v;
    }

    private static float[] rows(float[] stack, int part, int partSize) {
        float[] out = new float[partSize];
        System.arraycopy(stack, part * partSize, out, 0, partSize);
        return out;
    }

    private static float[] rounded(float[] v) {
        float[] r = new float[v.length];
        for (int i = 0; i < v.length; i++) r[i] = HalfFloats.roundToBf16(v[i]);
        return r;
    }
}
