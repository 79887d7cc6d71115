package io.electra.engine.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.LongVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * exp, the cost centre of softmax, cross-entropy and GELU, in vector lanes built from additions,
 * multiplications and bit moves only. Not the Vector API's lanewise EXP: C2 computes that with an
 * intrinsic (SVML) while the interpreter and C1 fall back to another implementation, and the two
 * differ in the last bit for about 1% of inputs, so a result would depend on when the JIT got to
 * the loop: training steps would not repeat bit for bit. Every operation here is exactly rounded
 * IEEE arithmetic in any tier, and the scalar twins ({@link #exp(float)}, {@link #exp(double)})
 * run the same operations, so lanes and tails agree bit for bit. The lane code is written out in
 * the loops rather than in a helper taking a vector: when C2 declined to inline such a helper
 * (it did in some JVM runs and not others) every vector was boxed and GELU ran ten times slower.
 *
 * <p>Method (Cody and Waite's reduction): k = round(x / ln 2), r = x - k ln 2 in two pieces,
 * exp(x) = 2^k e^r with e^r by its Taylor series (degree 7 for float, 13 for double; |r| <= ln2/2,
 * truncation below 1e-8 and 5e-18 relative), 2^k written into the exponent bits. Round to nearest
 * integer by adding and subtracting 1.5 * 2^23 (2^52), whose bits then hold k. Below the smallest
 * normal result the answer is 0 (exp(-inf) = 0 exactly, as masked softmax needs); above 88.37 (709.43)
 * infinity, although the largest finite results lie a little higher; NaN stays NaN. Accuracy (ExpTest): within 2 ulp of Math.exp.
 */
final class Exp {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final boolean VECTOR = MatmulF32.VECTOR_DEFAULT;

    private static final float LOG2E_F = 1.44269504f, LN2_HI_F = 0.693145751953125f, LN2_LO_F = 1.42860677e-06f;
    private static final float MAGIC_F = 0x1.8p23f, LO_F = -87.3f, HI_F = 88.37f;
    private static final int MAGIC_F_BITS = Float.floatToRawIntBits(MAGIC_F);
    private static final double LOG2E = 1.4426950408889634, LN2_HI = 0.6931471803691238, LN2_LO = 1.9082149292705877e-10;
    private static final double MAGIC = 0x1.8p52, LO = -708.3, HI = 709.43;
    private static final long MAGIC_BITS = Double.doubleToRawLongBits(MAGIC);
    /** 1/n! for n = 0..13. */
    private static final double[] TAYLOR = new double[14];

    static {
        double f = 1;
        for (int n = 0; n < TAYLOR.length; n++) {
            if (n > 0) f *= n;
            TAYLOR[n] = 1 / f;
        }
    }

    private static final float[] TAYLOR_F = new float[8];

    static {
        for (int n = 0; n < TAYLOR_F.length; n++) TAYLOR_F[n] = (float) TAYLOR[n];
    }

    private Exp() {
    }

    /** x[i] = exp(x[i] - shift) for i in [from, from + n); returns their sum. */
    static double expShifted(double[] x, int from, int n, double shift) {
        int i = from, end = from + n;
        double sum = 0;
        if (VECTOR) {
            DoubleVector acc = DoubleVector.zero(S);
            for (int bound = from + S.loopBound(n); i < bound; i += S.length()) {
                // exp(v), written out here: a vector handed to a method C2 does not inline is boxed
                DoubleVector v = DoubleVector.fromArray(S, x, i).sub(shift);
                DoubleVector xc = v.max(LO).min(HI);
                DoubleVector s = xc.mul(LOG2E).add(MAGIC), k = s.sub(MAGIC);
                DoubleVector r = k.fma(DoubleVector.broadcast(S, -LN2_HI), xc);
                r = k.fma(DoubleVector.broadcast(S, -LN2_LO), r);
                DoubleVector p = DoubleVector.broadcast(S, TAYLOR[13]);
                for (int t = 12; t >= 0; t--) p = p.fma(r, DoubleVector.broadcast(S, TAYLOR[t]));
                LongVector bits = ((LongVector) s.reinterpretAsLongs()).sub(MAGIC_BITS).add(1023).lanewise(VectorOperators.LSHL, 52);
                DoubleVector e = p.mul((DoubleVector) bits.reinterpretAsDoubles());
                e = e.blend(0.0, v.compare(VectorOperators.LT, LO)).blend(Double.POSITIVE_INFINITY, v.compare(VectorOperators.GT, HI));
                e.intoArray(x, i);
                acc = acc.add(e);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < end; i++) {
            x[i] = exp(x[i] - shift);
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
                FloatVector v = FloatVector.fromArray(F, x, i).sub(shift);
                FloatVector xc = v.max(LO_F).min(HI_F);
                FloatVector s = xc.mul(LOG2E_F).add(MAGIC_F), k = s.sub(MAGIC_F);
                FloatVector r = k.fma(FloatVector.broadcast(F, -LN2_HI_F), xc);
                r = k.fma(FloatVector.broadcast(F, -LN2_LO_F), r);
                FloatVector p = FloatVector.broadcast(F, TAYLOR_F[7]);
                for (int t = 6; t >= 0; t--) p = p.fma(r, FloatVector.broadcast(F, TAYLOR_F[t]));
                IntVector bits = ((IntVector) s.reinterpretAsInts()).sub(MAGIC_F_BITS).add(127).lanewise(VectorOperators.LSHL, 23);
                FloatVector e = p.mul((FloatVector) bits.reinterpretAsFloats());
                e = e.blend(0f, v.compare(VectorOperators.LT, LO_F)).blend(Float.POSITIVE_INFINITY, v.compare(VectorOperators.GT, HI_F));
                e.intoArray(x, i);
                acc = acc.add(e);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < end; i++) {
            x[i] = exp(x[i] - shift);
            sum += x[i];
        }
        return sum;
    }

    /** exp(x) in float by the lanes' operations, so it gives the same bits (the vector tails use it). */
    static float exp(float x) {
        if (x < LO_F) return 0f;
        if (x > HI_F) return Float.POSITIVE_INFINITY;
        float s = x * LOG2E_F + MAGIC_F, k = s - MAGIC_F;
        float r = Math.fma(k, -LN2_HI_F, x);
        r = Math.fma(k, -LN2_LO_F, r);
        float p = TAYLOR_F[7];
        for (int n = 6; n >= 0; n--) p = Math.fma(p, r, TAYLOR_F[n]);
        return p * Float.intBitsToFloat((Float.floatToRawIntBits(s) - MAGIC_F_BITS + 127) << 23);
    }

    /** exp(x) in double by the lanes' operations. */
    static double exp(double x) {
        if (x < LO) return 0;
        if (x > HI) return Double.POSITIVE_INFINITY;
        double s = x * LOG2E + MAGIC, k = s - MAGIC;
        double r = Math.fma(k, -LN2_HI, x);
        r = Math.fma(k, -LN2_LO, r);
        double p = TAYLOR[13];
        for (int n = 12; n >= 0; n--) p = Math.fma(p, r, TAYLOR[n]);
        return p * Double.longBitsToDouble((Double.doubleToRawLongBits(s) - MAGIC_BITS + 1023) << 52);
    }
}
