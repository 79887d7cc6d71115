package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.testing.GradCheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static io.electra.engine.testing.GradCheck.assertGradient;
import static io.electra.engine.testing.GradCheck.dot;
import static io.electra.engine.testing.GradCheck.randomF64;
import static io.electra.engine.testing.GradCheck.uniform;
import static io.electra.engine.testing.GradCheck.zerosLike;

/**
 * Every backward kernel against central finite differences in F64, on random shapes that include
 * odd sizes and size 1. Each case computes L = sum(w * forward(inputs)) with fixed random weights w,
 * runs the backward with dOut = w, and compares every input gradient with (L(x+h) - L(x-h)) / 2h.
 * Backward kernels accumulate, so each gradient buffer starts with random values that the check
 * subtracts again: a kernel that overwrote instead of adding would fail.
 */
class GradientCheckTest {
    private static final CpuBackend cpu = new CpuBackend(2);
    private static final int[] DIMS = {1, 2, 3, 5, 7};

    @AfterAll
    static void close() {
        cpu.close();
    }

    private static int dim(Random rnd) {
        return DIMS[rnd.nextInt(DIMS.length)];
    }

    /** A gradient buffer pre-filled with random values; {@link #grad} returns what was added to it. */
    private record Grad(Tensor t, double[] initial) {
        static Grad like(Tensor x, Random rnd) {
            Tensor g = zerosLike(cpu, x);
            double[] init = uniform(rnd, g.size(), -1, 1);
            cpu.upload(g, init);
            return new Grad(g, init);
        }

        double[] added() {
            double[] v = cpu.downloadDouble(t);
            for (int i = 0; i < v.length; i++) v[i] -= initial[i];
            return v;
        }
    }

    private static Tensor weightsLike(Tensor out, double[] w) {
        Tensor t = zerosLike(cpu, out);
        cpu.upload(t, w);
        return t;
    }

