package io.electra.engine.cpu;

/**
 * Per-thread working rows (double, float and int), grown on demand and reused, so kernels that
 * load a row, compute and store it back allocate nothing once warm. Each slot is a separate array;
 * a kernel uses distinct slots for buffers that are live at the same time.
 */
final class Scratch {
    static final int SLOTS = 6;
    private static final ThreadLocal<double[][]> ROWS = ThreadLocal.withInitial(() -> new double[SLOTS][0]);
    private static final ThreadLocal<float[][]> FLOATS = ThreadLocal.withInitial(() -> new float[SLOTS][0]);
    private static final ThreadLocal<int[][]> INTS = ThreadLocal.withInitial(() -> new int[SLOTS][0]);

    private Scratch() {
    }

    /** A thread-private array of at least {@code n} doubles in {@code slot}; contents are garbage. */
    static double[] get(int slot, int n) {
        double[][] rows = ROWS.get();
        if (rows[slot].length < n) rows[slot] = new double[Math.max(n, rows[slot].length * 3 / 2)];
        return rows[slot];
    }

    /** A thread-private array of at least {@code n} floats in {@code slot}; contents are garbage. */
    static float[] floats(int slot, int n) {
        float[][] rows = FLOATS.get();
        if (rows[slot].length < n) rows[slot] = new float[Math.max(n, rows[slot].length * 3 / 2)];
        return rows[slot];
    }

    /** A thread-private array of at least {@code n} ints in {@code slot}; contents are garbage. */
    static int[] ints(int slot, int n) {
        int[][] rows = INTS.get();
        if (rows[slot].length < n) rows[slot] = new int[Math.max(n, rows[slot].length * 3 / 2)];
        return rows[slot];
    }
}
