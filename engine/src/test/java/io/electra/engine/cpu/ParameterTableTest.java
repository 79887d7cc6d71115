package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.ParameterTable;
import io.electra.engine.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Backend's multi-tensor optimizer methods (the default implementations, which the CPU backend
 * keeps) against the per-tensor calls they stand for: bit for bit, since the CPU's arithmetic must
 * not change when the optimizer moves to the table.
 */
class ParameterTableTest {
    private static final int[] SIZES = {1, 7, 33, 1000, 16385};
    private static final int[] HYPER_ROW = {2, 0, 1, 0, 2};
    private static final float[] DECAY = {0.01f, 0f, 0.01f, 0f, 0.01f};
    private static final float[] HYPER = {0.9f, 0.99f, 1e-3f, 1f, 1f, 2e-4f, 0.5f, 0.7f, 3e-2f};  // (bc1, bc2, lr) x 3 groups
    private static final CpuBackend cpu = new CpuBackend(2);

    @AfterAll
    static void close() {
        cpu.close();
    }

    /** param, grad, m, v (and a bf16 copy where {@code withCopy}) per size, identical for one seed. */
    private record State(List<Tensor> p, List<Tensor> g, List<Tensor> m, List<Tensor> v, List<Tensor> copies) {
        static State draw(long seed, boolean[] withCopy) {
            Random rnd = new Random(seed);
            State s = new State(new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
            for (int i = 0; i < SIZES.length; i++) {
                s.p.add(normal(rnd, SIZES[i], 1));
                s.g.add(normal(rnd, SIZES[i], 1));
                s.m.add(normal(rnd, SIZES[i], 0.1));
                Tensor v = normal(rnd, SIZES[i], 0.1);
                float[] sq = cpu.downloadFloat(v);
                for (int j = 0; j < sq.length; j++) sq[j] *= sq[j];
                cpu.upload(v, sq);
                s.v.add(v);
                s.copies.add(withCopy[i] ? cpu.allocate(DType.BF16, SIZES[i]) : null);
            }
            return s;
        }

        ParameterTable table() {
            return cpu.parameterTable(p, g, m, v, copies, DECAY, HYPER_ROW);
        }
    }

    private static Tensor normal(Random rnd, int n, double scale) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (scale * rnd.nextGaussian());
        Tensor t = cpu.allocate(DType.F32, n);
        cpu.upload(t, x);
        return t;
    }

    private static Tensor floats(float... x) {
        Tensor t = cpu.allocate(DType.F32, x.length);
        cpu.upload(t, x);
        return t;
    }

    @Test
    void gradSumSquaresEqualsAFillThenOneAccumulatePerGradient() {
        State s = State.draw(1, new boolean[SIZES.length]);
        Tensor want = cpu.allocate(DType.F32), got = floats(123f);  // overwritten, not added to
        for (Tensor g : s.g) cpu.sumSquaresAccumulate(want, g);
        try (ParameterTable t = s.table()) {
            cpu.gradSumSquares(got, t);
        }
        assertEquals(Float.floatToIntBits(cpu.downloadFloat(want)[0]), Float.floatToIntBits(cpu.downloadFloat(got)[0]),
                cpu.downloadFloat(want)[0] + " vs " + cpu.downloadFloat(got)[0]);
    }

