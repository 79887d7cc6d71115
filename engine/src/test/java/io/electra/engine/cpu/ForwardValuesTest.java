package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import static io.electra.engine.testing.Approx.assertClose;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** Each forward kernel on small cases worked out by hand (the working is in the comments), in F32 and F64. */
class ForwardValuesTest {
    private static final CpuBackend cpu = new CpuBackend(2);

    @AfterAll
    static void close() {
        cpu.close();
    }

    private static Tensor t(DType dtype, int[] shape, double... values) {
        Tensor x = cpu.allocate(dtype, shape);
        if (dtype == DType.I32) {
            int[] v = new int[values.length];
            for (int i = 0; i < v.length; i++) v[i] = (int) values[i];
            cpu.upload(x, v);
        } else {
            cpu.upload(x, values);
        }
        return x;
    }

    private static int[] s(int... shape) {
        return shape;
    }

    private static double tol(DType dtype) {
        return dtype == DType.F32 ? 1e-6 : 1e-14;
    }

    private static void check(String what, DType dtype, Tensor actual, double... expected) {
        assertClose(what + " " + dtype, expected, cpu.downloadDouble(actual), tol(dtype), tol(dtype));
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void biasAddAndItsBackwardAddPerColumn(DType d) {
        Tensor in = t(d, s(2, 2), 1, 2, 3, 4), bias = t(d, s(2), 10, 20), out = cpu.allocate(d, 2, 2);
        cpu.biasAdd(out, in, bias);
        check("biasAdd", d, out, 11, 22, 13, 24);
        Tensor dBias = t(d, s(2), 1, 1);
        cpu.biasBackward(dBias, in); // 1 + (1 + 3), 1 + (2 + 4)
        check("biasBackward", d, dBias, 5, 7);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void addScaleAccumulateAndSum(DType d) {
        Tensor a = t(d, s(2), 1, 2), b = t(d, s(2), 3, 4), out = cpu.allocate(d, 2);
        cpu.add(out, a, 2, b, -1); // 2*1 - 3, 2*2 - 4
        check("add", d, out, -1, 0);
        cpu.scale(out, b, 3);
        check("scale", d, out, 9, 12);
        cpu.accumulate(out, a, -2); // 9 - 2, 12 - 4
        check("accumulate", d, out, 7, 8);
        Tensor total = cpu.allocate(d);
        cpu.sum(total, t(d, s(2, 2), 1, 2, 3, 4), 0.5f); // 0.5 * 10
        check("sum", d, total, 5);
        Tensor dIn = t(d, s(3), 1, 2, 3);
        cpu.sumBackward(dIn, t(d, s(1), 4), 0.25f); // each += 0.25 * 4
        check("sumBackward", d, dIn, 2, 3, 4);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void geluIsXTimesNormalCdf(DType d) {
        // Phi(1) = 0.8413447460685429, Phi(2) = 0.9772498680518208 (standard normal table);
        // gelu(-1) = -Phi(-1) = -(1 - Phi(1)).
        Tensor in = t(d, s(4), 0, 1, -1, 2), out = cpu.allocate(d, 4);
        cpu.geluForward(out, in);
        check("gelu", d, out, 0, 0.8413447460685429, -0.15865525393145705, 1.9544997361036416);
    }

    @org.junit.jupiter.api.Test
    void geluOfALongRowMatchesTheScalarDefinitionElementByElement() {
        // Long enough for the vector path; the scalar formula with the scalar erf is the reference.
        int n = 1003;
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = -9 + 18.0 * i / n;
        Tensor in = t(DType.F64, s(n), x), out = cpu.allocate(DType.F64, n);
        cpu.geluForward(out, in);
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) expected[i] = 0.5 * x[i] * (1 + Erf.erf(x[i] / Math.sqrt(2)));
        assertClose("gelu long row", expected, cpu.downloadDouble(out), 1e-15, 1e-15);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void layerNormNormalisesEachRow(DType d) {
        // Row [1 2 3 4]: mean 2.5, var (2.25 + .25 + .25 + 2.25)/4 = 1.25, rstd = 1/sqrt(1.25) = 0.894427191;
        // xhat = [-1.5 -.5 .5 1.5] * rstd = [-1.3416407865 -0.4472135955 0.4472135955 1.3416407865];
        // weight [1 2 1 1], bias [0 0 1 0]. Row [5 5 5 5]: var 0, eps 1 -> rstd 1, xhat 0, out = bias.
        Tensor in = t(d, s(1, 4), 1, 2, 3, 4), w = t(d, s(4), 1, 2, 1, 1), b = t(d, s(4), 0, 0, 1, 0);
        Tensor out = cpu.allocate(d, 1, 4), mean = cpu.allocate(d, 1), rstd = cpu.allocate(d, 1);
        cpu.layerNormForward(out, mean, rstd, in, w, b, 0f);
        check("layerNorm", d, out, -1.3416407864998738, -0.8944271909999159, 1.4472135954999579, 1.3416407864998738);
        check("mean", d, mean, 2.5);
        check("rstd", d, rstd, 0.8944271909999159);
        cpu.layerNormForward(out, mean, rstd, t(d, s(1, 4), 5, 5, 5, 5), w, b, 1f);
        check("constant row", d, out, 0, 0, 1, 0);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void softmaxOfLogsIsNormalisedAndStableForHugeInputs(DType d) {
        // softmax(0, ln 2, ln 3) = (1, 2, 3) / 6; softmax(1000, 1000) = (1/2, 1/2) without overflow.
        Tensor in = t(d, s(1, 3), 0, Math.log(2), Math.log(3)), out = cpu.allocate(d, 1, 3);
        cpu.softmaxForward(out, in);
        check("softmax", d, out, 1 / 6.0, 2 / 6.0, 3 / 6.0);
        Tensor big = t(d, s(2), 1000, 1000), outBig = cpu.allocate(d, 2);
        cpu.softmaxForward(outBig, big);
        check("softmax large", d, outBig, 0.5, 0.5);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void splitHeadsRegroupsByHeadAndMergeUndoesIt(DType d) {
        // B=1, T=2, H=2, D=2: token 0 = [h0: 1 2 | h1: 3 4], token 1 = [h0: 5 6 | h1: 7 8].
        Tensor in = t(d, s(1, 2, 4), 1, 2, 3, 4, 5, 6, 7, 8), split = cpu.allocate(d, 1, 2, 2, 2);
        cpu.splitHeads(split, in, 2, false);
        check("splitHeads", d, split, 1, 2, 5, 6, 3, 4, 7, 8);
        Tensor merged = cpu.allocate(d, 1, 2, 4);
        cpu.mergeHeads(merged, split, false);
        check("mergeHeads", d, merged, 1, 2, 3, 4, 5, 6, 7, 8);
        cpu.mergeHeads(merged, split, true);
        check("mergeHeads accumulate", d, merged, 2, 4, 6, 8, 10, 12, 14, 16);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void attentionGivesPaddedKeysProbabilityExactlyZero(DType d) {
        // B=2, H=1, T=2, D=1, scale 1. q = [1, 2], k = [0, ln 3], v = [2, 6] in both batches.
        // Batch 0, all keys attend: query 0 scores (0, ln 3) -> P = (1/4, 3/4), out = 2/4 + 18/4 = 5;
        //   query 1 scores (0, 2 ln 3) -> P = (1/10, 9/10), out = 0.2 + 5.4 = 5.6.
        // Batch 1, key 1 padding: P = (1, 0) for both queries, out = 2.
        double ln3 = Math.log(3);
        Tensor q = t(d, s(2, 1, 2, 1), 1, 2, 1, 2), k = t(d, s(2, 1, 2, 1), 0, ln3, 0, ln3);
        Tensor v = t(d, s(2, 1, 2, 1), 2, 6, 2, 6), mask = t(DType.I32, s(2, 2), 1, 1, 1, 0);
        Tensor out = cpu.allocate(d, 2, 1, 2, 1), saved = cpu.allocate(d, 2, 1, 2, 2);
        cpu.attentionForward(out, saved, q, k, v, mask, 1f, 0f, null);
        check("attention out", d, out, 5, 5.6, 2, 2);
        check("attention probabilities", d, saved, 0.25, 0.75, 0.1, 0.9, 1, 0, 1, 0);
        double[] p = cpu.downloadDouble(saved);
        assertEquals(0.0, p[5], "padded key, query 0");
        assertEquals(0.0, p[7], "padded key, query 1");
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void attentionPaddingIsExactlyZeroOnRowsLongerThanAVector(DType d) {
        // T = 19 keys (vector lanes and a scalar tail), every third key padding, random scores.
        int seq = 19, dim = 5;
        java.util.Random rnd = new java.util.Random(8);
        double[] qv = new double[seq * dim], kv = new double[seq * dim];
        for (int i = 0; i < qv.length; i++) {
            qv[i] = 4 * rnd.nextGaussian();
            kv[i] = 4 * rnd.nextGaussian();
        }
        double[] m = new double[seq];
        for (int j = 0; j < seq; j++) m[j] = j % 3 == 1 ? 0 : 1;
        Tensor q = t(d, s(1, 1, seq, dim), qv), k = t(d, s(1, 1, seq, dim), kv), v = t(d, s(1, 1, seq, dim), kv);
        Tensor out = cpu.allocate(d, 1, 1, seq, dim), saved = cpu.allocate(d, 1, 1, seq, seq);
        cpu.attentionForward(out, saved, q, k, v, t(DType.I32, s(1, seq), m), 0.5f, 0f, null);
        double[] p = cpu.downloadDouble(saved);
        for (int i = 0; i < seq; i++) {
            double rowSum = 0;
            for (int j = 0; j < seq; j++) {
                if (j % 3 == 1) assertEquals(0.0, p[i * seq + j], "query " + i + ", padded key " + j);
                rowSum += p[i * seq + j];
            }
            assertEquals(1.0, rowSum, tol(d) * seq, "row " + i + " sums to 1");
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void embeddingLooksUpRowsAndScatterAddsDuplicates(DType d) {
        Tensor table = t(d, s(3, 2), 1, 2, 3, 4, 5, 6), ids = t(DType.I32, s(3), 2, 0, 2), out = cpu.allocate(d, 3, 2);
        cpu.embeddingForward(out, table, ids);
        check("embedding", d, out, 5, 6, 1, 2, 5, 6);
        Tensor dTable = cpu.allocate(d, 3, 2);
        cpu.embeddingBackward(dTable, t(d, s(3, 2), 1, 1, 10, 10, 100, 100), ids); // row 2 gets 1 + 100
        check("embedding backward", d, dTable, 10, 10, 0, 0, 101, 101);
        Tensor picked = cpu.allocate(d, 1, 2);
        cpu.gatherRows(picked, table, t(DType.I32, s(1), 1));
        check("gatherRows", d, picked, 3, 4);
        cpu.scatterAddRows(dTable, picked, t(DType.I32, s(1), 0));
        check("scatterAddRows", d, dTable, 13, 14, 0, 0, 101, 101);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void crossEntropyAveragesOverRowsWithTargets(DType d) {
        // Row 0 logits (0, ln 3), target 1: lse = ln 4, loss ln 4 - ln 3 = ln(4/3).
        // Row 1 target -100: ignored. Row 2 logits (0, 0), target 0: lse ln 2, loss ln 2.
        // Mean over 2 counted rows.
        Tensor logits = t(d, s(3, 2), 0, Math.log(3), 7, -7, 0, 0), targets = t(DType.I32, s(3), 1, -100, 0);
        Tensor loss = cpu.allocate(d), lse = cpu.allocate(d, 3);
        cpu.crossEntropyForward(loss, lse, logits, targets);
        check("cross-entropy", d, loss, (Math.log(4.0 / 3) + Math.log(2)) / 2);
        Tensor dLogits = cpu.allocate(d, 3, 2), dLoss = t(d, s(1), 1);
        cpu.crossEntropyBackward(dLogits, dLoss, logits, lse, targets);
        // (softmax - onehot) / 2: row 0 (1/4, 3/4 - 1)/2, row 1 zero, row 2 (1/2 - 1, 1/2)/2
        check("cross-entropy backward", d, dLogits, 0.125, -0.125, 0, 0, -0.25, 0.25);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void bceWithLogitsAveragesOverUnmaskedPositions(DType d) {
        // x = 0, y = 1: ln 2. x = 2, y = 0: 2 + ln(1 + e^-2) = ln(1 + e^2). x = -40, y = 1 masked.
        // x = -30, y = 1: 30 + ln(1 + e^-30), stable where the naive form would take log(0).
        Tensor x = t(d, s(4), 0, 2, -40, -30), y = t(d, s(4), 1, 0, 1, 1), mask = t(DType.I32, s(4), 1, 1, 0, 1);
        Tensor loss = cpu.allocate(d, 1);
        cpu.bceWithLogitsForward(loss, x, y, mask);
        check("bce", d, loss, (Math.log(2) + Math.log1p(Math.exp(2)) + 30 + Math.log1p(Math.exp(-30))) / 3);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void mseIsMeanSquaredDifference(DType d) {
        Tensor loss = cpu.allocate(d);
        cpu.mseForward(loss, t(d, s(3), 1, 2, 3), t(d, s(3), 1, 0, 0)); // (0 + 4 + 9) / 3
        check("mse", d, loss, 13.0 / 3);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void clippingAndAdamWFollowTheirFormulas(DType d) {
        Tensor sq = t(d, s(1), 1);
        cpu.sumSquaresAccumulate(sq, t(d, s(2), 3, 4)); // 1 + 9 + 16
        check("sumSquares", d, sq, 26);
        Tensor scale = cpu.allocate(d), norm2 = t(d, s(1), 25);
        cpu.clipFactor(scale, norm2, 1f); // 1 / (5 + 1e-6)
        check("clip", d, scale, 1 / (5 + 1e-6));
        cpu.clipFactor(scale, norm2, 10f);
        check("no clip", d, scale, 1);
        // Step 1 with Adam's bias corrections bc1 = 1 - 0.9, bc2 = 1 - 0.999: g = 2 * 0.5 = 1,
        // m = 0.1, v = 0.001, m/bc1 = 1, v/bc2 = 1, update = 1/(1 + 1e-8) + 0.01 * 1,
        // param = 1 - 0.1 * update.
        Tensor p = t(d, s(1), 1), g = t(d, s(1), 2), m = cpu.allocate(d, 1), v = cpu.allocate(d, 1);
        Tensor gs = t(d, s(1), 0.5), hyper = t(d, s(3), 1 - 0.9, 1 - 0.999, 0.1);
        cpu.adamwStep(p, g, m, v, gs, hyper, 0.9f, 0.999f, 1e-8f, 0.01f);
        double b1 = 0.9f, b2 = 0.999f; // the float hyper-parameters as the kernel sees them
        double mExp = (1 - b1), vExp = (1 - b2);
        double update = (mExp / (1 - 0.9)) / (Math.sqrt(vExp / (1 - 0.999)) + 1e-8f) + 0.01f;
        check("adamw m", d, m, mExp);
        check("adamw v", d, v, vExp);
        assertClose("adamw param " + d, 1 - 0.1 * update, cpu.downloadDouble(p)[0], 1e-6, 0);
        assertClose("adamw param by hand " + d, 0.899, cpu.downloadDouble(p)[0], 1e-6, 0);
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "F64"})
    void replaceTokensWritesSamplesAndLabelsChangedTokens(DType d) {
        // inputs [5 6 7 8], positions (1, 3) get samples (9, 8): position 3 keeps its token -> label 0.
        Tensor in = t(DType.I32, s(4), 5, 6, 7, 8), disc = cpu.allocate(DType.I32, 4), labels = cpu.allocate(d, 4);
        cpu.replaceTokens(disc, labels, in, t(DType.I32, s(2), 1, 3), t(DType.I32, s(2), 9, 8));
        assertArrayEquals(new int[]{5, 9, 7, 8}, cpu.downloadInt(disc));
        check("labels", d, labels, 0, 1, 0, 0);
    }
}
