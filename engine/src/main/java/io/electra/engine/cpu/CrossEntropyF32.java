package io.electra.engine.cpu;

import io.electra.engine.Tensor;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The F32 rows of {@link LossCpu}'s cross-entropy, read in place and vectorised: exp in float lanes,
 * the row sum in float over blocks of {@value #BLOCK} and in double across blocks (a 30522-wide row
 * summed in float alone would lose about four digits).
 */
final class CrossEntropyF32 {
    private static final boolean VECTOR = MatmulF32.VECTOR_DEFAULT;
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int BLOCK = 1024;

    private CrossEntropyF32() {
    }

    /** log(sum_v exp(logits[r, v])), with the row maximum subtracted first. */
    static double logSumExp(Tensor logits, int r) {
        int vocab = logits.cols(), off = Elements.index(logits, (long) r * vocab);
        float[] x = (float[]) logits.storage();
        float max = max(x, off, vocab);
        float[] e = Scratch.floats(0, BLOCK);
        double sum = 0;
        for (int b = 0; b < vocab; b += BLOCK) {
            int n = Math.min(BLOCK, vocab - b);
            System.arraycopy(x, off + b, e, 0, n);
            sum += Exp.expShifted(e, 0, n, max);
        }
        return max + Math.log(sum);
    }

    /** dLogits[r] += g (softmax(logits[r]) - onehot(t)), softmax = exp(logits - lse). */
    static void addGradient(Tensor dLogits, Tensor logits, int r, int t, float lse, float g) {
        int vocab = logits.cols(), xo = Elements.index(logits, (long) r * vocab), d0 = Elements.index(dLogits, (long) r * vocab);
        float[] x = (float[]) logits.storage(), d = (float[]) dLogits.storage();
        float[] e = Scratch.floats(0, BLOCK);
        for (int b = 0; b < vocab; b += BLOCK) {
            int n = Math.min(BLOCK, vocab - b), at = d0 + b;
            System.arraycopy(x, xo + b, e, 0, n);
            Exp.expShifted(e, 0, n, lse);
            for (int v = 0; v < n; v++) d[at + v] += e[v] * g;
        }
        d[d0 + t] -= g;
    }

    /** max of x[off, off+n), NaN if any element is NaN. */
    private static float max(float[] x, int off, int n) {
        int i = 0;
        float m = Float.NEGATIVE_INFINITY;
        if (VECTOR && n >= S.length()) {
            FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
            for (int bound = S.loopBound(n); i < bound; i += S.length()) {
                acc = acc.lanewise(VectorOperators.MAX, FloatVector.fromArray(S, x, off + i));
            }
            m = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < n; i++) m = Math.max(m, x[off + i]);
        return m;
    }
}
