package io.electra.engine.cpu;

import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The fused post-LN tail against the three ops it replaces (dropoutForward, add, layerNormForward, and
 * their backwards into zero-filled buffers) in F32: the same bits, a gradient's -0 against +0 aside.
 */
class DropoutAddLayerNormTest {
    private static final CpuBackend cpu = new CpuBackend(2);
    private static final float EPS = 1e-12f;

    @AfterAll
    static void close() {
        cpu.close();
    }

    private static Tensor normal(Random rnd, double scale, int... shape) {
        Tensor t = cpu.allocate(DType.F32, shape);
        float[] v = new float[(int) t.size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) (scale * rnd.nextGaussian());
        cpu.upload(t, v);
        return t;
    }

    private static Tensor copyOf(Tensor t) {
        Tensor c = cpu.allocate(t.dtype(), t.shape());
        cpu.copy(c, t);
        return c;
    }

    private static void assertSame(String what, Tensor want, Tensor got) {
        float[] w = cpu.downloadFloat(want), g = cpu.downloadFloat(got);
        assertEquals(w.length, g.length, what);
        for (int i = 0; i < w.length; i++) {
            if (!(w[i] == g[i] || Float.isNaN(w[i]) && Float.isNaN(g[i]))) fail(what + ": element " + i + " is " + g[i] + ", the unfused ops give " + w[i]);
        }
    }

    @ParameterizedTest(name = "[{0}, {1}] p {2}")
    @CsvSource({"1, 1, 0.1", "7, 33, 0", "7, 33, 0.1", "130, 256, 0.1", "65, 768, 0.5"})
    void forwardIsTheUnfusedOpsBitForBit(int rows, int cols, float p) {
        Random rnd = new Random(rows * 31L + cols);
        RngKey key = new RngKey(3, 9, 12);
        Tensor x = normal(rnd, 1, rows, cols), res = normal(rnd, 3, rows, cols), w = normal(rnd, 1, cols), b = normal(rnd, 1, cols);
        Tensor dropped = cpu.allocate(DType.F32, rows, cols), sum = cpu.allocate(DType.F32, rows, cols);
        Tensor out = cpu.allocate(DType.F32, rows, cols), mean = cpu.allocate(DType.F32, rows), rstd = cpu.allocate(DType.F32, rows);
        cpu.dropoutForward(dropped, x, p, key);
        cpu.add(sum, dropped, 1f, res, 1f);
        cpu.layerNormForward(out, mean, rstd, sum, w, b, EPS);

        Tensor sum2 = cpu.allocate(DType.F32, rows, cols), out2 = cpu.allocate(DType.F32, rows, cols);
        Tensor mean2 = cpu.allocate(DType.F32, rows), rstd2 = cpu.allocate(DType.F32, rows);
        Tensor outBf16 = cpu.allocate(DType.BF16, rows, cols), wantBf16 = cpu.allocate(DType.BF16, rows, cols);
        cpu.dropoutAddLayerNormForward(out2, outBf16, sum2, mean2, rstd2, x, res, w, b, EPS, p, key);
        assertSame("sum", sum, sum2);
        assertSame("out", out, out2);
        assertSame("mean", mean, mean2);
        assertSame("rstd", rstd, rstd2);
        cpu.copy(wantBf16, out);  // the bf16 side output is copy's rounding of the same out
        assertSame("outBf16", wantBf16, outBf16);
        Tensor out3 = cpu.allocate(DType.F32, rows, cols);  // and without it, out is the same
        cpu.dropoutAddLayerNormForward(out3, null, sum2, mean2, rstd2, x, res, w, b, EPS, p, key);
        assertSame("out without outBf16", out, out3);
    }

