package io.electra.engine.cpu;

import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The generator-to-discriminator hand-off: Gumbel-max sampling from logits, then writing the
 * samples into the discriminator's input and labelling which tokens changed.
 */
final class SamplingCpu {
    /** Keeps u away from 0 so that -log(-log u) stays finite; u + 2^-25 is still below 1. */
    private static final double U_OFFSET = 0x1.0p-25;
    /** Elements per run that share one skip threshold (see {@link #gumbel}). */
    private static final int RUN = 32;
    private static final boolean VECTOR = MatmulF32.VECTOR_DEFAULT;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> IS = IntVector.SPECIES_PREFERRED;
    private final Parallel parallel;

    SamplingCpu(Parallel parallel) {
        this.parallel = parallel;
    }

    /**
     * out[k] = argmax_v logits[k,v] + g, g = -log(-log(u + 2^-25)) with u the uniform number
     * k*V + v of the key's stream, in double; ties go to the smaller v. argmax of logits plus Gumbel
     * noise is an exact draw from softmax(logits).
     *
     * <p>Most elements cannot beat the best score so far, and the two logs are skipped for them
     * without changing the result: g is increasing in u, so within a run of {@link #RUN} elements
     * whose largest logit is xMax, an element scores above {@code best} only if
     * u + 2^-25 > exp(-exp(xMax - best)). {@link #skipLimit} turns that bound, loosened by a margin far
     * above the rounding error of the score, into a limit on the 24-bit integer behind u. The
     * Philox draws remain (they are cheap, and vectorised); the logs run on roughly log(V) elements
     * of a row with flat logits and on fewer with peaked ones. A bound from the row's largest logit
     * lets most runs be dismissed by one vector comparison of their draws.
     */
    void gumbel(Tensor out, Tensor logits, RngKey key) {
        int rows = logits.rowsFlat(), vocab = logits.cols();
        parallel.parallelFor(rows, 8L * vocab, (r0, r1) -> {
            double[] x = Scratch.get(0, vocab);
            int[] bits = Scratch.ints(0, vocab);
            for (int r = r0; r < r1; r++) {
                Elements.load(logits, (long) r * vocab, x, 0, vocab);
                PhiloxCpu.bits(key, (long) r * vocab, bits, 0, vocab);
                Elements.setInt(out, r, argmax(x, bits, vocab));
            }
        });
    }

    /** The Gumbel-max choice for one row of logits {@code x} and raw draws {@code bits}. */
    private static int argmax(double[] x, int[] bits, int vocab) {
        // Two levels of the skip test: the row's largest logit bounds every run (one vector compare
        // per run, most runs end there); a run with a candidate gets its own, tighter bound.
        double rowMax = max(x, 0, vocab);
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        int rowLimit = -1;
        for (int v0 = 0; v0 < vocab; v0 += RUN) {
            int v1 = Math.min(vocab, v0 + RUN);
            if (v1 - v0 == RUN && !anyAbove(bits, v0, rowLimit)) continue;
            double runMax = max(x, v0, v1 - v0);
            int limit = skipLimit(runMax, bestScore);
            boolean improved = false;
            for (int v = v0; v < v1; v++) {
                int k = PhiloxCpu.uniform24(bits[v]);
                if (k <= limit) continue;
                double u = k * 0x1.0p-24 + U_OFFSET; // exactly Philox.uniform(bits) + 2^-25
                double score = x[v] - Math.log(-Math.log(u));
                if (score > bestScore) {
                    bestScore = score;
                    best = v;
                    limit = skipLimit(runMax, bestScore);
                    improved = true;
                }
            }
            if (improved) rowLimit = skipLimit(rowMax, bestScore);
        }
        return best;
    }

    /** max of x[from, from+n), NaN if any is NaN (then nothing is skipped). */
    private static double max(double[] x, int from, int n) {
        int i = from, end = from + n;
        double m = Double.NEGATIVE_INFINITY;
        if (VECTOR && n >= DS.length()) {
            DoubleVector acc = DoubleVector.broadcast(DS, Double.NEGATIVE_INFINITY);
            for (int bound = from + DS.loopBound(n); i < bound; i += DS.length()) {
                acc = acc.lanewise(VectorOperators.MAX, DoubleVector.fromArray(DS, x, i));
            }
            m = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < end; i++) m = Math.max(m, x[i]);
        return m;
    }

    /** Whether any of the RUN draws from {@code from} has its 24-bit integer above {@code limit}. */
    private static boolean anyAbove(int[] bits, int from, int limit) {
        if (VECTOR && RUN % IS.length() == 0) {
            for (int i = from; i < from + RUN; i += IS.length()) {
                IntVector k = IntVector.fromArray(IS, bits, i).lanewise(VectorOperators.LSHR, 8);
                if (k.compare(VectorOperators.GT, limit).anyTrue()) return true;
            }
            return false;
        }
        for (int i = from; i < from + RUN; i++) if (PhiloxCpu.uniform24(bits[i]) > limit) return true;
        return false;
    }

    /**
     * The largest k such that every element of a run whose logits are at most {@code runMax} and
     * whose uniform is k' * 2^-24 with k' <= k scores at most {@code best}; -1 when nothing can be
     * skipped (no best yet, or NaN / infinite logits). The margin, relative 1e-6, dwarfs the
     * rounding of both this bound and the score (about 1e-14 relative, 1e-8 where -log u is tiny).
     */
    static int skipLimit(double runMax, double best) {
        double margin = 1e-6 * (1 + Math.abs(runMax) + Math.abs(best));
        double uStar = Math.exp(-Math.exp(runMax - best + margin));
        if (!(uStar >= U_OFFSET)) return -1; // NaN, or nothing to skip
        return (int) Math.floor((uStar - U_OFFSET) * 0x1.0p24); // exact: uStar - 2^-25 is representable
    }

    /**
     * discIds = inputIds with discIds[positions[k]] = sampled[k]; labels[n] = 1 where the token
     * changed, else 0 (a sample equal to the original token counts as original, as in ELECTRA).
     */
    void replaceTokens(Tensor discIds, Tensor labels, Tensor inputIds, Tensor positions, Tensor sampled) {
        long n = inputIds.size(), k = positions.size();
        for (long i = 0; i < n; i++) Elements.setInt(discIds, i, Elements.getInt(inputIds, i));
        for (long j = 0; j < k; j++) {
            int p = Elements.getInt(positions, j);
            if (p >= 0) Elements.setInt(discIds, p, Elements.getInt(sampled, j)); // negative: a dead or duplicate slot
        }
        for (long i = 0; i < n; i++) {
            Elements.set(labels, i, Elements.getInt(discIds, i) != Elements.getInt(inputIds, i) ? 1 : 0);
        }
    }
}
