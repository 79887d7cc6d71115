package io.electra.engine.cpu;

import io.electra.engine.Tensor;

/** Gradient-norm clipping and the AdamW update, elementwise and on the backend's own tensors. */
final class OptimizerCpu {
    private final ElementwiseCpu elementwise;

    OptimizerCpu(ElementwiseCpu elementwise) {
        this.elementwise = elementwise;
    }

    /** out[] += sum of squares of in. */
    void sumSquaresAccumulate(Tensor out, Tensor in) {
        Elements.add(out, 0, elementwise.reduce(in, true));
    }

    /** scale[] = min(1, maxNorm / (sqrt(sumSquares[]) + 1e-6)). */
    void clipFactor(Tensor scale, Tensor sumSquares, float maxNorm) {
        Elements.set(scale, 0, Math.min(1.0, maxNorm / (Math.sqrt(Elements.get(sumSquares, 0)) + 1e-6)));
    }

    /**
     * One AdamW step; see {@link io.electra.engine.Backend#adamwStep}. F32 runs in float, vectorised,
     * in the order of operations of the CUDA kernel (adamw.cu); F64 in double.
     */
    void adamw(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor hyper, float beta1,
               float beta2, float eps, float weightDecay) {
        double gs = Elements.get(gradScale, 0);
        double bc1 = Elements.get(hyper, 0), bc2 = Elements.get(hyper, 1), lr = Elements.get(hyper, 2);
        if (param.storage() instanceof float[] p) {
            float[] g = (float[]) grad.storage(), ms = (float[]) m.storage(), vs = (float[]) v.storage();
            int po = Elements.index(param, 0), go = Elements.index(grad, 0), mo = Elements.index(m, 0), vo = Elements.index(v, 0);
            elementwise.chunked(param.size(), (from, n) -> AdamWF32.update(p, po + (int) from, g, go + (int) from,
                    ms, mo + (int) from, vs, vo + (int) from, n, (float) gs, (float) bc1, (float) bc2, (float) lr,
                    beta1, beta2, eps, weightDecay));
            return;
        }
        elementwise.chunked(param.size(), (from, n) -> {
            double[] p = Scratch.get(0, n), g = Scratch.get(1, n), ms = Scratch.get(2, n), vs = Scratch.get(3, n);
            Elements.load(param, from, p, 0, n);
            Elements.load(grad, from, g, 0, n);
            Elements.load(m, from, ms, 0, n);
            Elements.load(v, from, vs, 0, n);
            for (int i = 0; i < n; i++) {
                double gi = g[i] * gs;
                ms[i] = beta1 * ms[i] + (1 - (double) beta1) * gi;
                vs[i] = beta2 * vs[i] + (1 - (double) beta2) * gi * gi;
                double update = (ms[i] / bc1) / (Math.sqrt(vs[i] / bc2) + eps) + weightDecay * p[i];
                p[i] -= lr * update;
            }
            Elements.store(param, from, p, 0, n);
            Elements.store(m, from, ms, 0, n);
            Elements.store(v, from, vs, 0, n);
        });
    }
}