    @ParameterizedTest(name = "[{0}, {1}] p {2} accumulate x {3} residual {4}, gradients {5}")
    @CsvSource({"1, 1, 0.1, false, false, both", "7, 33, 0, false, false, both", "7, 33, 0.1, true, false, both",
            "130, 256, 0.1, false, true, both", "65, 768, 0.5, true, true, both", "7, 33, 0.1, false, false, x",
            "7, 33, 0.1, true, false, residual"})
    void backwardIsTheUnfusedOpsBitForBit(int rows, int cols, float p, boolean accX, boolean accR, String which) {
        Random rnd = new Random(rows * 17L + cols);
        RngKey key = new RngKey(4, 2, 13);
        Tensor x = normal(rnd, 1, rows, cols), res = normal(rnd, 3, rows, cols), w = normal(rnd, 1, cols), b = normal(rnd, 1, cols);
        Tensor sum = cpu.allocate(DType.F32, rows, cols), out = cpu.allocate(DType.F32, rows, cols);
        Tensor mean = cpu.allocate(DType.F32, rows), rstd = cpu.allocate(DType.F32, rows);
        cpu.dropoutAddLayerNormForward(out, null, sum, mean, rstd, x, res, w, b, EPS, p, key);
        Tensor dOut = normal(rnd, 1, rows, cols);
        Tensor dX = accX ? normal(rnd, 1, rows, cols) : cpu.allocate(DType.F32, rows, cols);
        Tensor dR = accR ? normal(rnd, 1, rows, cols) : cpu.allocate(DType.F32, rows, cols);
        Tensor dW = normal(rnd, 1, cols), dB = normal(rnd, 1, cols);
        Tensor wantX = copyOf(dX), wantR = copyOf(dR), wantW = copyOf(dW), wantB = copyOf(dB);
        // the unfused backward, as the tape ran it: LayerNorm into a zeroed dSum, add's backward, dropout's
        Tensor dSum = cpu.allocate(DType.F32, rows, cols);
        cpu.layerNormBackward(dSum, wantW, wantB, dOut, sum, mean, rstd, w);
        if (!accR) cpu.fill(wantR, 0);
        cpu.accumulate(wantR, dSum, 1f);
        if (!accX) cpu.fill(wantX, 0);
        cpu.dropoutBackward(wantX, dSum, p, key);

        if (!accX) cpu.fill(dX, Float.NaN);  // overwritten, so nothing of the old contents may survive
        if (!accR) cpu.fill(dR, Float.NaN);
        boolean gx = !which.equals("residual"), gr = !which.equals("x");
        Tensor dXBefore = copyOf(dX), dRBefore = copyOf(dR);
        cpu.dropoutAddLayerNormBackward(gx ? dX : null, accX, gr ? dR : null, accR, dW, dB, dOut, sum, mean, rstd, w, p, key);
        assertSame("dX", gx ? wantX : dXBefore, dX);
        assertSame("dResidual", gr ? wantR : dRBefore, dR);
        assertSame("dWeight", wantW, dW);
        assertSame("dBias", wantB, dB);
    }

    @Test
    void badArgumentsAreRefusedByName() {
        Random rnd = new Random(1);
        Tensor x = normal(rnd, 1, 4, 8), res = normal(rnd, 1, 4, 8), w = normal(rnd, 1, 8), b = normal(rnd, 1, 8);
        Tensor sum = cpu.allocate(DType.F32, 4, 8), out = cpu.allocate(DType.F32, 4, 8);
        Tensor mean = cpu.allocate(DType.F32, 4), rstd = cpu.allocate(DType.F32, 4);
        String noKey = assertThrows(IllegalArgumentException.class,
                () -> cpu.dropoutAddLayerNormForward(out, null, sum, mean, rstd, x, res, w, b, EPS, 0.1f, null)).getMessage();
        assertTrue(noKey.contains("dropoutAddLayerNormForward") && noKey.contains("RngKey"), noKey);
        Tensor wrong = cpu.allocate(DType.F32, 4, 7);
        String shape = assertThrows(IllegalArgumentException.class,
                () -> cpu.dropoutAddLayerNormForward(out, null, sum, mean, rstd, x, wrong, w, b, EPS, 0f, null)).getMessage();
        String side = assertThrows(IllegalArgumentException.class,
                () -> cpu.dropoutAddLayerNormForward(out, cpu.allocate(DType.F32, 4, 8), sum, mean, rstd, x, res, w, b, EPS, 0f,
                        null)).getMessage();
        assertTrue(side.contains("dropoutAddLayerNormForward") && side.contains("BF16"), side);
        assertTrue(shape.contains("dropoutAddLayerNormForward") && shape.contains("[4, 7]"), shape);
        Tensor g = cpu.allocate(DType.F32, 4, 8);
        String alias = assertThrows(IllegalArgumentException.class,
                () -> cpu.dropoutAddLayerNormBackward(g, false, g, false, w, b, out, sum, mean, rstd, w, 0f, null)).getMessage();
        assertTrue(alias.contains("different"), alias);
    }
}