    @Test
    void matmulGradientsThroughTransposedMatmulsMatchFiniteDifferences() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 8; trial++) {
            boolean ta = (trial & 1) != 0, tb = (trial & 2) != 0, batched = trial >= 4;
            int m = dim(rnd), n = dim(rnd), k = dim(rnd), batch = 2;
            Tensor a = randomF64(cpu, rnd, shape(batched, batch, ta ? k : m, ta ? m : k));
            Tensor b = randomF64(cpu, rnd, shape(batched, batch, tb ? n : k, tb ? k : n));
            Tensor c = cpu.allocate(DType.F64, shape(batched, batch, m, n));
            double alpha = 0.75;
            double[] w = uniform(rnd, c.size(), -1, 1);
            Tensor dc = weightsLike(c, w);
            Grad da = Grad.like(a, rnd), db = Grad.like(b, rnd);
            // The tape's rules: for C = alpha op(A) op(B), dA and dB are again matmuls.
            if (!ta) cpu.matmul(da.t, dc, false, b, !tb, (float) alpha, true);  // dA = dC op(B)^T
            else cpu.matmul(da.t, b, tb, dc, true, (float) alpha, true);        // dA^T... = op(B) dC^T
            if (!tb) cpu.matmul(db.t, a, !ta, dc, false, (float) alpha, true);  // dB = op(A)^T dC
            else cpu.matmul(db.t, dc, true, a, ta, (float) alpha, true);        // dB = dC^T op(A)
            String what = "matmul transA=" + ta + " transB=" + tb + " batched=" + batched + " m,n,k=" + m + "," + n + "," + k;
            Runnable fwd = () -> cpu.matmul(c, a, ta, b, tb, (float) alpha, false);
            assertGradient(what + " dA", cpu, a, da.added(), () -> { fwd.run(); return dot(cpu, c, w); });
            assertGradient(what + " dB", cpu, b, db.added(), () -> { fwd.run(); return dot(cpu, c, w); });
        }
    }

    private static int[] shape(boolean batched, int batch, int rows, int cols) {
        return batched ? new int[]{batch, rows, cols} : new int[]{rows, cols};
    }

    @Test
    void biasAddBackwardMatchesFiniteDifferences() {
        Random rnd = new Random(12);
        for (int trial = 0; trial < 4; trial++) {
            Tensor x = randomF64(cpu, rnd, dim(rnd), dim(rnd), dim(rnd));
            Tensor bias = randomF64(cpu, rnd, x.cols());
            Tensor y = zerosLike(cpu, x);
            double[] w = uniform(rnd, y.size(), -1, 1);
            Grad dBias = Grad.like(bias, rnd), dx = Grad.like(x, rnd);
            cpu.biasBackward(dBias.t, weightsLike(y, w));
            cpu.accumulate(dx.t, weightsLike(y, w), 1); // the input's gradient passes straight through
            assertGradient("biasAdd dBias", cpu, bias, dBias.added(), () -> { cpu.biasAdd(y, x, bias); return dot(cpu, y, w); });
            assertGradient("biasAdd dIn", cpu, x, dx.added(), () -> { cpu.biasAdd(y, x, bias); return dot(cpu, y, w); });
        }
    }

    @Test
    void addAndScaleBackwardThroughAccumulateMatchFiniteDifferences() {
        Random rnd = new Random(13);
        Tensor a = randomF64(cpu, rnd, 3, dim(rnd)), b = randomF64(cpu, rnd, a.shape()), y = zerosLike(cpu, a);
        double[] w = uniform(rnd, y.size(), -1, 1);
        Tensor dy = weightsLike(y, w);
        Grad da = Grad.like(a, rnd), db = Grad.like(b, rnd);
        // y = -3 (0.5 a - 2 b): dL/da = -1.5 w and dL/db = 6 w, sent back with accumulate as the tape does.
        cpu.accumulate(da.t, dy, -1.5f);
        cpu.accumulate(db.t, dy, 6f);
        java.util.function.DoubleSupplier loss = () -> {
            cpu.add(y, a, 0.5f, b, -2f);
            cpu.scale(y, y, -3f);
            return dot(cpu, y, w);
        };
        assertGradient("add/scale dA", cpu, a, da.added(), loss);
        assertGradient("add/scale dB", cpu, b, db.added(), loss);
    }

    @Test
    void geluBackwardMatchesFiniteDifferences() {
        Random rnd = new Random(14);
        Tensor x = randomF64(cpu, rnd, dim(rnd), 13);
        double[] xs = uniform(rnd, x.size(), -5, 5);
        cpu.upload(x, xs);
        Tensor y = zerosLike(cpu, x);
        double[] w = uniform(rnd, y.size(), -1, 1);
        Grad dx = Grad.like(x, rnd);
        cpu.geluBackward(dx.t, weightsLike(y, w), x);
        assertGradient("gelu", cpu, x, dx.added(), () -> { cpu.geluForward(y, x); return dot(cpu, y, w); });
    }

    @Test
    void linearOutputGradMatchesFiniteDifferences() {
        Random rnd = new Random(22);
        for (boolean gelu : new boolean[]{false, true}) {
            // y = gelu(x + bias) or x + bias, x standing for the product: gradOut is dL/dx, dBias adds dL/dbias
            Tensor x = randomF64(cpu, rnd, dim(rnd), 13), bias = randomF64(cpu, rnd, 13);
            cpu.upload(x, uniform(rnd, x.size(), -4, 4));
            Tensor pre = zerosLike(cpu, x), y = zerosLike(cpu, x), dx = zerosLike(cpu, x);
            cpu.upload(dx, uniform(rnd, x.size(), -1, 1));  // overwritten, so no initial value to subtract
            double[] w = uniform(rnd, y.size(), -1, 1);
            Grad dBias = Grad.like(bias, rnd);
            cpu.biasAdd(pre, x, bias);
            cpu.linearOutputGrad(dx, dBias.t, weightsLike(y, w), gelu ? pre : null);
            java.util.function.DoubleSupplier loss = () -> {
                cpu.biasAdd(y, x, bias);
                if (gelu) cpu.geluForward(y, y);
                return dot(cpu, y, w);
            };
            assertGradient("linearOutputGrad gelu=" + gelu + " gradOut", cpu, x, cpu.downloadDouble(dx), loss);
            assertGradient("linearOutputGrad gelu=" + gelu + " dBias", cpu, bias, dBias.added(), loss);
        }
    }

    @Test
    void layerNormBackwardMatchesFiniteDifferences() {
        Random rnd = new Random(15);
        for (int trial = 0; trial < 5; trial++) {
            int rows = dim(rnd), cols = trial == 0 ? 1 : dim(rnd) + 1;
            Tensor x = randomF64(cpu, rnd, 1, rows, cols);
            Tensor weight = randomF64(cpu, rnd, cols), bias = randomF64(cpu, rnd, cols);
            Tensor y = zerosLike(cpu, x), mean = cpu.allocate(DType.F64, rows), rstd = cpu.allocate(DType.F64, rows);
            float eps = 1e-5f;
            double[] w = uniform(rnd, y.size(), -1, 1);
            Grad dx = Grad.like(x, rnd), dw = Grad.like(weight, rnd), db = Grad.like(bias, rnd);
            cpu.layerNormForward(y, mean, rstd, x, weight, bias, eps);
            cpu.layerNormBackward(dx.t, dw.t, db.t, weightsLike(y, w), x, mean, rstd, weight);
            java.util.function.DoubleSupplier loss = () -> {
                cpu.layerNormForward(y, mean, rstd, x, weight, bias, eps);
                return dot(cpu, y, w);
            };
            String what = "layerNorm " + rows + "x" + cols;
            assertGradient(what + " dIn", cpu, x, dx.added(), loss);
            assertGradient(what + " dWeight", cpu, weight, dw.added(), loss);
            assertGradient(what + " dBias", cpu, bias, db.added(), loss);
        }
    }

    /** The mask is fixed by its key, so the fused op is smooth in x, the residual and the LayerNorm parameters. */
    @Test
    void dropoutAddLayerNormBackwardMatchesFiniteDifferences() {
        Random rnd = new Random(21);
        for (int trial = 0; trial < 5; trial++) {
            int rows = dim(rnd), cols = trial == 0 ? 1 : dim(rnd) + 3;
            float p = trial % 2 == 0 ? 0.3f : 0f;
            RngKey key = new RngKey(5, trial, 77);
            Tensor x = randomF64(cpu, rnd, rows, cols), res = randomF64(cpu, rnd, rows, cols);
            Tensor weight = randomF64(cpu, rnd, cols), bias = randomF64(cpu, rnd, cols);
            Tensor y = zerosLike(cpu, x), sum = zerosLike(cpu, x);
            Tensor mean = cpu.allocate(DType.F64, rows), rstd = cpu.allocate(DType.F64, rows);
            float eps = 1e-5f;
            double[] w = uniform(rnd, y.size(), -1, 1);
            Grad dx = Grad.like(x, rnd), dr = Grad.like(res, rnd), dw = Grad.like(weight, rnd), db = Grad.like(bias, rnd);
            cpu.dropoutAddLayerNormForward(y, null, sum, mean, rstd, x, res, weight, bias, eps, p, key);
            cpu.dropoutAddLayerNormBackward(dx.t, true, dr.t, true, dw.t, db.t, weightsLike(y, w), sum, mean, rstd, weight, p, key);
            java.util.function.DoubleSupplier loss = () -> {
                cpu.dropoutAddLayerNormForward(y, null, sum, mean, rstd, x, res, weight, bias, eps, p, key);
                return dot(cpu, y, w);
            };
            String what = "dropoutAddLayerNorm " + rows + "x" + cols + " p " + p;
            assertGradient(what + " dX", cpu, x, dx.added(), loss);
            assertGradient(what + " dResidual", cpu, res, dr.added(), loss);
            assertGradient(what + " dWeight", cpu, weight, dw.added(), loss);
            assertGradient(what + " dBias", cpu, bias, db.added(), loss);
        }
    }

    @Test
    void softmaxBackwardMatchesFiniteDifferences() {
        Random rnd = new Random(16);
        for (int trial = 0; trial < 4; trial++) {
            Tensor x = randomF64(cpu, rnd, dim(rnd), dim(rnd));
            cpu.scale(x, x, 3);
            Tensor y = zerosLike(cpu, x);
            double[] w = uniform(rnd, y.size(), -1, 1);
            Grad dx = Grad.like(x, rnd);
            cpu.softmaxForward(y, x);
            cpu.softmaxBackward(dx.t, weightsLike(y, w), y);
            assertGradient("softmax " + java.util.Arrays.toString(x.shape()), cpu, x, dx.added(),
                    () -> { cpu.softmaxForward(y, x); return dot(cpu, y, w); });
        }
    }

    @Test
    void splitAndMergeHeadsAreEachOthersBackward() {
        Random rnd = new Random(17);
        int b = dim(rnd), t = dim(rnd), h = 3, d = dim(rnd);
        Tensor x = randomF64(cpu, rnd, b, t, h * d), split = cpu.allocate(DType.F64, b, h, t, d);
        double[] w = uniform(rnd, split.size(), -1, 1);
        Grad dx = Grad.like(x, rnd);
        cpu.mergeHeads(dx.t, weightsLike(split, w), true);
        assertGradient("splitHeads", cpu, x, dx.added(), () -> { cpu.splitHeads(split, x, h, false); return dot(cpu, split, w); });

        Tensor heads = randomF64(cpu, rnd, b, h, t, d), merged = cpu.allocate(DType.F64, b, t, h * d);
        double[] w2 = uniform(rnd, merged.size(), -1, 1);
        Grad dHeads = Grad.like(heads, rnd);
        cpu.splitHeads(dHeads.t, weightsLike(merged, w2), h, true);
        assertGradient("mergeHeads", cpu, heads, dHeads.added(), () -> { cpu.mergeHeads(merged, heads, false); return dot(cpu, merged, w2); });
    }

    @Test
    void attentionBackwardMatchesFiniteDifferencesWithPaddingAndDropout() {
        Random rnd = new Random(18);
        int[][] shapes = {{1, 1, 1, 1}, {2, 3, 5, 4}, {3, 2, 7, 1}, {1, 1, 4, 3}};
        for (int[] s : shapes) {
            for (float p : new float[]{0f, 0.3f}) {
                int bsz = s[0], heads = s[1], seq = s[2], hd = s[3];
                Tensor q = randomF64(cpu, rnd, s), k = randomF64(cpu, rnd, s), v = randomF64(cpu, rnd, s);
                Tensor out = cpu.allocate(DType.F64, s), saved = cpu.allocate(DType.F64, cpu.attentionSavedShape(bsz, heads, seq, hd));
                Tensor mask = cpu.allocate(DType.I32, bsz, seq);
                int[] m = new int[bsz * seq];
                for (int i = 0; i < m.length; i++) m[i] = (i % seq == 0 || rnd.nextInt(3) > 0) ? 1 : 0; // key 0 always attends
                cpu.upload(mask, m);
                RngKey key = new RngKey(7, 3, RngKey.DROPOUT_BASE);
                float scale = (float) (1 / Math.sqrt(hd));
                double[] w = uniform(rnd, out.size(), -1, 1);
                Grad dq = Grad.like(q, rnd), dk = Grad.like(k, rnd), dv = Grad.like(v, rnd);
                cpu.attentionForward(out, saved, q, k, v, mask, scale, p, key);
                cpu.attentionBackward(dq.t, dk.t, dv.t, weightsLike(out, w), q, k, v, mask, saved, out, scale, p, key);
                java.util.function.DoubleSupplier loss = () -> {
                    cpu.attentionForward(out, saved, q, k, v, mask, scale, p, key);
                    return dot(cpu, out, w);
                };
                String what = "attention " + java.util.Arrays.toString(s) + " p=" + p;
                assertGradient(what + " dq", cpu, q, dq.added(), loss);
                assertGradient(what + " dk", cpu, k, dk.added(), loss);
                assertGradient(what + " dv", cpu, v, dv.added(), loss);
            }
        }
    }

    @Test
    void embeddingAndRowScatterBackwardMatchFiniteDifferencesWithDuplicateIds() {
        Random rnd = new Random(19);
        for (int trial = 0; trial < 3; trial++) {
            int vocab = dim(rnd) + 1, cols = dim(rnd), n = dim(rnd) + 2;
            Tensor table = randomF64(cpu, rnd, vocab, cols);
            Tensor ids = cpu.allocate(DType.I32, n);
            int[] idv = new int[n];
            for (int i = 0; i < n; i++) idv[i] = rnd.nextInt(vocab);
            idv[n - 1] = idv[0]; // a duplicate: its two gradients must add
            cpu.upload(ids, idv);
            Tensor out = cpu.allocate(DType.F64, n, cols);
            double[] w = uniform(rnd, out.size(), -1, 1);
            Grad dTable = Grad.like(table, rnd), dRows = Grad.like(table, rnd);
            cpu.embeddingBackward(dTable.t, weightsLike(out, w), ids);
            cpu.scatterAddRows(dRows.t, weightsLike(out, w), ids);
            assertGradient("embedding", cpu, table, dTable.added(), () -> { cpu.embeddingForward(out, table, ids); return dot(cpu, out, w); });
            assertGradient("gatherRows", cpu, table, dRows.added(), () -> { cpu.gatherRows(out, table, ids); return dot(cpu, out, w); });
        }
    }

    @Test
    void dropoutBackwardMatchesFiniteDifferences() {
        Random rnd = new Random(20);
        Tensor x = randomF64(cpu, rnd, 9, 7), y = zerosLike(cpu, x);
        RngKey key = new RngKey(5, 1, RngKey.DROPOUT_BASE + 2);
        double[] w = uniform(rnd, y.size(), -1, 1);
        Grad dx = Grad.like(x, rnd);
        cpu.dropoutBackward(dx.t, weightsLike(y, w), 0.4f, key);
        assertGradient("dropout", cpu, x, dx.added(), () -> { cpu.dropoutForward(y, x, 0.4f, key); return dot(cpu, y, w); });
    }

    @Test
    void crossEntropyBackwardMatchesFiniteDifferencesWithIgnoredRows() {
        Random rnd = new Random(21);
        for (int trial = 0; trial < 4; trial++) {
            int rows = dim(rnd) + 1, vocab = dim(rnd) + 1;
            Tensor logits = randomF64(cpu, rnd, rows, vocab);
            cpu.scale(logits, logits, 4);
            Tensor targets = cpu.allocate(DType.I32, rows);
            int[] t = new int[rows];
            for (int i = 0; i < rows; i++) t[i] = i == 0 ? rnd.nextInt(vocab) : (rnd.nextInt(3) == 0 ? -100 : rnd.nextInt(vocab));
            cpu.upload(targets, t);
            Tensor loss = cpu.allocate(DType.F64), lse = cpu.allocate(DType.F64, rows), dLoss = cpu.allocate(DType.F64);
            cpu.fill(dLoss, 0.7);
            Grad dLogits = Grad.like(logits, rnd);
            cpu.crossEntropyForward(loss, lse, logits, targets);
            cpu.crossEntropyBackward(dLogits.t, dLoss, logits, lse, targets);
            assertGradient("crossEntropy " + rows + "x" + vocab, cpu, logits, dLogits.added(),
                    () -> { cpu.crossEntropyForward(loss, lse, logits, targets); return 0.7 * cpu.downloadDouble(loss)[0]; });
        }
    }

    @Test
    void bceWithLogitsBackwardMatchesFiniteDifferencesUnderMask() {
        Random rnd = new Random(22);
        int n = 11;
        Tensor logits = randomF64(cpu, rnd, n), labels = cpu.allocate(DType.F64, n), mask = cpu.allocate(DType.I32, n);
        cpu.scale(logits, logits, 6);
        double[] y = new double[n];
        int[] m = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = rnd.nextInt(2);
            m[i] = i == 0 ? 1 : rnd.nextInt(2);
        }
        cpu.upload(labels, y);
        cpu.upload(mask, m);
        Tensor loss = cpu.allocate(DType.F64, 1), dLoss = cpu.allocate(DType.F64, 1);
        cpu.fill(dLoss, 1.3);
        Grad dx = Grad.like(logits, rnd);
        cpu.bceWithLogitsBackward(dx.t, dLoss, logits, labels, mask);
        assertGradient("bce", cpu, logits, dx.added(),
                () -> { cpu.bceWithLogitsForward(loss, logits, labels, mask); return 1.3 * cpu.downloadDouble(loss)[0]; });
    }

    @Test
    void mseBackwardMatchesFiniteDifferences() {
        Random rnd = new Random(23);
        Tensor pred = randomF64(cpu, rnd, 6), target = randomF64(cpu, rnd, 6);
        Tensor loss = cpu.allocate(DType.F64), dLoss = cpu.allocate(DType.F64);
        cpu.fill(dLoss, -0.4);
        Grad dp = Grad.like(pred, rnd);
        cpu.mseBackward(dp.t, dLoss, pred, target);
        assertGradient("mse", cpu, pred, dp.added(),
                () -> { cpu.mseForward(loss, pred, target); return -0.4 * cpu.downloadDouble(loss)[0]; });
    }

    @Test
    void sumBackwardMatchesFiniteDifferences() {
        Random rnd = new Random(24);
        Tensor x = randomF64(cpu, rnd, 1, dim(rnd), 3), out = cpu.allocate(DType.F64, 1), dOut = cpu.allocate(DType.F64, 1);
        cpu.fill(dOut, 2.5);
        Grad dx = Grad.like(x, rnd);
        cpu.sumBackward(dx.t, dOut, 0.25f);
        assertGradient("sum", cpu, x, dx.added(), () -> { cpu.sum(out, x, 0.25f); return 2.5 * cpu.downloadDouble(out)[0]; });
    }
}
