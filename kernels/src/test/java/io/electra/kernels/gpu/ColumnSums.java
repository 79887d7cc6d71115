package io.electra.kernels.gpu;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * The check for a bias gradient a kernel sums in its own order: got[c] = start[c] + sum over rows of
 * values[r, c], within the worst-case error of any f32 summation order of those n terms,
 * 2 gamma_n sum|terms| with gamma_n = n u / (1 - n u), u = 2^-24 (Higham, "Accuracy and Stability of
 * Numerical Algorithms", 4.2); n counts the rows, the partial sums that are added again, and start.
 */
final class ColumnSums {
    private ColumnSums() {
    }

    static void assertWithinSummationBound(String kernel, float[] start, float[] values, int rows, int cols, int partials,
                                           float[] got) {
        int n = rows + partials + 1;
        double gamma = n * 0x1p-24 / (1 - n * 0x1p-24);
        for (int c = 0; c < cols; c++) {
            double sum = start[c], terms = Math.abs(start[c]);
            for (int r = 0; r < rows; r++) {
                sum += values[r * cols + c];
                terms += Math.abs(values[r * cols + c]);
            }
            if (Math.abs(got[c] - sum) > 2 * gamma * terms) {
                fail(kernel + ": column " + c + " sums to " + got[c] + ", exactly " + sum + ", beyond the bound " + 2 * gamma * terms);
            }
        }
    }
}