    @Test
    void adamwStepAllEqualsOneAdamwStepPerParameterWithItsHyperRowThenZeroGradients() {
        for (boolean[] withCopy : new boolean[][] {new boolean[SIZES.length], {true, false, true, false, true}}) {
            State ref = State.draw(2, withCopy), fused = State.draw(2, withCopy);
            Tensor scale = floats(0.8f), hyper = floats(HYPER);
            Tensor[] rows = new Tensor[3];
            for (int r = 0; r < 3; r++) rows[r] = floats(Arrays.copyOfRange(HYPER, 3 * r, 3 * r + 3));
            try (ParameterTable t = fused.table()) {
                for (int step = 0; step < 3; step++) {
                    for (int i = 0; i < SIZES.length; i++) {
                        Tensor copy = ref.copies.get(i);
                        if (copy == null) {
                            cpu.adamwStep(ref.p.get(i), ref.g.get(i), ref.m.get(i), ref.v.get(i), scale, rows[HYPER_ROW[i]],
                                    0.9f, 0.999f, 1e-6f, DECAY[i]);
                        } else {
                            cpu.adamwStep(ref.p.get(i), copy, ref.g.get(i), ref.m.get(i), ref.v.get(i), scale,
                                    rows[HYPER_ROW[i]], 0.9f, 0.999f, 1e-6f, DECAY[i]);
                        }
                    }
                    cpu.adamwStepAll(t, scale, hyper, 0.9f, 0.999f, 1e-6f);
                    String at = (withCopy[0] ? "with" : "without") + " copies, step " + (step + 1);
                    for (int i = 0; i < SIZES.length; i++) {
                        expectIdentical("param " + i + ", " + at, ref.p.get(i), fused.p.get(i));
                        expectIdentical("m " + i + ", " + at, ref.m.get(i), fused.m.get(i));
                        expectIdentical("v " + i + ", " + at, ref.v.get(i), fused.v.get(i));
                        if (withCopy[i]) expectIdentical("bf16 copy " + i + ", " + at, ref.copies.get(i), fused.copies.get(i));
                        for (float x : cpu.downloadFloat(fused.g.get(i))) assertEquals(0f, x, "grad " + i + " zeroed, " + at);
                    }
                    // the next step's gradients: the reference gets the same ones
                    Random rnd = new Random(step);
                    for (int i = 0; i < SIZES.length; i++) {
                        float[] g = cpu.downloadFloat(normal(rnd, SIZES[i], 1));
                        cpu.upload(ref.g.get(i), g);
                        cpu.upload(fused.g.get(i), g);
                    }
                }
            }
        }
    }

    @Test
    void theTableRejectsListsThatDoNotLineUp() {
        State s = State.draw(3, new boolean[SIZES.length]);
        List<Tensor> shortList = s.g.subList(0, 4), wrongShape = new ArrayList<>(s.m);
        wrongShape.set(2, cpu.allocate(DType.F32, 34));
        List<Tensor> f32Copy = new ArrayList<>(s.copies);
        f32Copy.set(1, cpu.allocate(DType.F32, 7));
        var counts = assertThrows(IllegalArgumentException.class,
                () -> cpu.parameterTable(s.p, shortList, s.m, s.v, s.copies, DECAY, HYPER_ROW));
        assertTrue(counts.getMessage().contains("5 entries"), counts.getMessage());
        var shape = assertThrows(IllegalArgumentException.class,
                () -> cpu.parameterTable(s.p, s.g, wrongShape, s.v, s.copies, DECAY, HYPER_ROW));
        assertTrue(shape.getMessage().contains("entry 2"), shape.getMessage());
        assertThrows(IllegalArgumentException.class, () -> cpu.parameterTable(s.p, s.g, s.m, s.v, f32Copy, DECAY, HYPER_ROW));
        assertThrows(IllegalArgumentException.class,
                () -> cpu.parameterTable(s.p, s.g, s.m, s.v, s.copies, DECAY, new int[] {0, 0, -1, 0, 0}));
    }

    @Test
    void aStepRejectsHyperWithFewerRowsThanTheTableUsesBeforeTouchingAnything() {
        State s = State.draw(4, new boolean[SIZES.length]);
        float[] before = cpu.downloadFloat(s.p.get(0));
        try (ParameterTable t = s.table()) {
            assertEquals(3, t.groups());
            var e = assertThrows(IllegalArgumentException.class,
                    () -> cpu.adamwStepAll(t, floats(1f), floats(Arrays.copyOf(HYPER, 6)), 0.9f, 0.999f, 1e-6f));
            assertTrue(e.getMessage().contains("3 groups"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> cpu.gradSumSquares(cpu.allocate(DType.F32, 2), t));
        }
        assertTrue(Arrays.equals(before, cpu.downloadFloat(s.p.get(0))), "param 0 changed by a rejected step");
    }

    private static void expectIdentical(String what, Tensor want, Tensor got) {
        float[] a = cpu.downloadFloat(want), b = cpu.downloadFloat(got);
        for (int i = 0; i < a.length; i++) {
            if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                throw new AssertionError(what + ": element " + i + " is " + b[i] + ", the per-tensor call gave " + a[i]);
            }
        }
    }
}
