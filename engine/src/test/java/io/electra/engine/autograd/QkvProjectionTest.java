package io.electra.engine.autograd;

import io.electra.engine.DType;
import io.electra.engine.Precision;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.HalfFloats;
import io.electra.engine.nn.Linear;
import io.electra.engine.nn.Parameter;
import io.electra.engine.nn.StackedLinear;
import io.electra.engine.testing.GradCheck;
import io.electra.engine.testing.TapeGradCheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static io.electra.engine.testing.Approx.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;
import static io.electra.engine.testing.TestValues.gaussian;

/**
 * The query, key and value projections as one linear layer ({@link StackedLinear}, then
 * {@link Ops#splitHeadsQkv}) against the three projections of the same parameters, each split on its
 * own: the heads are the same bits (each column of the fused GEMM is the same dot product), and so
 * are the weight and bias gradients (each row of dW sums over the same N rows; each bias column over
 * the same rows). Only the input gradient differs: the fused GEMM sums its 3C products (and the
 * gradient already there) in one f32 sum, the three projections as three C-sums added one after the
 * other. Both are f32 evaluations of the same sum of n = 3C + 1 terms, each within
 * gamma_n = n u / (1 - n u) (u = 2^-24) times the sum of the terms' magnitudes of the exact value
 * (Higham, "Accuracy and Stability of Numerical Algorithms", 3.1; a product of two bf16 values is
 * exact in f32, an f32 product rounds inside its fused multiply-add), so they differ by at most twice
 * that. The F64 run checks the fused op's gradients against central finite differences.
 */
class QkvProjectionTest {
    private static final CpuBackend cpu = new CpuBackend(2);
    private static final double U = 0x1p-24;

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Test
    void fusedProjectionGivesTheSameHeadsAndWeightGradientsAndInputGradientsWithinRounding() {
        Random rnd = new Random(17);
        int b = 2, t = 5, heads = 2, d = 8, c = heads * d;
        StackedLinear qkv = new StackedLinear(cpu, c, c, true, "query", "key", "value");
        Linear out = new Linear(cpu, c, c, true);
        for (Tensor p : new Tensor[] {qkv.weight.value(), qkv.bias.value(), out.weight.value(), out.bias.value()}) {
            cpu.upload(p, gaussian(rnd, (int) p.size(), 0.5));
        }
        float[] x = gaussian(rnd, b * t * c, 1), target = gaussian(rnd, b * t * c, 1);
        Tensor mask = cpu.allocate(DType.I32, b, t);
        cpu.upload(mask, new int[] {1, 1, 1, 1, 0, 1, 1, 1, 1, 1});
        for (Precision precision : Precision.values()) {
            if (precision == Precision.BF16) for (Linear part : qkv.parts()) part.weight.enableBf16Copy();
            for (boolean shared : new boolean[] {false, true}) {
                String what = precision + (shared ? ", x also used elsewhere" : "");
                Run fused = run(qkv, out, x, target, mask, precision, shared, true);
                Run apart = run(qkv, out, x, target, mask, precision, shared, false);
                for (int part = 0; part < 3; part++) {
                    assertSameBits(what + ": head " + "qkv".charAt(part), apart.heads[part], fused.heads[part]);
                }
                assertSameBits(what + ": weight gradient", apart.dWeight, fused.dWeight);
                assertSameBits(what + ": bias gradient", apart.dBias, fused.dBias);
                // |dx fused - dx apart| <= 2 gamma_n (|old| + sum_j |dPre[r, j] W[j, col]|), old = 0.5 when shared
                float[] w = cpu.downloadFloat(qkv.weight.value());
                if (precision == Precision.BF16) for (int i = 0; i < w.length; i++) w[i] = HalfFloats.roundToBf16(w[i]);
                int n = 3 * c + 1;
                double gamma = n * U / (1 - n * U);
                for (int r = 0; r < b * t; r++) {
                    for (int col = 0; col < c; col++) {
                        double terms = shared ? 0.5 : 0;
                        for (int j = 0; j < 3 * c; j++) terms += Math.abs((double) fused.dPre[r * 3 * c + j] * w[j * c + col]);
                        double diff = Math.abs((double) fused.dx[r * c + col] - apart.dx[r * c + col]);
                        if (diff > 2 * gamma * terms) {
                            fail(what + ": dx[" + r + ", " + col + "] fused " + fused.dx[r * c + col] + ", apart "
                                    + apart.dx[r * c + col] + ", difference " + diff + " > " + 2 * gamma * terms);
                        }
                    }
                }
            }
        }
        for (Linear part : qkv.parts()) part.weight.disableBf16Copy();
    }

