package io.electra.engine.cpu;

import io.electra.engine.Tensor;

/**
 * GELU in its exact form, gelu(x) = x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), as BERT and ELECTRA
 * use it (not the tanh approximation). Its derivative is Phi(x) + x phi(x). F64 evaluates Phi with
 * the double-precision {@link Erf}; F32 with the vectorised, float-accurate {@link NormalCdf}.
 */
final class GeluCpu {
    private static final double INV_SQRT2 = 1 / Math.sqrt(2);
    private static final double INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
    private final ElementwiseCpu elementwise;

    GeluCpu(ElementwiseCpu elementwise) {
        this.elementwise = elementwise;
    }

    void forward(Tensor out, Tensor in) {
        boolean f32 = in.storage() instanceof float[];
        elementwise.chunked(in.size(), (from, n) -> {
            double[] x = Scratch.get(0, n), cdf = Scratch.get(1, n);
            Elements.load(in, from, x, 0, n);
            cdf(x, cdf, n, f32);
            for (int i = 0; i < n; i++) x[i] *= cdf[i];
            Elements.store(out, from, x, 0, n);
        });
    }

    /** out[i] = Phi(x[i]): to double precision, or to single precision (vectorised) when {@code f32}. */
    private static void cdf(double[] x, double[] out, int n, boolean f32) {
        if (f32) NormalCdf.cdf(x, out, n);
        else for (int i = 0; i < n; i++) out[i] = 0.5 * (1 + Erf.erf(x[i] * INV_SQRT2));
    }

    /** dIn += dOut * (Phi(x) + x phi(x)). */
    void backward(Tensor dIn, Tensor dOut, Tensor in) {
        boolean f32 = in.storage() instanceof float[];
        elementwise.chunked(in.size(), (from, n) -> {
            double[] x = Scratch.get(0, n), g = Scratch.get(1, n);
            Elements.load(in, from, x, 0, n);
            Elements.load(dOut, from, g, 0, n);
            timesDerivative(g, x, n, f32);
            Elements.addTo(dIn, from, g, 0, n);
        });
    }

    /**
     * g[i] *= Phi(x[i]) + x[i] phi(x[i]) for i in [0, n), each element on its own (the vector lanes and
     * the tails agree bit for bit), so callers that cut rows differently get the same bits. Uses
     * Scratch slots 2 and 3 (and NormalCdf's 5).
     */
    static void timesDerivative(double[] g, double[] x, int n, boolean f32) {
        double[] pdf = Scratch.get(2, n), cdf = Scratch.get(3, n);
        for (int i = 0; i < n; i++) pdf[i] = -0.5 * x[i] * x[i];
        Exp.expShifted(pdf, 0, n, 0); // vectorised exp: pdf = exp(-x^2/2)
        cdf(x, cdf, n, f32);
        for (int i = 0; i < n; i++) g[i] *= cdf[i] + x[i] * INV_SQRT_2PI * pdf[i];
    }
}
