package io.electra.engine.cpu;

import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.random.Philox;

/**
 * The generator-to-discriminator hand-off: Gumbel-max sampling from logits, then writing the
 * samples into the discriminator's input and labelling which tokens changed.
 */
final class SamplingCpu {
    /** Keeps u away from 0 so that -log(-log u) stays finite; u + 2^-25 is still below 1. */
    private static final double U_OFFSET = 0x1.0p-25;
    private final Parallel parallel;

    SamplingCpu(Parallel parallel) {
        this.parallel = parallel;
    }

    /**
     * out[k] = argmax_v logits[k,v] + g, g = -log(-log(u + 2^-25)) with u the uniform number
     * k*V + v of the key's stream; ties go to the smaller v. argmax of logits plus Gumbel noise is
     * an exact draw from softmax(logits).
     */
    void gumbel(Tensor out, Tensor logits, RngKey key) {
        int rows = logits.rowsFlat(), vocab = logits.cols();
        parallel.parallelFor(rows, 40L * vocab, (r0, r1) -> {
            double[] x = Scratch.get(0, vocab);
            int[] block = new int[4];
            int k0 = (int) key.seed(), k1 = (int) (key.seed() >>> 32), step = (int) key.step();
            for (int r = r0; r < r1; r++) {
                Elements.load(logits, (long) r * vocab, x, 0, vocab);
                int best = 0;
                double bestScore = Double.NEGATIVE_INFINITY;
                long i = (long) r * vocab;
                int v = 0;
                while (v < vocab) {
                    long b = i >>> 2;
                    Philox.block((int) b, (int) (b >>> 32), step, key.purpose(), k0, k1, block);
                    for (int lane = (int) (i & 3); lane < 4 && v < vocab; lane++, v++, i++) {
                        double u = Philox.uniform(block[lane]) + U_OFFSET;
                        double score = x[v] - Math.log(-Math.log(u));
                        if (score > bestScore) {
                            bestScore = score;
                            best = v;
                        }
                    }
                }
                Elements.setInt(out, r, best);
            }
        });
    }

    /**
     * discIds = inputIds with discIds[positions[k]] = sampled[k]; labels[n] = 1 where the token
     * changed, else 0 (a sample equal to the original token counts as original, as in ELECTRA).
     */
    void replaceTokens(Tensor discIds, Tensor labels, Tensor inputIds, Tensor positions, Tensor sampled) {
        long n = inputIds.size(), k = positions.size();
        for (long i = 0; i < n; i++) Elements.setInt(discIds, i, Elements.getInt(inputIds, i));
        for (long j = 0; j < k; j++) Elements.setInt(discIds, Elements.getInt(positions, j), Elements.getInt(sampled, j));
        for (long i = 0; i < n; i++) {
            Elements.set(labels, i, Elements.getInt(discIds, i) != Elements.getInt(inputIds, i) ? 1 : 0);
        }
    }
}
