package io.electra.glue;

import java.util.Arrays;

/**
 * Pearson and Spearman correlation, as GLUE scores STS-B (through SciPy). Sums run in double
 * precision over two passes (means first), so large shifts in the inputs cost no accuracy.
 */
public final class Correlation {
    private Correlation() {
    }

    /**
     * Pearson's r. When either input is constant r is undefined (SciPy answers NaN); this returns 0,
     * as {@link ClassificationMetrics#matthews} does, so that selecting the best checkpoint by
     * comparison never meets a NaN.
     */
    public static double pearson(float[] x, float[] y) {
        return pearson(toDoubles(x, "x"), toDoubles(y, "y"));
    }

    /** Spearman's rho: Pearson's r of the ranks, tied values sharing the average of their ranks. */
    public static double spearman(float[] x, float[] y) {
        return pearson(averageRanks(toDoubles(x, "x")), averageRanks(toDoubles(y, "y")));
    }

    /**
     * 1-based ranks in ascending order; a run of equal values all get the mean of the ranks they
     * span, so {@code [10, 20, 20, 30]} ranks as {@code [1, 2.5, 2.5, 4]}.
     */
    public static double[] averageRanks(double[] values) {
        int n = values.length;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        Arrays.sort(order, (a, b) -> Double.compare(values[a], values[b]));
        double[] ranks = new double[n];
        for (int start = 0; start < n; ) {
            int end = start + 1;
            while (end < n && values[order[end]] == values[order[start]]) end++;
            // positions start..end-1 hold ranks start+1..end; their mean is (start+1+end)/2
            double rank = (start + 1 + end) / 2.0;
            for (int k = start; k < end; k++) ranks[order[k]] = rank;
            start = end;
        }
        return ranks;
    }

    private static double pearson(double[] x, double[] y) {
        if (x.length != y.length) throw new IllegalArgumentException("x has " + x.length + " values, y " + y.length);
        if (x.length == 0) throw new IllegalArgumentException("no values to correlate");
        // Tested before centring: the mean of equal values can differ from them in the last bit,
        // which would leave rounding noise to be correlated.
        if (isConstant(x) || isConstant(y)) return 0;
        double meanX = mean(x);
        double meanY = mean(y);
        double sxy = 0;
        double sxx = 0;
        double syy = 0;
        for (int i = 0; i < x.length; i++) {
            double dx = x[i] - meanX;
            double dy = y[i] - meanY;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        return sxy / Math.sqrt(sxx * syy);
    }

    private static boolean isConstant(double[] v) {
        for (double d : v) {
            if (d != v[0]) return false;
        }
        return true;
    }

    private static double mean(double[] v) {
        double sum = 0;
        for (double d : v) sum += d;
        return sum / v.length;
    }

    private static double[] toDoubles(float[] v, String name) {
        double[] out = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) throw new IllegalArgumentException(name + "[" + i + "] is " + v[i]);
            out[i] = v[i];
        }
        return out;
    }
}
