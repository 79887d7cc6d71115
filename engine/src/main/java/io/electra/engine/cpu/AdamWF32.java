package io.electra.engine.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The AdamW update on float arrays, as adamw.cu computes each element:
 * g = grad * scale; m = b1 m + (1 - b1) g; v = b2 v + ((1 - b2) g) g;
 * p -= lr ((m / bc1) / (sqrt(v / bc2) + eps) + wd p). Vector lanes with a scalar tail (and a scalar
 * twin), both in this order of operations without fused multiply-adds, so they agree bit for bit.
 */
final class AdamWF32 {
    private static final boolean VECTOR = MatmulF32.VECTOR_DEFAULT;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private AdamWF32() {
    }

    static void update(float[] p, int po, float[] g, int go, float[] m, int mo, float[] v, int vo, int n, float scale,
                       float bc1, float bc2, float lr, float b1, float b2, float eps, float wd) {
        float c1 = 1f - b1, c2 = 1f - b2;
        int i = 0;
        if (VECTOR) {
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                FloatVector gi = FloatVector.fromArray(S, g, go + i).mul(scale);
                FloatVector mi = FloatVector.fromArray(S, m, mo + i).mul(b1).add(gi.mul(c1));
                FloatVector vi = FloatVector.fromArray(S, v, vo + i).mul(b2).add(gi.mul(c2).mul(gi));
                FloatVector pi = FloatVector.fromArray(S, p, po + i);
                FloatVector update = mi.div(bc1).div(vi.div(bc2).sqrt().add(eps)).add(pi.mul(wd));
                pi.sub(update.mul(lr)).intoArray(p, po + i);
                mi.intoArray(m, mo + i);
                vi.intoArray(v, vo + i);
            }
        }
        for (; i < n; i++) {
            float gi = g[go + i] * scale;
            float mi = b1 * m[mo + i] + c1 * gi;
            float vi = b2 * v[vo + i] + c2 * gi * gi;
            m[mo + i] = mi;
            v[vo + i] = vi;
            float update = (mi / bc1) / ((float) Math.sqrt(vi / bc2) + eps) + wd * p[po + i];
            p[po + i] -= lr * update;
        }
    }
}
