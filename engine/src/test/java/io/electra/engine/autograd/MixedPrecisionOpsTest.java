package io.electra.engine.autograd;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Precision;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.HalfFloats;
import io.electra.engine.nn.Linear;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Proxy;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.electra.engine.testing.TestValues.gaussian;
import static io.electra.engine.testing.TestValues.trainable;

/**
 * Ops in BF16 mode do exactly what the mixed-precision definition says: linear is the fp32 linear
 * of the bf16-rounded activation and weight (and, backward, of the rounded output gradient), with
 * F32 results and gradients. The reference runs the F32 ops on values rounded here by hand, so the
 * same f32 kernel sees the same numbers: bit-identical is expected, and a linear that skipped a
 * rounding would differ by up to 2^-8 relative. The bias gradient is no GEMM: it sums the F32 dy.
 */
class MixedPrecisionOpsTest {
    private static final CpuBackend cpu = new CpuBackend(2);

    @AfterAll
    static void close() {
        cpu.close();
    }

    /** A BF16 out of matmulBias (the fused query/key/value projection) is the F32 product plus bias, rounded once. */
    @Test
    void matmulBiasIntoBf16RoundsTheF32SumOnce() {
        Random rnd = new Random(12);
        int rows = 7, in = 16, out = 24;
        Tensor x = cpu.allocate(DType.BF16, rows, in), w = cpu.allocate(DType.BF16, out, in), bias = cpu.allocate(DType.F32, out);
        cpu.upload(x, gaussian(rnd, rows * in));
        cpu.upload(w, gaussian(rnd, out * in));
        cpu.upload(bias, gaussian(rnd, out));
        Tensor wide = cpu.allocate(DType.F32, rows, out), got = cpu.allocate(DType.BF16, rows, out);
        cpu.matmulBias(wide, x, false, w, true, bias);
        cpu.matmulBias(got, x, false, w, true, bias);
        float[] f = cpu.downloadFloat(wide), g = cpu.downloadFloat(got);
        int rounded = 0;
        for (int i = 0; i < f.length; i++) {
            assertEquals(HalfFloats.roundToBf16(f[i]), g[i], "element " + i);
            if (HalfFloats.roundToBf16(f[i]) != f[i]) rounded++;
        }
        assertTrue(rounded > f.length / 2, "the F32 sums are not bf16 numbers already");
    }

    @Test
    void bf16LinearIsTheFp32LinearOfRoundedOperands() {
        Random rnd = new Random(8);
        int rows = 9, in = 24, out = 17;
        float[] x = gaussian(rnd, rows * in), dy = gaussian(rnd, rows * out);
        Linear mixed = new Linear(cpu, in, out, true), plain = new Linear(cpu, in, out, true);
        float[] w = gaussian(rnd, out * in), bias = gaussian(rnd, out);
        cpu.upload(mixed.weight.value(), w);
        cpu.upload(mixed.bias.value(), bias);
        cpu.upload(plain.weight.value(), rounded(w));
        cpu.upload(plain.bias.value(), bias);
        mixed.weight.enableBf16Copy();
        for (boolean persistentCopy : new boolean[]{true, false}) {
            if (!persistentCopy) mixed.weight.disableBf16Copy(); // the weight is then rounded per call
            float[][] got = forwardBackward(mixed, Precision.BF16, x, dy, in);
            float[][] ref = forwardBackward(plain, Precision.FP32, rounded(x), rounded(dy), in);
            ref[3] = forwardBackward(plain, Precision.FP32, rounded(x), dy, in)[3]; // the bias gradient sums the F32 dy
            String[] what = {"y", "dx", "dW", "dBias"};
            for (int i = 0; i < what.length; i++) {
                for (int j = 0; j < ref[i].length; j++) {
                    assertEquals(ref[i][j], got[i][j], 0f, what[i] + "[" + j + "], persistent copy " + persistentCopy);
                }
            }
        }
    }

    @Test
    void bf16AttentionReturnsAnF32ContextAndF32Gradients() {
        Random rnd = new Random(9);
        Tape tape = new Tape(cpu);
        Ops ops = new Ops(tape);
        ops.setPrecision(Precision.BF16);
        int[] shape = {1, 2, 5, 8};
        Var q = trainable(cpu, gaussian(rnd, 80), shape), k = trainable(cpu, gaussian(rnd, 80), shape);
        Var v = trainable(cpu, gaussian(rnd, 80), shape);
        Tensor mask = cpu.allocate(DType.I32, 1, 5);
        cpu.upload(mask, new int[]{1, 1, 1, 1, 0});
        Ops.Attention a = ops.attention(q, k, v, mask, 0f, 1);
        assertEquals(DType.F32, a.context().value().dtype());
        float[] ctx = cpu.downloadFloat(a.context().value());
        for (float c : ctx) assertEquals(c, HalfFloats.roundToBf16(c), 0f, "the context is the bf16 kernel's output, widened");
        tape.backward(ops.sum(a.context(), 1f));
        for (Var t : new Var[]{q, k, v}) {
            assertEquals(DType.F32, t.grad().dtype());
            double norm = 0;
            for (float g : cpu.downloadFloat(t.grad())) norm += g * g;
            assertTrue(norm > 0, "gradient flowed back into " + t);
        }
    }

