package io.electra.engine.cpu;

/**
 * Per-thread working rows in double precision, grown on demand and reused, so kernels that load a
 * row, compute and store it back allocate nothing once warm. Each slot is a separate array; a kernel
 * uses distinct slots for buffers that are live at the same time.
 */
final class Scratch {
    static final int SLOTS = 6;
    private static final ThreadLocal<double[][]> ROWS = ThreadLocal.withInitial(() -> new double[SLOTS][0]);

    private Scratch() {
    }

    /** A thread-private array of at least {@code n} doubles in {@code slot}; contents are garbage. */
    static double[] get(int slot, int n) {
        double[][] rows = ROWS.get();
        if (rows[slot].length < n) rows[slot] = new double[Math.max(n, rows[slot].length * 3 / 2)];
        return rows[slot];
    }
}
