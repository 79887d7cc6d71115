package io.electra.engine.cpu;

import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.random.Philox;

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
     * inverted-dropout scale for a kept one. Draws one Philox block per four elements.
     */
    static void keepScale(RngKey key, long start, double[] dst, int off, int n, float p) {
        double scale = 1.0 / (1.0 - p);
        int[] block = new int[4];
        int k0 = (int) key.seed(), k1 = (int) (key.seed() >>> 32), step = (int) key.step(), purpose = key.purpose();
        long i = start;
        int k = 0;
        while (k < n) {
            long b = i >>> 2;
            Philox.block((int) b, (int) (b >>> 32), step, purpose, k0, k1, block);
            for (int lane = (int) (i & 3); lane < 4 && k < n; lane++, k++, i++) {
                dst[off + k] = Philox.uniform(block[lane]) >= p ? scale : 0.0;
            }
        }
    }
}
