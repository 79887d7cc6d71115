package io.electra.engine.cpu;

import io.electra.engine.Tensor;

/**
 * GELU in its exact form, gelu(x) = x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), as BERT and ELECTRA
 * use it (not the tanh approximation). Its derivative is Phi(x) + x phi(x).
 */
final class GeluCpu {
    private static final double INV_SQRT2 = 1 / Math.sqrt(2);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
    private final ElementwiseCpu elementwise;

    GeluCpu(ElementwiseCpu elementwise) {
        this.elementwise = elementwise;
    }

    void forward(Tensor out, Tensor in) {
        elementwise.chunked(in.size(), (from, n) -> {
            double[] x = Scratch.get(0, n);
            Elements.load(in, from, x, 0, n);
            for (int i = 0; i < n; i++) x[i] = 0.5 * x[i] * (1 + Erf.erf(x[i] * INV_SQRT2));
            Elements.store(out, from, x, 0, n);
        });
    }

    /** dIn += dOut * (Phi(x) + x phi(x)). */
    void backward(Tensor dIn, Tensor dOut, Tensor in) {
        elementwise.chunked(in.size(), (from, n) -> {
            double[] x = Scratch.get(0, n), g = Scratch.get(1, n), pdf = Scratch.get(2, n);
            Elements.load(in, from, x, 0, n);
            Elements.load(dOut, from, g, 0, n);
            for (int i = 0; i < n; i++) pdf[i] = -0.5 * x[i] * x[i];
            Exp.expShifted(pdf, 0, n, 0); // vectorised exp: pdf = exp(-x^2/2)
            for (int i = 0; i < n; i++) g[i] *= 0.5 * (1 + Erf.erf(x[i] * INV_SQRT2)) + x[i] * INV_SQRT_2PI * pdf[i];
            Elements.addTo(dIn, from, g, 0, n);
        });
    }
}
