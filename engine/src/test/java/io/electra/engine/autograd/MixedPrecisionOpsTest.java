package io.electra.engine.autograd;

import io.electra.engine.DType;
import io.electra.engine.Precision;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.HalfFloats;
import io.electra.engine.nn.Linear;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
        Var q = param(gaussian(rnd, 80), shape), k = param(gaussian(rnd, 80), shape), v = param(gaussian(rnd, 80), shape);
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

    private static float[][] forwardBackward(Linear layer, Precision precision, float[] x, float[] dy, int in) {
        Tape tape = new Tape(cpu);
        Ops ops = new Ops(tape);
        ops.setPrecision(precision);
        layer.weight.zeroGrad();
        layer.bias.zeroGrad();
        Var xv = param(x, x.length / in, in);
        Var y = layer.forward(ops, xv);
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

    private static Var param(float[] values, int... shape) {
        Tensor t = cpu.allocate(DType.F32, shape);
        cpu.upload(t, values);
        return new Var(t, true);
    }

    private static float[] gaussian(Random rnd, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    private static float[] rounded(float[] x) {
        float[] r = new float[x.length];
        for (int i = 0; i < x.length; i++) r[i] = HalfFloats.roundToBf16(x[i]);
        return r;
    }
}
