package io.electra.bench.step;

import io.electra.model.ElectraConfig;
import io.electra.model.Masking;
import io.electra.model.Preset;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Analytic floating-point operations of one training step, counting matrix products only (2 flops per
 * multiply-add); LayerNorm, GELU, softmax, dropout, losses and the optimizer are element-wise and left
 * out (well under 1% of a step at these sizes). The backward of every product costs two products of the
 * same size (input gradient and weight gradient; for attention, both operands' gradients), so a step is
 * 3x the forward. Legend: B batch, T sequence, N = B*T rows, C hidden, E embedding, F feed-forward,
 * L layers, V vocabulary, R rows that reach the generator head.
 *
 * <p>The generator head runs on R = B * maxPredictions rows (the official code, and ours: every
 * prediction slot, live or not) or on R = N rows (HuggingFace's {@code ElectraForMaskedLM}, which
 * computes logits at every position); {@code headAtAllPositions} picks which.
 *
 * @param forward named forward terms, e.g. {@code "discriminator feed-forward"}, in flops
 */
public record StepFlops(Map<String, Long> forward) {

    public StepFlops {
        forward = Collections.unmodifiableMap(new LinkedHashMap<>(forward));
    }

    public static StepFlops of(Preset preset, Objective objective, int batch, int seq, boolean headAtAllPositions) {
        int n = batch * seq;
        int headRows = headAtAllPositions ? n : batch * Masking.defaultMaxPredictions(preset.maskProb(), seq);
        Map<String, Long> terms = new LinkedHashMap<>();
        if (objective == Objective.ELECTRA) {
            body(terms, "generator", preset.generator(), batch, seq);
            generatorHead(terms, "generator", preset.generator(), headRows);
            body(terms, "discriminator", preset.discriminator(), batch, seq);
            ElectraConfig d = preset.discriminator();
            terms.put("discriminator head", 2L * n * d.hiddenSize * d.hiddenSize + 2L * n * d.hiddenSize);
        } else {
            body(terms, "mlm", preset.discriminator(), batch, seq);
            generatorHead(terms, "mlm", preset.discriminator(), headRows);
        }
        return new StepFlops(terms);
    }

    /** Embedding projection and encoder layers of one network. */
    private static void body(Map<String, Long> terms, String net, ElectraConfig c, int batch, int seq) {
        long n = (long) batch * seq, h = c.hiddenSize, layers = c.numHiddenLayers;
        if (c.embeddingSize != c.hiddenSize) terms.put(net + " embeddings_project", 2 * n * c.embeddingSize * h);
        terms.put(net + " attention projections (q, k, v, out)", layers * 4 * 2 * n * h * h);
        // scores q k^T and context p v: per head 2*T*T*D each, summed over heads 2*T*T*C, per sequence
        terms.put(net + " attention scores and context", layers * 2 * 2 * n * seq * h);
        terms.put(net + " feed-forward", layers * 2 * 2 * n * h * c.intermediateSize);
    }

    /** {@code LN(gelu(dense(h)))} to the embedding size, then logits against the tied word embeddings. */
    private static void generatorHead(Map<String, Long> terms, String net, ElectraConfig c, long rows) {
        terms.put(net + " head dense", 2 * rows * c.hiddenSize * c.embeddingSize);
        terms.put(net + " head logits", 2 * rows * c.embeddingSize * c.vocabSize);
    }

    public long forwardTotal() {
        long s = 0;
        for (long v : forward.values()) s += v;
        return s;
    }

    /** Forward + backward: three times the forward. */
    public long stepTotal() {
        return 3 * forwardTotal();
    }
}
