package io.electra.engine.autograd;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.nn.Parameter;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The tape and the differentiable ops, checked against central finite differences in F64. */
class TapeTest {
    final CpuBackend b = new CpuBackend(2);
    final SplittableRandom rng = new SplittableRandom(5);

    Parameter param(String name, int... shape) {
        Parameter p = new Parameter(b, DType.F64, name, true, shape);
        double[] v = new double[(int) Tensor.sizeOf(shape)];
        for (int i = 0; i < v.length; i++) v[i] = rng.nextDouble(-1, 1);
        b.upload(p.value(), v);
        return p;
    }

    Tensor ints(int[] v, int... shape) {
        Tensor t = b.allocate(DType.I32, shape);
        b.upload(t, v);
        return t;
    }

    Tensor doubles(double[] v, int... shape) {
        Tensor t = b.allocate(DType.F64, shape);
        b.upload(t, v);
        return t;
    }

    /** Runs {@code loss} forward, backward, and compares every parameter's gradient with central differences. */
    void checkGradients(List<Parameter> params, Function<Ops, Var> loss) {
        Tape tape = new Tape(b);
        Ops ops = new Ops(tape);
        ops.setRng(3, 7);
        for (Parameter p : params) p.zeroGrad();
        tape.backward(loss.apply(ops));
        tape.reset();
        b.resetArena();
        for (Parameter p : params) {
            double[] value = b.downloadDouble(p.value()), grad = b.downloadDouble(p.grad());
            for (int i = 0; i < value.length; i++) {
                double h = 1e-6, keep = value[i];
                value[i] = keep + h;
                b.upload(p.value(), value);
                double up = eval(ops, tape, loss);
                value[i] = keep - h;
                b.upload(p.value(), value);
                double down = eval(ops, tape, loss);
                value[i] = keep;
                b.upload(p.value(), value);
                double fd = (up - down) / (2 * h);
                assertEquals(fd, grad[i], 1e-6 + 1e-5 * Math.abs(fd), p.name() + "[" + i + "]");
            }
        }
    }

    double eval(Ops ops, Tape tape, Function<Ops, Var> loss) {
        try (var s = tape.noGrad()) {
            double v = b.downloadDouble(loss.apply(ops).value())[0];
            b.resetArena();
            return v;
        }
    }

    @Test
    void sharedIntermediateGetsGradientFromBothUsesOnce() {
        Parameter x = param("x", 5);
        Tape tape = new Tape(b);
        Ops ops = new Ops(tape);
        Var h = ops.gelu(x);                 // the shared node is an intermediate, not an input
        Var loss = ops.sum(ops.add(ops.scale(h, 3), 1, ops.scale(h, 5), 1), 1);
        tape.backward(loss);
        double[] xs = b.downloadDouble(x.value()), g = b.downloadDouble(x.grad());
        for (int i = 0; i < 5; i++) {
            double z = xs[i];
            double pdf = Math.exp(-z * z / 2) / Math.sqrt(2 * Math.PI);
            double cdf = 0.5 * (1 + erf(z / Math.sqrt(2)));
            assertEquals(8 * (cdf + z * pdf), g[i], 1e-9, "d/dx of 3 gelu(x) + 5 gelu(x) at " + z);
        }
    }

    @Test
    void transformerBlockGradientsMatchFiniteDifferences() {
        int batch = 2, seq = 3, c = 4, heads = 2, vocab = 7;
        Parameter emb = param("emb", vocab, c), wq = param("wq", c, c), wk = param("wk", c, c), wv = param("wv", c, c);
        Parameter bq = param("bq", c), lnW = param("lnW", c), lnB = param("lnB", c), head = param("head", vocab, c);
        Parameter reg = param("reg", 1, c);
        Tensor ids = ints(new int[]{1, 4, 6, 2, 2, 0}, batch, seq);
        Tensor keyMask = ints(new int[]{1, 1, 1, 1, 1, 0}, batch, seq);   // the last key of row 1 is padding
        Tensor rows = ints(new int[]{0, 2, 3}, 3);
        Tensor targets = ints(new int[]{3, -1, 5}, 3);                    // the middle row is ignored
        Tensor labels = doubles(new double[]{1, 0, 1, 0, 1, 0}, batch * seq);
        Tensor mse = doubles(new double[]{0.5, -1, 2, 0, 1, 3}, batch * seq);
        checkGradients(List.of(emb, wq, wk, wv, bq, lnW, lnB, head, reg), ops -> {
            Var x = ops.embedding(emb, ids);                                          // (B, T, C)
            Var q = ops.splitHeads(ops.linear(x, wq, bq), heads);
            Var k = ops.splitHeads(ops.linear(x, wk, null), heads);
            Var v = ops.splitHeads(ops.linear(x, wv, null), heads);
            Var ctx = ops.mergeHeads(ops.attention(q, k, v, keyMask, 0.3f, 11).context());
            Var h = ops.layerNorm(ops.add(ops.dropout(ctx, 0.25f, 12), x), lnW, lnB, 1e-5f);
            Var logits = ops.linear(ops.gatherRows(h, rows), head, null);           // tied-style head
            Var ce = ops.crossEntropy(logits, targets);
            Var score = ops.view(ops.linear(ops.gelu(h), reg, null), batch * seq);
            Var bce = ops.bceWithLogits(score, labels, keyMask.view(batch * seq));
            Var sq = ops.mse(score, mse);
            Var soft = ops.sum(ops.softmax(logits), 0.1f);
            return ops.add(ops.add(ce, 1, bce, 2), 1, ops.add(sq, 0.5f, soft, 1), 1);
        });
    }

    @Test
    void noGradScopeRecordsNothingAndResetKeepsParameterGradients() {
        Parameter w = param("w", 3, 3);
        Tape tape = new Tape(b);
        Ops ops = new Ops(tape);
        Var x = Ops.constant(doubles(new double[]{1, 2, 3}, 1, 3));
        try (var s = tape.noGrad()) {
            Var y = ops.linear(x, w, null);
            assertEquals(0, tape.size());
            assertTrue(!y.requiresGrad());
        }
        Var h = ops.gelu(ops.linear(x, w, null));
        tape.backward(ops.sum(h, 1));
        double[] once = b.downloadDouble(w.grad());
        tape.reset();
        assertNull(h.grad(), "activation gradients are dropped with the step");
        tape.backward(ops.sum(ops.gelu(ops.linear(x, w, null)), 1));          // a second micro-batch accumulates
        double[] twice = b.downloadDouble(w.grad());
        for (int i = 0; i < once.length; i++) assertEquals(2 * once[i], twice[i], 1e-12);
    }

    /** erf by its Maclaurin series (|z| < 3 here), independent of the backend's implementation. */
    static double erf(double z) {
        double sum = 0, term = z;
        for (int n = 0; n < 200; n++) {
            sum += term / (2 * n + 1);
            term *= -z * z / (n + 1);
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }
}
