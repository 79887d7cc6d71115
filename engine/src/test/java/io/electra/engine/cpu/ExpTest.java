package io.electra.engine.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The exp of softmax, cross-entropy and GELU: accurate, and the same bits in vector lanes and scalar tails. */
class ExpTest {

    private static double[] arguments(int n, double lo, double hi, long seed) {
        Random rnd = new Random(seed);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * rnd.nextDouble();
        return x;
    }

    @Test
    void doubleExpIsWithinTwoUlpOfMathExpAndLanesMatchTheScalarTwin() {
        double[] x = arguments(100_003, -708, 709.4, 1);
        double[] e = x.clone();
        Exp.expShifted(e, 0, e.length, 0);
        for (int i = 0; i < x.length; i++) {
            double ref = Math.exp(x[i]), scalar = Exp.exp(x[i]);
            if (Double.doubleToRawLongBits(scalar) != Double.doubleToRawLongBits(e[i])) {
                fail("x = " + x[i] + ": lane " + e[i] + ", scalar twin " + scalar);
            }
            if (!(Math.abs(e[i] - ref) <= 2 * Math.ulp(ref))) fail("x = " + x[i] + ": " + e[i] + ", Math.exp " + ref);
        }
    }

    @Test
    void floatExpIsWithinTwoUlpOfMathExpAndLanesMatchTheScalarTwin() {
        double[] xd = arguments(100_003, -87.3, 88.3, 2);
        float[] x = new float[xd.length];
        for (int i = 0; i < x.length; i++) x[i] = (float) xd[i];
        float[] e = x.clone();
        Exp.expShifted(e, 0, e.length, 0f);
        for (int i = 0; i < x.length; i++) {
            float ref = (float) Math.exp(x[i]), scalar = Exp.exp(x[i]);
            if (Float.floatToRawIntBits(scalar) != Float.floatToRawIntBits(e[i])) {
                fail("x = " + x[i] + ": lane " + e[i] + ", scalar twin " + scalar);
            }
            // Near the bottom the results are subnormal; there an ulp of the smallest normal counts.
            if (!(Math.abs(e[i] - ref) <= 2 * Math.max(Math.ulp(ref), Math.ulp(Float.MIN_NORMAL)))) {
                fail("x = " + x[i] + ": " + e[i] + ", Math.exp " + ref);
            }
        }
    }

    @Test
    void edgesAreExact() {
        float[] f = {Float.NEGATIVE_INFINITY, -200f, 0f, Float.NaN, Float.POSITIVE_INFINITY, 100f, 1f, -1f,
                0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f, 0f}; // long enough for a vector pass on any width up to 16
        float[] e = f.clone();
        Exp.expShifted(e, 0, e.length, 0f);
        assertEquals(0f, e[0], "exp(-inf)");
        assertEquals(0f, e[1], "below the smallest normal");
        assertEquals(1f, e[2], "exp(0)");
        assertTrue(Float.isNaN(e[3]), "exp(NaN)");
        assertEquals(Float.POSITIVE_INFINITY, e[4], "exp(inf)");
        assertEquals(Float.POSITIVE_INFINITY, e[5], "overflow");
        assertEquals(0.0, Exp.exp(Double.NEGATIVE_INFINITY));
        assertEquals(1.0, Exp.exp(0.0));
        assertTrue(Double.isNaN(Exp.exp(Double.NaN)));
    }
}
