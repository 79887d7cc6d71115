package io.electra.engine.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp over a row, the cost centre of softmax and cross-entropy. The Vector API's lanewise EXP
 * (an intrinsic on x86, within an ulp or so of Math.exp) does a row in a fraction of the time of
 * a scalar loop; {@code -Delectra.cpu.vector=false} selects the scalar Math.exp twin.
 */
final class Exp {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final boolean VECTOR = MatmulF32.VECTOR_DEFAULT;

    private Exp() {
    }

    /** x[i] = exp(x[i] - shift) for i in [from, from + n); returns their sum. */
    static double expShifted(double[] x, int from, int n, double shift) {
        int i = from, end = from + n;
        double sum = 0;
        if (VECTOR) {
            DoubleVector acc = DoubleVector.zero(S);
            for (int bound = from + S.loopBound(n); i < bound; i += S.length()) {
                DoubleVector e = DoubleVector.fromArray(S, x, i).sub(shift).lanewise(VectorOperators.EXP);
                e.intoArray(x, i);
                acc = acc.add(e);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < end; i++) {
            x[i] = Math.exp(x[i] - shift);
            sum += x[i];
        }
        return sum;
    }

    /** The float twin: x[i] = exp(x[i] - shift) in float; returns their sum, accumulated in float lanes. */
    static float expShifted(float[] x, int from, int n, float shift) {
        int i = from, end = from + n;
        float sum = 0;
        if (VECTOR) {
            FloatVector acc = FloatVector.zero(F);
            for (int bound = from + F.loopBound(n); i < bound; i += F.length()) {
                FloatVector e = FloatVector.fromArray(F, x, i).sub(shift).lanewise(VectorOperators.EXP);
                e.intoArray(x, i);
                acc = acc.add(e);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < end; i++) {
            x[i] = (float) Math.exp(x[i] - shift);
            sum += x[i];
        }
        return sum;
    }
}