    @Test
    void linearGeluIsGeluOfLinearBitForBit() {
        Random rnd = new Random(10);
        int rows = 11, in = 16, out = 24;
        float[] x = gaussian(rnd, rows * in), dy = gaussian(rnd, rows * out);
        Linear layer = new Linear(cpu, in, out, true);
        cpu.upload(layer.weight.value(), gaussian(rnd, out * in));
        cpu.upload(layer.bias.value(), gaussian(rnd, out));
        for (Precision precision : Precision.values()) {
            float[][] fused = forwardBackward(layer, precision, x, dy, in, (ops, xv) -> layer.forwardGelu(ops, xv));
            float[][] apart = forwardBackward(layer, precision, x, dy, in, (ops, xv) -> ops.gelu(layer.forward(ops, xv)));
            String[] what = {"y", "dx", "dW", "dBias"};
            for (int i = 0; i < what.length; i++) {
                assertTrue(Math.abs(apart[i][0]) > 0, what[i] + " is not trivially zero");
                for (int j = 0; j < apart[i].length; j++) {
                    assertEquals(apart[i][j], fused[i][j], 0f, what[i] + "[" + j + "], " + precision);
                }
            }
        }
    }

    /**
     * Linear's backward gives the bits of the calls it made before linearOutputGrad fused them: GELU backward
     * into a zeroed buffer, the copy to bf16 (mixed precision), biasBackward of the F32 values, then the two
     * GEMMs; in both precisions, with and without GELU, with a trainable, a frozen and no bias.
     */
    @Test
    void linearBackwardIsTheUnfusedSequenceBitForBit() {
        Random rnd = new Random(12);
        int rows = 13, in = 10, out = 19;
        float[] x = gaussian(rnd, rows * in), w = gaussian(rnd, out * in), bias = gaussian(rnd, out), dy = gaussian(rnd, rows * out);
        for (Precision precision : Precision.values()) {
            for (boolean gelu : new boolean[]{false, true}) {
                for (String biasKind : new String[]{"trainable", "frozen", "none"}) {
                    if (gelu && biasKind.equals("none")) continue;  // linearGelu needs a bias
                    String what = precision + (gelu ? " gelu " : " ") + biasKind + " bias ";
                    Tape tape = new Tape(cpu);
                    Ops ops = new Ops(tape);
                    ops.setPrecision(precision);
                    Var xv = trainable(cpu, x, rows, in), wv = trainable(cpu, w, out, in);
                    Var bv = biasKind.equals("none") ? null : new Var(upload(bias, out), biasKind.equals("trainable"));
                    Var y = gelu ? ops.linearGelu(xv, wv, bv) : ops.linear(xv, wv, bv);
                    Tensor seed = upload(dy, rows, out);
                    tape.record(() -> cpu.accumulate(tape.gradOf(y), seed, 1f));
                    tape.backward(ops.sum(new Var(cpu.allocateTemp(DType.F32, 1), true), 0f));

                    boolean mixed = precision == Precision.BF16;
                    Tensor xa = mixed ? bf16(xv.value()) : xv.value(), wa = mixed ? bf16(wv.value()) : wv.value();
                    Tensor dPre = seed;
                    if (gelu) {
                        Tensor pre = cpu.allocate(DType.F32, rows, out);
                        cpu.matmulBias(pre, xa, false, wa, true, bv.value());
                        dPre = cpu.allocate(DType.F32, rows, out);
                        cpu.geluBackward(dPre, seed, pre);
                    }
                    Tensor dPreA = mixed ? bf16(dPre) : dPre;
                    Tensor dx = cpu.allocate(DType.F32, rows, in), dW = cpu.allocate(DType.F32, out, in);
                    cpu.matmul(dx, dPreA, false, wa, false, 1f, false);
                    cpu.matmul(dW, dPreA, true, xa, false, 1f, true);
                    assertSame(what + "dx", cpu.downloadFloat(dx), cpu.downloadFloat(xv.grad()));
                    assertSame(what + "dW", cpu.downloadFloat(dW), cpu.downloadFloat(wv.grad()));
                    if (biasKind.equals("trainable")) {
                        Tensor dBias = cpu.allocate(DType.F32, out);
                        cpu.biasBackward(dBias, dPre);
                        assertSame(what + "dBias", cpu.downloadFloat(dBias), cpu.downloadFloat(bv.grad()));
                    } else if (bv != null) {
                        assertNull(bv.grad(), what + ": a frozen bias gets no gradient");
                    }
                    tape.reset();
                    cpu.resetArena();
                }
            }
        }
    }

