package io.electra.engine.cpu;

import io.electra.engine.RngKey;
import io.electra.engine.Tensor;

/**
 * Inverted dropout driven by the counter-based Philox stream: element i is kept when
 * uniform(key, i) >= p and then scaled by 1/(1-p). The mask is never stored; the backward
 * regenerates it from the key, exactly as the CUDA kernels do.
 */
final class DropoutCpu {
    private final ElementwiseCpu elementwise;

    DropoutCpu(ElementwiseCpu elementwise) {
        this.elementwise = elementwise;
    }

    /** out = in * keep / (1 - p). */
    void forward(Tensor out, Tensor in, float p, RngKey key) {
        if (out.storage() instanceof float[] o) {
            float[] x = (float[]) in.storage();
            int oo = Elements.index(out, 0), xo = Elements.index(in, 0);
            elementwise.chunked(in.size(), (from, n) -> {
                float[] keep = Scratch.floats(1, n);
                keepScale(key, from, keep, 0, n, p);
                int a = oo + (int) from, b = xo + (int) from;
                for (int i = 0; i < n; i++) o[a + i] = x[b + i] * keep[i];
            });
            return;
        }
        elementwise.chunked(in.size(), (from, n) -> {
            double[] x = Scratch.get(0, n), keep = Scratch.get(1, n);
            keepScale(key, from, keep, 0, n, p);
            Elements.load(in, from, x, 0, n);
            for (int i = 0; i < n; i++) x[i] *= keep[i];
            Elements.store(out, from, x, 0, n);
        });
    }

    /** dIn += dOut * keep / (1 - p). */
    void backward(Tensor dIn, Tensor dOut, float p, RngKey key) {
        if (dIn.storage() instanceof float[] d) {
            float[] g = (float[]) dOut.storage();
            int dOff = Elements.index(dIn, 0), gOff = Elements.index(dOut, 0);
            elementwise.chunked(dOut.size(), (from, n) -> {
                float[] keep = Scratch.floats(1, n);
                keepScale(key, from, keep, 0, n, p);
                int a = dOff + (int) from, b = gOff + (int) from;
                for (int i = 0; i < n; i++) d[a + i] += g[b + i] * keep[i];
            });
            return;
        }
        elementwise.chunked(dOut.size(), (from, n) -> {
            double[] g = Scratch.get(0, n), keep = Scratch.get(1, n);
            keepScale(key, from, keep, 0, n, p);
            Elements.load(dOut, from, g, 0, n);
            for (int i = 0; i < n; i++) g[i] *= keep[i];
            Elements.addTo(dIn, from, g, 0, n);
        });
    }

    /**
     * dst[off + k] = keep(start + k) / (1 - p) for k in [0, n): 0 for a dropped element, the
     * inverted-dropout scale for a kept one.
     */
    static void keepScale(RngKey key, long start, double[] dst, int off, int n, float p) {
        double scale = 1.0 / (1.0 - p);
        int[] bits = Scratch.ints(5, n);
        PhiloxCpu.bits(key, start, bits, 0, n);
        int limit = keepLimit(p);
        for (int k = 0; k < n; k++) dst[off + k] = PhiloxCpu.uniform24(bits[k]) >= limit ? scale : 0.0;
    }

    /** The float twin of {@link #keepScale(RngKey, long, double[], int, int, float)}. */
    static void keepScale(RngKey key, long start, float[] dst, int off, int n, float p) {
        float scale = (float) (1.0 / (1.0 - p));
        int[] bits = Scratch.ints(5, n);
        PhiloxCpu.bits(key, start, bits, 0, n);
        int limit = keepLimit(p);
        for (int k = 0; k < n; k++) dst[off + k] = PhiloxCpu.uniform24(bits[k]) >= limit ? scale : 0f;
    }

    /**
     * The smallest 24-bit k with k * 2^-24 >= p: uniform(bits) >= p exactly when
     * (bits >>> 8) >= keepLimit(p), since p * 2^24 is exact in double.
     */
    static int keepLimit(float p) {
        return (int) Math.ceil(p * 0x1.0p24);
    }
}