    /** What one forward and backward of the attention block gave: heads, dPre [N, 3C] as the GEMMs read it, dx, dW, dBias. */
    private record Run(float[][] heads, float[] dPre, float[] dx, float[] dWeight, float[] dBias) {
    }

    private static Run run(StackedLinear qkv, Linear out, float[] x, float[] target, Tensor mask, Precision precision,
                           boolean shared, boolean fused) {
        Tape tape = new Tape(cpu);
        Ops ops = new Ops(tape);
        ops.setPrecision(precision);
        int b = mask.dim(0), t = mask.dim(1), c = out.in(), heads = 2;
        qkv.zeroGrad();
        Tensor xt = cpu.allocateTemp(DType.F32, b, t, c);
        cpu.upload(xt, x);
        Var xv = ops.scale(new Var(xt, true), 1f);  // an activation: its gradient starts fresh
        Var[] qkvHeads = new Var[3];
        Var y = null;
        if (fused) {
            y = qkv.forward(ops, xv);
            Ops.QkvHeads split = ops.splitHeadsQkv(y, heads);
            qkvHeads = new Var[] {split.q(), split.k(), split.v()};
        } else {
            for (int part = 0; part < 3; part++) qkvHeads[part] = ops.splitHeads(qkv.parts().get(part).forward(ops, xv), heads);
        }
        Var context = ops.mergeHeads(ops.attention(qkvHeads[0], qkvHeads[1], qkvHeads[2], mask, 0f, 1).context());
        Tensor targetT = cpu.allocateTemp(DType.F32, b * t * c);
        cpu.upload(targetT, target);
        Var loss = ops.mse(ops.view(out.forward(ops, context), b * t * c), targetT);
        if (shared) loss = ops.add(loss, 1, ops.sum(xv, 0.5f), 1);  // x's gradient holds 0.5 before the projection's
        tape.backward(loss);
        float[][] h = new float[3][];
        for (int part = 0; part < 3; part++) h[part] = cpu.downloadFloat(qkvHeads[part].value());
        float[] dPre = null;
        if (y != null) {
            dPre = cpu.downloadFloat(y.grad());
            if (precision == Precision.BF16) for (int i = 0; i < dPre.length; i++) dPre[i] = HalfFloats.roundToBf16(dPre[i]);
        }
        Run r = new Run(h, dPre, cpu.downloadFloat(xv.grad()), cpu.downloadFloat(qkv.weight.grad()),
                cpu.downloadFloat(qkv.bias.grad()));
        tape.reset();
        cpu.resetArena();
        return r;
    }

    @Test
    void fusedProjectionGradientsMatchFiniteDifferencesInF64() {
        Random rnd = new Random(23);
        int b = 2, t = 3, heads = 2, d = 3, c = heads * d;
        F64QkvFixture f = F64QkvFixture.of(cpu, rnd, b, t, c, new int[] {1, 1, 0, 1, 1, 1});
        StackedLinear qkv = f.qkv();
        Parameter xp = f.x();
        Tensor mask = f.mask(), target = f.target();
        for (boolean shared : new boolean[] {false, true}) {
            // shared: the fused output and x feed other terms too, so both backward calls add into existing gradients
            Function<Ops, Var> loss = ops -> {
                Var x = ops.gelu(xp);
                Var y = qkv.forward(ops, x);
                Ops.QkvHeads split = ops.splitHeadsQkv(y, heads);
                Var context = ops.mergeHeads(ops.attention(split.q(), split.k(), split.v(), mask, 0f, 1).context());
                Var l = ops.mse(ops.view(context, b * t * c), target);
                return shared ? ops.add(ops.add(l, 1, ops.sum(ops.gelu(y), 0.3f), 1), 1, ops.sum(ops.gelu(x), 0.2f), 1) : l;
            };
            List<Parameter> checked = f.parameters();
            assertEquals(7, checked.size(), "three weights, three biases and x");
            // perturbs each part's rows of the stack: the fused forward must see them
            TapeGradCheck.assertGradients(new Ops(new Tape(cpu)), loss, checked, shared ? ", shared" : "");
        }
    }
}
