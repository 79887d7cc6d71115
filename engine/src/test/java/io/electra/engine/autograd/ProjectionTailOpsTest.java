package io.electra.engine.autograd;

import io.electra.engine.DType;
import io.electra.engine.Precision;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.nn.Parameter;
import io.electra.engine.testing.GradCheck;
import io.electra.engine.testing.TapeGradCheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static io.electra.engine.testing.Approx.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertNull;
import static io.electra.engine.testing.TestValues.gaussian;
import static io.electra.engine.testing.TestValues.value;

/**
 * {@link Ops#linearDropoutAddLayerNorm} and {@link Ops#feedForwardDropoutAddLayerNorm}, a post-LN block's
 * output projection (or feed-forward) and its tail as one op, against the ops they fuse:
 * {@code dropoutAddLayerNorm(linear(...))} and {@code dropoutAddLayerNorm(feedForward(...))}. In both
 * precisions, with dropout, the output and every gradient (input, residual, weights, biases, LayerNorm
 * parameters) are the same bits: the tail's backward hands the projection the gradient its own backward
 * would have made (rounded to bf16 once in mixed precision, the bias summed from the f32 values in the
 * same order). A frozen projection takes the plain tail backward. F64: central finite differences.
 */
class ProjectionTailOpsTest {
    private static final CpuBackend cpu = new CpuBackend(2);

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Test
    void fusedOpsAreTheProjectionThenTheTailBitForBit() {
        Random rnd = new Random(51);
        int b = 2, t = 5, c = 12, f = 20;
        float[][] values = {
                gaussian(rnd, b * t * c, 1), gaussian(rnd, b * t * c, 1),                 // x, residual
                gaussian(rnd, c * c, 0.4), gaussian(rnd, c, 0.4),                          // w, bias
                gaussian(rnd, f * c, 0.4), gaussian(rnd, f, 0.4), gaussian(rnd, c * f, 0.4), gaussian(rnd, c, 0.4),  // w1 b1 w2 b2
                gaussian(rnd, c, 1), gaussian(rnd, c, 1), gaussian(rnd, b * t * c, 1)};   // gamma, beta, dOut
        for (Precision precision : Precision.values()) {
            for (boolean feedForward : new boolean[] {false, true}) {
                for (boolean frozen : new boolean[] {false, true}) {
                    String what = precision + (feedForward ? " feed-forward" : " linear") + (frozen ? ", frozen projection" : "");
                    float[][] fused = run(values, precision, feedForward, frozen, true, b, t, c, f);
                    float[][] apart = run(values, precision, feedForward, frozen, false, b, t, c, f);
                    String[] names = {"out", "dx", "dResidual", "dGamma", "dBeta", "dW", "dBias", "dW1", "dB1"};
                    for (int i = 0; i < names.length; i++) {
                        if (apart[i] == null) {
                            assertNull(fused[i], what + ": " + names[i]);
                            continue;
                        }
                        assertSameBits(what + ": " + names[i], apart[i], fused[i]);
                    }
                }
            }
        }
    }

    private static float[][] run(float[][] v, Precision precision, boolean feedForward, boolean frozen, boolean fused, int b, int t,
                                 int c, int f) {
        Tape tape = new Tape(cpu);
        Ops ops = new Ops(tape);
        ops.setPrecision(precision);
        ops.setRng(7, 2);
        Var x0 = value(cpu, v[0], !frozen, b, t, c), residual = ops.scale(value(cpu, v[1], true, b, t, c), 1f);
        Var x = frozen ? x0 : ops.scale(x0, 1f);
        Var w = value(cpu, v[2], !frozen, c, c), bias = value(cpu, v[3], !frozen, c);
        Var w1 = value(cpu, v[4], !frozen, f, c), b1 = value(cpu, v[5], !frozen, f);
        Var w2 = value(cpu, v[6], !frozen, c, f), b2 = value(cpu, v[7], !frozen, c);
        Var gamma = value(cpu, v[8], true, c), beta = value(cpu, v[9], true, c);
        Var out;
        if (feedForward) {
            // the feed-forward's residual is its input: x feeds both
            out = fused ? ops.feedForwardDropoutAddLayerNorm(residual, w1, b1, w2, b2, 0.2f, 3, gamma, beta, 1e-12f)
                    : ops.dropoutAddLayerNorm(ops.feedForward(residual, w1, b1, w2, b2), residual, 0.2f, 3, gamma, beta, 1e-12f);
        } else {
            out = fused ? ops.linearDropoutAddLayerNorm(x, w, bias, residual, 0.2f, 3, gamma, beta, 1e-12f)
                    : ops.dropoutAddLayerNorm(ops.linear(x, w, bias), residual, 0.2f, 3, gamma, beta, 1e-12f);
        }
        Tensor seed = cpu.allocateTemp(DType.F32, b, t, c);
        cpu.upload(seed, v[10]);
        Var o = out;
        tape.record(() -> cpu.accumulate(tape.gradOf(o), seed, 1f));
        tape.backward(ops.sum(new Var(cpu.allocateTemp(DType.F32, 1), true), 0f));
        float[][] r = {cpu.downloadFloat(out.value()), grad(x0), grad(residual), grad(gamma), grad(beta),
                grad(feedForward ? w2 : w), grad(feedForward ? b2 : bias), feedForward ? grad(w1) : null, feedForward ? grad(b1) : null};
        tape.reset();
        cpu.resetArena();
        return r;
    }

    private static float[] grad(Var v) {
        return v.grad() == null ? null : cpu.downloadFloat(v.grad());
    }

    @Test
    void gradientsMatchFiniteDifferencesInF64() {
        Random rnd = new Random(53);
        int b = 2, t = 3, c = 4, f = 6;
        Parameter x = f64(rnd, "x", b, t, c), res = f64(rnd, "residual", b, t, c), w = f64(rnd, "w", c, c), bias = f64(rnd, "bias", c);
        Parameter w1 = f64(rnd, "w1", f, c), b1 = f64(rnd, "b1", f), w2 = f64(rnd, "w2", c, f), b2 = f64(rnd, "b2", c);
        Parameter gamma = f64(rnd, "gamma", c), beta = f64(rnd, "beta", c);
        Tensor target = cpu.allocate(DType.F64, b * t * c);
        cpu.upload(target, GradCheck.uniform(rnd, target.size(), -1, 1));
        Ops ops = new Ops(new Tape(cpu));
        ops.setRng(5, 1);
        TapeGradCheck.assertGradients(ops, o -> {
            Var a = o.linearDropoutAddLayerNorm(o.gelu(x), w, bias, res, 0.3f, 1, gamma, beta, 1e-5f);
            Var y = o.feedForwardDropoutAddLayerNorm(a, w1, b1, w2, b2, 0.3f, 2, gamma, beta, 1e-5f);
            return o.mse(o.view(y, b * t * c), target);
        }, List.of(x, res, w, bias, w1, b1, w2, b2, gamma, beta), "");
    }

    private static Parameter f64(Random rnd, String name, int... shape) {
        return TapeGradCheck.randomParameter(cpu, rnd, name, shape);
    }
}