    /**
     * feedForward is linear(linearGelu(...)) to the last bit, forward and every gradient, in both
     * precisions; in mixed precision its GELU output is stored BF16, so nothing rounds an [N, F] tensor
     * with copy on the way into the second GEMM, and the backward takes the first layer's output
     * gradient from one matmulGeluBackward.
     */
    @Test
    void feedForwardIsTheTwoLinearsBitForBit() {
        Random rnd = new Random(14);
        int rows = 9, c = 12, f = 20;
        float[] x = gaussian(rnd, rows * c), dy = gaussian(rnd, rows * c);
        float[] w1 = gaussian(rnd, f * c), b1 = gaussian(rnd, f), w2 = gaussian(rnd, c * f), b2 = gaussian(rnd, c);
        int[] innerCopies = {0}, geluGradProducts = {0};
        Backend counting = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("copy") && ((Tensor) args[0]).size() == (long) rows * f) innerCopies[0]++;
                    if (method.getName().equals("matmulGeluBackward")) geluGradProducts[0]++;
                    try {
                        return method.invoke(cpu, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        for (Precision precision : Precision.values()) {
            float[][][] results = new float[2][][];
            for (int fused = 0; fused < 2; fused++) {
                Tape tape = new Tape(counting);
                Ops ops = new Ops(tape);
                ops.setPrecision(precision);
                Var xv = trainable(cpu, x, rows, c), w1v = trainable(cpu, w1, f, c), b1v = trainable(cpu, b1, f);
                Var w2v = trainable(cpu, w2, c, f), b2v = trainable(cpu, b2, c);
                innerCopies[0] = 0;
                Var y = fused == 1 ? ops.feedForward(xv, w1v, b1v, w2v, b2v)
                        : ops.linear(ops.linearGelu(xv, w1v, b1v), w2v, b2v);
                if (fused == 1) {
                    assertEquals(0, innerCopies[0], precision + ": the GELU output needs no conversion pass");
                }
                Tensor seed = upload(dy, rows, c);
                tape.record(() -> cpu.accumulate(tape.gradOf(y), seed, 1f));
                geluGradProducts[0] = 0;
                tape.backward(ops.sum(new Var(cpu.allocateTemp(DType.F32, 1), true), 0f));
                // fused, the first layer's gradient comes out of the second's product: the GELU output's is never stored
                assertEquals(fused, geluGradProducts[0], precision + ": matmulGeluBackward calls");
                results[fused] = new float[][]{cpu.downloadFloat(y.value()), cpu.downloadFloat(xv.grad()),
                        cpu.downloadFloat(w1v.grad()), cpu.downloadFloat(b1v.grad()), cpu.downloadFloat(w2v.grad()),
                        cpu.downloadFloat(b2v.grad())};
                tape.reset();
                cpu.resetArena();
            }
            String[] what = {"y", "dx", "dW1", "dB1", "dW2", "dB2"};
            for (int i = 0; i < what.length; i++) assertSame(precision + " " + what[i], results[0][i], results[1][i]);
        }
    }

    /**
     * In mixed precision the fused LayerNorm tail hands the projections that read its output a bf16
     * rounding it made itself: no copy rounds the [N, C] output, and the projection is the same bits as
     * after the unfused dropout, add and LayerNorm.
     */
    @Test
    void layerNormTailRoundsItsOutputForTheNextGemms() {
        Random rnd = new Random(15);
        int rows = 7, c = 16, out = 12;
        int[] roundings = {0};
        Backend counting = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("copy") && ((Tensor) args[0]).dtype() == DType.BF16
                            && ((Tensor) args[1]).size() == (long) rows * c) roundings[0]++;
                    try {
                        return method.invoke(cpu, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        float[] x = gaussian(rnd, rows * c), res = gaussian(rnd, rows * c), g = gaussian(rnd, c), beta = gaussian(rnd, c);
        float[] w = gaussian(rnd, out * c), bias = gaussian(rnd, out);
        float[][] ys = new float[2][];
        for (int fused = 0; fused < 2; fused++) {
            Tape tape = new Tape(counting);
            Ops ops = new Ops(tape);
            ops.setPrecision(Precision.BF16);
            ops.setRng(5, 1);
            Var xv = trainable(cpu, x, rows, c), rv = trainable(cpu, res, rows, c), gv = trainable(cpu, g, c);
            Var bv = trainable(cpu, beta, c);
            roundings[0] = 0;
            Var a = fused == 1 ? ops.dropoutAddLayerNorm(xv, rv, 0.1f, 3, gv, bv, 1e-12f)
                    : ops.layerNorm(ops.add(ops.dropout(xv, 0.1f, 3), rv), gv, bv, 1e-12f);
            ys[fused] = cpu.downloadFloat(ops.linear(a, trainable(cpu, w, out, c), trainable(cpu, bias, out)).value());
            if (fused == 1) assertEquals(0, roundings[0], "the LayerNorm's output needs no rounding pass");
            else assertEquals(1, roundings[0], "the unfused path rounds the LayerNorm's output once");
            tape.reset();
            cpu.resetArena();
        }
        assertSame("the projection of the LayerNorm's output", ys[0], ys[1]);
    }

    private static void assertSame(String what, float[] want, float[] got) {
        assertTrue(Math.abs(want[0]) > 0, what + " is not trivially zero");
        for (int j = 0; j < want.length; j++) assertEquals(want[j], got[j], 0f, what + "[" + j + "]");
    }

    private static Tensor bf16(Tensor t) {
        Tensor r = cpu.allocate(DType.BF16, t.shape());
        cpu.copy(r, t);
        return r;
    }

    private static Tensor upload(float[] values, int... shape) {
        Tensor t = cpu.allocate(DType.F32, shape);
        cpu.upload(t, values);
        return t;
    }

    @Test
    void hiddenStatesAreRoundedToBf16OncePerStep() {
        Random rnd = new Random(11);
        int rows = 6, in = 8;
        int[] roundings = {0};
        Backend counting = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("copy") && ((Tensor) args[0]).dtype() == DType.BF16
                            && ((Tensor) args[1]).size() == (long) rows * in) roundings[0]++;
                    try {
                        return method.invoke(cpu, args);
                    } catch (java.lang.reflect.InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        Tape tape = new Tape(counting);
        Ops ops = new Ops(tape);
        ops.setPrecision(Precision.BF16);
        Linear[] qkv = {new Linear(counting, in, in, true), new Linear(counting, in, in, true), new Linear(counting, in, in, true)};
        for (Linear l : qkv) l.weight.enableBf16Copy();
        Tensor xt = cpu.allocate(DType.F32, rows, in);
        for (int step = 0; step < 2; step++) {
            float[] x = gaussian(rnd, rows * in);
            cpu.upload(xt, x);
            Var h = new Var(xt, true);
            roundings[0] = 0;
            Var[] ys = new Var[3];
            for (int i = 0; i < 3; i++) ys[i] = qkv[i].forward(ops, h);
            assertEquals(1, roundings[0], "the three projections of one activation round it once");
            // and each still multiplies this step's values: the same as a fresh tape's single projection
            for (int i = 0; i < 3; i++) {
                Tape alone = new Tape(cpu);
                Ops single = new Ops(alone);
                single.setPrecision(Precision.BF16);
                float[] ref = cpu.downloadFloat(qkv[i].forward(single, new Var(xt, false)).value());
                float[] got = cpu.downloadFloat(ys[i].value());
                for (int j = 0; j < ref.length; j++) assertEquals(ref[j], got[j], 0f, "step " + step + " projection " + i + "[" + j + "]");
            }
            tape.reset();
        }
        cpu.resetArena();
    }

    private static float[][] forwardBackward(Linear layer, Precision precision, float[] x, float[] dy, int in) {
        return forwardBackward(layer, precision, x, dy, in, layer::forward);
    }

    private static float[][] forwardBackward(Linear layer, Precision precision, float[] x, float[] dy, int in,
                                             java.util.function.BiFunction<Ops, Var, Var> f) {
        Tape tape = new Tape(cpu);
        Ops ops = new Ops(tape);
        ops.setPrecision(precision);
        layer.weight.zeroGrad();
        layer.bias.zeroGrad();
        Var xv = trainable(cpu, x, x.length / in, in);
        Var y = f.apply(ops, xv);
        Tensor seed = cpu.allocate(DType.F32, y.value().shape());
        cpu.upload(seed, dy);
        // loss = sum(y * dy): its gradient with respect to y is dy
        Var weighted = new Var(cpu.allocateTemp(DType.F32, y.value().shape()), true);
        cpu.add(weighted.value(), y.value(), 1f, y.value(), 0f);
        tape.record(() -> cpu.accumulate(tape.gradOf(y), seed, 1f));
        tape.backward(ops.sum(weighted, 0f));
        float[][] r = {cpu.downloadFloat(y.value()), cpu.downloadFloat(xv.grad()), cpu.downloadFloat(layer.weight.grad()),
                cpu.downloadFloat(layer.bias.grad())};
        tape.reset();
        cpu.resetArena();
        return r;
    }

    private static float[] rounded(float[] x) {
        float[] r = new float[x.length];
        for (int i = 0; i < x.length; i++) r[i] = HalfFloats.roundToBf16(x[i]);
        return r;
    }
}
