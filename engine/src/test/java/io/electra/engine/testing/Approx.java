package io.electra.engine.testing;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Element-wise comparison with tolerance {@code atol + rtol * |expected|}, or bit for bit. A failure names the
 * worst element: its index, both values and the difference.
 */
public final class Approx {
    private Approx() {
    }

    public static void assertClose(String what, double[] expected, double[] actual, double atol, double rtol) {
        if (expected.length != actual.length) {
            fail(what + ": expected " + expected.length + " elements, got " + actual.length);
        }
        int worst = -1;
        double worstExcess = 0;
        for (int i = 0; i < expected.length; i++) {
            double diff = Math.abs(expected[i] - actual[i]);
            double excess = diff - (atol + rtol * Math.abs(expected[i]));
            boolean bad = excess > 0 || Double.isNaN(actual[i]) != Double.isNaN(expected[i]);
            if (bad && (worst < 0 || excess > worstExcess)) {
                worst = i;
                worstExcess = excess;
            }
        }
        if (worst >= 0) {
            fail(String.format("%s: element %d expected %.10g but was %.10g (difference %.3g, tolerance %.3g)",
                    what, worst, expected[worst], actual[worst], Math.abs(expected[worst] - actual[worst]),
                    atol + rtol * Math.abs(expected[worst])));
        }
    }

    public static void assertClose(String what, float[] expected, float[] actual, double atol, double rtol) {
        assertClose(what, toDouble(expected), toDouble(actual), atol, rtol);
    }

    public static void assertClose(String what, double expected, double actual, double atol, double rtol) {
        assertClose(what, new double[]{expected}, new double[]{actual}, atol, rtol);
    }

    /** The zero-tolerance case: the same bit patterns (a zero's sign and a NaN's payload included). */
    public static void assertSameBits(String what, float[] expected, float[] actual) {
        if (expected.length != actual.length) fail(what + ": expected " + expected.length + " elements, got " + actual.length);
        for (int i = 0; i < expected.length; i++) {
            if (Float.floatToRawIntBits(expected[i]) != Float.floatToRawIntBits(actual[i])) {
                fail(what + ": element " + i + " is " + actual[i] + " but must be exactly " + expected[i]);
            }
        }
    }

    public static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }
}
