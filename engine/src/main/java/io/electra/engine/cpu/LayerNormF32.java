package io.electra.engine.cpu;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorSpecies;

/**
 * One row of {@link LayerNormCpu} on float arrays, without the double scratch rows. The row
 * statistics (mean, variance; in the backward the means of g and g xhat) are still summed in double,
 * in double lanes widened from float loads, so |mean| large against the spread costs nothing; the
 * element-wise passes (the normalised output, dx, the parameter-gradient terms) run in float lanes.
 * The mean is subtracted as two floats (its float rounding, then the rest), which keeps x - mean
 * accurate where it cancels. The scalar tails run the same operations as the lanes.
 */
final class LayerNormF32 {
    private static final boolean VECTOR = MatmulF32.VECTOR_DEFAULT;
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;
    /** Floats as many as D has doubles: a load of it widens to one double vector. */
    private static final VectorSpecies<Float> FD = VectorSpecies.of(float.class, VectorShape.forBitSize(D.vectorBitSize() / 2));

    private LayerNormF32() {
    }

    /** out[oo..] = (x - mean) rstd w + b over one row of {@code cols}; mean[mi] and rstd[ri] receive its statistics. */
    static void forwardRow(float[] x, int xo, float[] out, int oo, float[] w, int wo, float[] b, int bo, int cols,
                           float eps, float[] mean, int mi, float[] rstd, int ri) {
        int c = 0;
        double m = 0;
        if (VECTOR) {
            DoubleVector acc = DoubleVector.zero(D);
            for (int bound = D.loopBound(cols); c < bound; c += D.length()) {
                acc = acc.add((DoubleVector) FloatVector.fromArray(FD, x, xo + c).convertShape(VectorOperators.F2D, D, 0));
            }
            m = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; c < cols; c++) m += x[xo + c];
        m /= cols;
        c = 0;
        double var = 0;
        if (VECTOR) {
            DoubleVector acc = DoubleVector.zero(D);
            for (int bound = D.loopBound(cols); c < bound; c += D.length()) {
                DoubleVector d = ((DoubleVector) FloatVector.fromArray(FD, x, xo + c).convertShape(VectorOperators.F2D, D, 0)).sub(m);
                acc = d.fma(d, acc);
            }
            var = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; c < cols; c++) {
            double d = x[xo + c] - m;
            var += d * d;
        }
        double s = 1 / Math.sqrt(var / cols + eps);
        float mHi = (float) m, mLo = (float) (m - mHi), sf = (float) s;
        mean[mi] = mHi;
        rstd[ri] = sf;
        c = 0;
        if (VECTOR) {
            for (int bound = F.loopBound(cols); c < bound; c += F.length()) {
                FloatVector xh = FloatVector.fromArray(F, x, xo + c).sub(mHi).sub(mLo).mul(sf);
                xh.fma(FloatVector.fromArray(F, w, wo + c), FloatVector.fromArray(F, b, bo + c)).intoArray(out, oo + c);
            }
        }
        for (; c < cols; c++) out[oo + c] = Math.fma((x[xo + c] - mHi - mLo) * sf, w[wo + c], b[bo + c]);
    }

    /**
     * dIn[dOff..] += rstd (g - mean(g) - xhat mean(g xhat)) for one row, g = dOut w; and the row's
     * parameter-gradient terms added to dw += dOut xhat, db += dOut (float partial sums over a block of rows).
     */
    static void backwardRow(float[] x, int xo, float[] dOut, int go, float[] w, int wo, float m, float s,
                            float[] dIn, int dOff, float[] dw, float[] db, int cols) {
        int c = 0;
        double sumG = 0, sumGx = 0;
        if (VECTOR) {
            DoubleVector accG = DoubleVector.zero(D), accGx = DoubleVector.zero(D);
            for (int bound = D.loopBound(cols); c < bound; c += D.length()) {
                DoubleVector xh = ((DoubleVector) FloatVector.fromArray(FD, x, xo + c).convertShape(VectorOperators.F2D, D, 0)).sub(m).mul(s);
                DoubleVector g = ((DoubleVector) FloatVector.fromArray(FD, dOut, go + c).convertShape(VectorOperators.F2D, D, 0))
                        .mul((DoubleVector) FloatVector.fromArray(FD, w, wo + c).convertShape(VectorOperators.F2D, D, 0));
                accG = accG.add(g);
                accGx = g.fma(xh, accGx);
            }
            sumG = accG.reduceLanes(VectorOperators.ADD);
            sumGx = accGx.reduceLanes(VectorOperators.ADD);
        }
        for (; c < cols; c++) {
            double g = (double) dOut[go + c] * w[wo + c];
            sumG += g;
            sumGx = Math.fma(g, (x[xo + c] - (double) m) * s, sumGx);
        }
        float meanG = (float) (sumG / cols), meanGx = (float) (sumGx / cols);
        c = 0;
        if (VECTOR) {
            for (int bound = F.loopBound(cols); c < bound; c += F.length()) {
                FloatVector xh = FloatVector.fromArray(F, x, xo + c).sub(m).mul(s);
                FloatVector go_ = FloatVector.fromArray(F, dOut, go + c);
                FloatVector t = go_.mul(FloatVector.fromArray(F, w, wo + c)).sub(meanG);
                t = xh.fma(FloatVector.broadcast(F, -meanGx), t);
                t.fma(FloatVector.broadcast(F, s), FloatVector.fromArray(F, dIn, dOff + c)).intoArray(dIn, dOff + c);
                go_.fma(xh, FloatVector.fromArray(F, dw, c)).intoArray(dw, c);
                go_.add(FloatVector.fromArray(F, db, c)).intoArray(db, c);
            }
        }
        for (; c < cols; c++) {
            float xh = (x[xo + c] - m) * s, g = dOut[go + c];
            float t = Math.fma(xh, -meanGx, g * w[wo + c] - meanG);
            dIn[dOff + c] = Math.fma(t, s, dIn[dOff + c]);
            dw[c] = Math.fma(g, xh, dw[c]);
            db[c] = g + db[c];
        }
    }
}
