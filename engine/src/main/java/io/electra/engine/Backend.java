package io.electra.engine;

import java.util.List;

/**
 * Every kernel the models need, one method each, forward and backward separate.
 *
 * <p>Conventions (the CPU backend is the specification; every other backend is tested against it):
 * <ul>
 *   <li>Forward methods <b>overwrite</b> their outputs. Backward methods <b>accumulate</b> ({@code +=})
 *       into every gradient they write, so a value used twice (tied embeddings, residuals) just works.
 *       The tape zero-fills gradient buffers when it creates them.</li>
 *   <li>Shapes use the legend B batch, T sequence, H heads, D head size, C channels, V vocabulary,
 *       N = B*T rows, K selected rows. "Row-wise" kernels treat a tensor as {@code rowsFlat() x cols()}.</li>
 *   <li>Float kernels accept F32 and, on the CPU, F64 (all tensors of one call share the dtype);
 *       ids, targets, masks and indices are I32. A scalar is a tensor of shape {@code []} or {@code [1]}.
 *       Mixed precision adds BF16 to {@link #matmul} (and its fused forms), the attention methods
 *       and the heads copies (see there), and a BF16 gradient to {@link #biasBackward};
 *       {@link #copy} converts between F32 and BF16. A BF16 operand widens exactly to f32,
 *       the math runs in f32 with f32 accumulation, and a BF16 result is rounded once to nearest
 *       even ({@link io.electra.engine.io.HalfFloats#floatToBf16}).</li>
 *   <li>Scalars that change between steps (learning rate, loss gradient) are device tensors, never
 *       host arguments, so a captured CUDA graph can replay a whole step; random streams move on
 *       through the device step offset ({@link #setRngStepOffset}), not through new RngKeys.</li>
 *   <li>Each method validates shapes and dtypes before doing anything and throws
 *       {@link IllegalArgumentException} naming the tensors.</li>
 * </ul>
 */
public interface Backend extends AutoCloseable {

    /** "cpu" or "cuda:0 (NVIDIA H200)". */
    String name();

    // ---------------------------------------------------------------- memory

    /** A persistent tensor (parameters, gradients, optimizer state), zero-filled. */
    Tensor allocate(DType dtype, int... shape);

    /**
     * A tensor from the per-step arena (activations and their gradients), zero-filled. Allocation
     * order repeats every step, so a warm step reuses the same storage and allocates nothing new.
     */
    Tensor allocateTemp(DType dtype, int... shape);

    /**
     * {@link #allocateTemp} without the zero-fill: contents undefined, for outputs a forward kernel
     * overwrites entirely (saves a full write pass over the activations: about 7% of a CPU step).
     * Never for gradients, which backward kernels accumulate into.
     */
    Tensor allocateTempUnfilled(DType dtype, int... shape);

    /** Ends a step: every arena tensor handed out so far may be reused. */
    void resetArena();

    /** Releases a persistent tensor's storage. */
    void free(Tensor t);

    void upload(Tensor dst, float[] src);

    void upload(Tensor dst, double[] src);

    void upload(Tensor dst, int[] src);

    /** Raw bf16 bit patterns. */
    void upload(Tensor dst, short[] src);

    /** Copies the tensor to the host as floats (F32/BF16/F64 converted, I32 as values). */
    float[] downloadFloat(Tensor src);

    double[] downloadDouble(Tensor src);

    int[] downloadInt(Tensor src);

    void fill(Tensor t, double value);

    /** dst = src, same size; converts between F32, BF16 and F64 when the dtypes differ. */
    void copy(Tensor dst, Tensor src);

    MemoryStats memoryStats();

    /** Waits for queued work to finish (a no-op on the CPU). */
    void synchronize();

    // ---------------------------------------------------------------- step graphs

    /**
     * Moves every random stream by {@code offset} steps: each random kernel (dropout forward and
     * backward, attention dropout forward and backward including flash attention, Gumbel sampling)
     * draws with step {@code key.step() + offset} instead of {@code key.step()}. The offset lives in
     * device memory and the write is stream-ordered: it applies to work queued after this call. It
     * exists for replayed step graphs, whose kernels keep the RngKey they were captured with: before
     * each replay the host sets offset = (this step's stream number - the captured one). It may be set
     * between replays but never inside {@link #captureStep} (the write would be baked into the graph),
     * and it is 0 unless a replay needs it.
     */
    void setRngStepOffset(long offset);

    /**
     * Records {@code step} (backend calls with fixed shapes, a whole training step) for replay, or says
     * why it cannot. Nothing the step enqueues executes during the capture: replay the graph to run it.
     * Run the step eagerly once first so every buffer has its final size. Inside the step: no
     * download, upload, synchronize, persistent allocate or {@link #setRngStepOffset}; scalars that
     * change between steps live in device tensors; arena tensors are allocated in the same order.
     * A backend without graphs answers with the reason, and the caller runs its steps eagerly.
     */
    default StepCapture captureStep(Runnable step) {
        return StepCapture.failed("the " + name() + " backend runs steps eagerly");
    }

    @Override
    void close();

    // ---------------------------------------------------------------- linear algebra

    /**
     * {@code out (=|+=) alpha * op(a) @ op(b)} where op transposes when asked. 2-D: a [M,K] (or [K,M]
     * transposed), b [K,N] (or [N,K]), out [M,N]. 3-D tensors are batched over axis 0 (same batch
     * count in all three). A linear layer y = x W^T is {@code matmul(y, x, false, w, true, 1, false)}.
     * Mixed precision: a and b both BF16 with out F32 or BF16; a BF16 out is read widened when
     * accumulating and {@code alpha * acc (+ old)} is rounded once.
     */
    void matmul(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, boolean accumulate);

    /**
     * {@code out = op(a) @ op(b) + bias[N]}: a linear layer's forward. A backend may fuse the bias into
     * the product's epilogue; the result is the same as {@link #matmul} then {@link #biasAdd} in place
     * (for an F32 out the sum is rounded once either way; a BF16 out takes the f32 sum rounded once).
     */
    default void matmulBias(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias) {
        if (out.dtype() != DType.BF16) {
            matmul(out, a, transA, b, transB, 1f, false);
            biasAdd(out, out, bias);
            return;
        }
        // a BF16 out (mixed precision's query/key/value projection) is the f32 sum rounded once
        Tensor wide = allocateTempUnfilled(DType.F32, out.shape());
        matmul(wide, a, transA, b, transB, 1f, false);
        biasAdd(wide, wide, bias);
        copy(out, wide);
    }

    /**
     * {@code preActivation = op(a) @ op(b) + bias[N]} and {@code out = gelu(preActivation)}: the
     * feed-forward's first half, whose backward reads preActivation. Fusable like {@link #matmulBias}.
     * Mixed precision may ask for a BF16 out over an F32 preActivation (the next GEMM's operand): the
     * f32 GELU rounded once. The default then computes it in an arena temporary and converts.
     */
    default void matmulBiasGelu(Tensor out, Tensor preActivation, Tensor a, boolean transA, Tensor b, boolean transB,
                                Tensor bias) {
        matmulBias(preActivation, a, transA, b, transB, bias);
        if (out.dtype() == preActivation.dtype()) {
            geluForward(out, preActivation);
            return;
        }
        Tensor wide = allocateTempUnfilled(preActivation.dtype(), preActivation.shape());
        geluForward(wide, preActivation);
        copy(out, wide);
    }

    /**
     * The feed-forward's gradient through its GELU, from the product that makes the GELU output's
     * gradient: g = (op(a) @ op(b)) * gelu'(preActivation), out = g (overwritten; a BF16 out rounded once),
     * dBias (may be null) += column sums of g, as {@link #linearOutputGrad} sums them. The same values as
     * {@link #matmul} into a temporary of preActivation's dtype, then linearOutputGrad (the default); a GPU
     * does it in the product's epilogue, so the GELU output's gradient is never stored.
     */
    default void matmulGeluBackward(Tensor out, Tensor dBias, Tensor a, boolean transA, Tensor b, boolean transB,
                                    Tensor preActivation) {
        Tensor wide = allocateTempUnfilled(preActivation.dtype(), preActivation.shape());
        matmul(wide, a, transA, b, transB, 1f, false);
        linearOutputGrad(out, dBias, wide, preActivation);
    }

    /** out[N,C] = in[N,C] + bias[C] (out may be in). */
    void biasAdd(Tensor out, Tensor in, Tensor bias);

    /** dBias[C] += sum over rows of dOut[N,C]; mixed precision may hand a BF16 dOut (into an F32 dBias). */
    void biasBackward(Tensor dBias, Tensor dOut);

    /**
     * A linear layer's output gradient made ready for its two GEMMs, in one pass: g = dOut[N,C], or
     * with {@code preActivation} [N,C] (the feed-forward's {@code gelu(linear(...))}) g = dOut *
     * gelu'(preActivation); {@code gradOut} [N,C] = g (overwritten, not accumulated; a BF16 gradOut is
     * rounded once to nearest even); {@code dBias} [C] (may be null) += column sums of g, as
     * {@link #biasBackward} sums the F32 g. dOut and preActivation are F32 with gradOut F32 or BF16, or
     * all F64. The same values as {@link #geluBackward} into a zeroed buffer, {@link #copy} and
     * {@link #biasBackward}, except that g's zeros keep their sign (-0 where the zeroed buffer gave +0).
     */
    void linearOutputGrad(Tensor gradOut, Tensor dBias, Tensor dOut, Tensor preActivation);

    /** out = alpha*a + beta*b, same shapes (out may alias a or b). */
    void add(Tensor out, Tensor a, float alpha, Tensor b, float beta);

    /** dst += alpha * src, same size. */
    void accumulate(Tensor dst, Tensor src, float alpha);

    /** out = s * in (out may be in). */
    void scale(Tensor out, Tensor in, float s);

    // ---------------------------------------------------------------- activations and normalisation

    /** out = gelu(in), exact erf form 0.5 x (1 + erf(x / sqrt 2)). */
    void geluForward(Tensor out, Tensor in);

    /** dIn += dOut * gelu'(in). */
    void geluBackward(Tensor dIn, Tensor dOut, Tensor in);

    /**
     * Row-wise LayerNorm: out = (in - mean) * rstd * weight + bias with biased variance and
     * rstd = 1/sqrt(var + eps). Saves mean[rows] and rstd[rows] (F32, or F64 for F64 input).
     */
    void layerNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor in, Tensor weight, Tensor bias, float eps);

    /** dIn += ..., dWeight += ..., dBias += ... from the saved statistics. */
    void layerNormBackward(Tensor dIn, Tensor dWeight, Tensor dBias, Tensor dOut, Tensor in, Tensor mean,
                           Tensor rstd, Tensor weight);

    /**
     * The tail of a post-LN block in one pass: {@code sum = dropout(x, p, key) + residual} (the value
     * the backward reads) and {@code out = LayerNorm(sum)} saving mean and rstd. The same bits as
     * {@link #dropoutForward}, {@link #add} and {@link #layerNormForward} in turn. All [rows, C]; p may
     * be 0 (no dropout; key may then be null). {@code outBf16}, when not null (BF16, beside an F32 out),
     * receives out rounded once to nearest even, as {@link #copy} rounds it: the operand the next
     * mixed-precision GEMMs read, made while the row is at hand.
     */
    void dropoutAddLayerNormForward(Tensor out, Tensor outBf16, Tensor sum, Tensor mean, Tensor rstd, Tensor x, Tensor residual,
                                    Tensor weight, Tensor bias, float eps, float p, RngKey key);

    /**
     * The backward of {@link #dropoutAddLayerNormForward}. With dSum the LayerNorm input gradient
     * (as {@link #layerNormBackward} computes it, never stored): {@code dResidual (=|+=) dSum},
     * {@code dX (=|+=) dSum * keep / (1 - p)} with the forward's mask, each overwritten unless its
     * accumulate flag is set; either may be null (no gradient wanted). dWeight and dBias accumulate.
     */
    void dropoutAddLayerNormBackward(Tensor dX, boolean accumulateX, Tensor dResidual, boolean accumulateResidual,
                                     Tensor dWeight, Tensor dBias, Tensor dOut, Tensor sum, Tensor mean, Tensor rstd,
                                     Tensor weight, float p, RngKey key);

    /**
     * {@link #dropoutAddLayerNormBackward} where x is a linear layer's output, with x's gradient made
     * ready for that layer's GEMMs in the same pass: dX overwritten (F32, or BF16 rounded once to nearest
     * even in mixed precision) and dXBias (may be null) += its column sums, as {@link #linearOutputGrad}
     * makes them (of the unrounded values). The same values as the backward into a temporary, then
     * linearOutputGrad (the default; with an F32 dX, the backward into dX and {@link #biasBackward}).
     */
    default void dropoutAddLayerNormBackwardToLinear(Tensor dX, Tensor dXBias, Tensor dResidual, boolean accumulateResidual,
                                                     Tensor dWeight, Tensor dBias, Tensor dOut, Tensor sum, Tensor mean,
                                                     Tensor rstd, Tensor weight, float p, RngKey key) {
        if (dX.dtype() == sum.dtype()) {
            dropoutAddLayerNormBackward(dX, false, dResidual, accumulateResidual, dWeight, dBias, dOut, sum, mean, rstd, weight,
                    p, key);
            if (dXBias != null) biasBackward(dXBias, dX);
            return;
        }
        Tensor wide = allocateTempUnfilled(sum.dtype(), sum.shape());
        dropoutAddLayerNormBackward(wide, false, dResidual, accumulateResidual, dWeight, dBias, dOut, sum, mean, rstd, weight,
                p, key);
        linearOutputGrad(dX, dXBias, wide, null);
    }

    /** Row-wise softmax over the last axis, max-subtracted. */
    void softmaxForward(Tensor out, Tensor in);

    /** dIn += out * (dOut - sum(dOut * out)) per row. */
    void softmaxBackward(Tensor dIn, Tensor dOut, Tensor out);

    // ---------------------------------------------------------------- attention

    /**
     * in [B,T,H*D] to out [B,H,T,D]; adds into out when {@code accumulate}. Each side F32 or BF16 (or
     * both F64): the value, or the f32 sum when accumulating, is rounded once into a BF16 out.
     */
    void splitHeads(Tensor out, Tensor in, int heads, boolean accumulate);

    /** in [B,H,T,D] to out [B,T,H*D]; adds into out when {@code accumulate}. Dtypes as {@link #splitHeads}. */
    void mergeHeads(Tensor out, Tensor in, boolean accumulate);

    /**
     * One linear layer's query, key and value projections side by side, in [B,T,3*H*D] (the query's
     * H*D columns, then the key's, then the value's), to q, k, v [B,H,T,D] in one pass: the same values
     * as {@link #splitHeads} of each column third, overwritten. q, k, v share one dtype; in and they are
     * each F32 or BF16 (or all F64), a BF16 out rounded once.
     */
    void splitHeadsQkv(Tensor q, Tensor k, Tensor v, Tensor in, int heads);

    /**
     * The backward of {@link #splitHeadsQkv}: dq, dk, dv [B,H,T,D] into dIn [B,T,3*H*D] in one pass, the
     * same values as {@link #mergeHeads} of each into its column third; adds into dIn when
     * {@code accumulate}. Dtypes as {@link #splitHeadsQkv}.
     */
    void mergeHeadsQkv(Tensor dIn, Tensor dq, Tensor dk, Tensor dv, boolean accumulate);

    /**
     * Shape of what {@link #attentionForward} saves for the backward. The CPU saves the attention
     * probabilities [B,H,T,T] (before dropout); a flash kernel saves log-sum-exp [B,H,T].
     */
    int[] attentionSavedShape(int batch, int heads, int seq, int headDim);

    /**
     * out[B,H,T,D] = dropout(softmax(q k^T * scale + maskBias)) v, with q, k, v [B,H,T,D] and
     * keyMask [B,T] I32 (1 attend, 0 padding). Masked keys get probability exactly 0 (HF adds
     * finfo(float32).min). Dropout (p may be 0) draws from {@code dropoutKey}, element index
     * ((b*H + h)*T + i)*T + j.
     * Mixed precision: q, k, v, out (and in the backward dOut, dq, dk, dv) all BF16, {@code saved}
     * F32. As the bf16 flash kernels do, the probabilities times the dropout factors are rounded to
     * bf16 before they multiply v (and likewise dS before it multiplies k and q in the backward);
     * the backward's row term is delta_i = dOut_i . out_i from the bf16 out.
     */
    void attentionForward(Tensor out, Tensor saved, Tensor q, Tensor k, Tensor v, Tensor keyMask, float scale,
                          float dropoutP, RngKey dropoutKey);

    /** dq, dk, dv += gradients of attentionForward. */
    void attentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dOut, Tensor q, Tensor k, Tensor v,
                           Tensor keyMask, Tensor saved, Tensor out, float scale, float dropoutP, RngKey dropoutKey);

    /**
     * {@link #attentionForward} on one fused projection as a linear layer computes it, with no heads
     * copies: qkv [B,T,3*H*D] holds the query's H*D columns, then the key's, then the value's (as
     * {@link #splitHeadsQkv} reads them), and out [B,T,H*D] is the context in the layout the output
     * projection reads (as {@link #mergeHeads} writes it). The same values, dtypes and saved tensor
     * as {@link #splitHeadsQkv}, {@link #attentionForward} and {@link #mergeHeads} in turn, which is
     * the default; a GPU backend reads and writes the heads in place.
     */
    default void attentionForwardQkv(Tensor out, Tensor saved, Tensor qkv, int heads, Tensor keyMask, float scale,
                                     float dropoutP, RngKey dropoutKey) {
        int[] shape = qkvHeadsShape(qkv, heads);
        Tensor q = allocateTempUnfilled(qkv.dtype(), shape), k = allocateTempUnfilled(qkv.dtype(), shape);
        Tensor v = allocateTempUnfilled(qkv.dtype(), shape), o = allocateTempUnfilled(out.dtype(), shape);
        splitHeadsQkv(q, k, v, qkv, heads);
        attentionForward(o, saved, q, k, v, keyMask, scale, dropoutP, dropoutKey);
        mergeHeads(out, o, false);
    }

    /**
     * The backward of {@link #attentionForwardQkv}: dQkv [B,T,3*H*D] gets the query, key and value
     * gradients in its column thirds, overwritten (or added into when {@code accumulate}); dOut and out
     * are [B,T,H*D]. The same values as {@link #attentionBackward} into zeroed heads merged by
     * {@link #mergeHeadsQkv}, which is the default.
     */
    default void attentionBackwardQkv(Tensor dQkv, boolean accumulate, Tensor dOut, Tensor qkv, int heads, Tensor keyMask,
                                      Tensor saved, Tensor out, float scale, float dropoutP, RngKey dropoutKey) {
        int[] shape = qkvHeadsShape(qkv, heads);
        DType type = qkv.dtype();
        Tensor q = allocateTempUnfilled(type, shape), k = allocateTempUnfilled(type, shape);
        Tensor v = allocateTempUnfilled(type, shape), o = allocateTempUnfilled(out.dtype(), shape);
        Tensor g = allocateTempUnfilled(dOut.dtype(), shape);
        splitHeadsQkv(q, k, v, qkv, heads);
        splitHeads(o, out, heads, false);
        splitHeads(g, dOut, heads, false);
        Tensor dq = allocateTemp(dQkv.dtype(), shape), dk = allocateTemp(dQkv.dtype(), shape);
        Tensor dv = allocateTemp(dQkv.dtype(), shape);
        attentionBackward(dq, dk, dv, g, q, k, v, keyMask, saved, o, scale, dropoutP, dropoutKey);
        mergeHeadsQkv(dQkv, dq, dk, dv, accumulate);
    }

    /** [B, H, T, D] of the heads in a fused projection qkv [B,T,3*H*D]; throws naming qkv when it is not one. */
    static int[] qkvHeadsShape(Tensor qkv, int heads) {
        if (qkv.rank() != 3 || heads <= 0 || qkv.dim(2) % (3 * heads) != 0) {
            throw new IllegalArgumentException("attention over a fused projection: qkv " + qkv.describe()
                    + " is not [B, T, 3 * " + heads + " heads * D]");
        }
        return new int[] {qkv.dim(0), heads, qkv.dim(1), qkv.dim(2) / (3 * heads)};
    }

    // ---------------------------------------------------------------- embeddings and row selection

    /** out[N,C] = table[ids[n]] with ids [N] I32 in [0, V). */
    void embeddingForward(Tensor out, Tensor table, Tensor ids);

    /**
     * out[N,C] = (t0[ids0[n]] + t1[ids1[n]]) + t2[ids2[n]], each ids [N] I32 in range of its table: the
     * word, position and token-type embeddings summed as they are looked up, in the order and with the
     * roundings of two adds. The default does exactly that (three lookups, two adds).
     */
    default void embeddingSumForward(Tensor out, Tensor t0, Tensor ids0, Tensor t1, Tensor ids1, Tensor t2, Tensor ids2) {
        embeddingForward(out, t0, ids0);
        Tensor row = allocateTempUnfilled(out.dtype(), out.shape());
        embeddingForward(row, t1, ids1);
        add(out, out, 1f, row, 1f);
        embeddingForward(row, t2, ids2);
        add(out, out, 1f, row, 1f);
    }

    /** dTable[ids[n]] += dOut[n], deterministic (the same result every run, whatever the duplicates). */
    void embeddingBackward(Tensor dTable, Tensor dOut, Tensor ids);

    /** out[K,C] = in[index[k]] (selected rows, e.g. the masked positions). */
    void gatherRows(Tensor out, Tensor in, Tensor index);

    /** dIn[index[k]] += dOut[k]. */
    void scatterAddRows(Tensor dIn, Tensor dOut, Tensor index);

    // ---------------------------------------------------------------- dropout and sampling

    /** out = in * keep / (1 - p), keep = uniform(key, i) >= p for element i. */
    void dropoutForward(Tensor out, Tensor in, float p, RngKey key);

    /** dIn += dOut * keep / (1 - p) with the same mask (regenerated, not stored). */
    void dropoutBackward(Tensor dIn, Tensor dOut, float p, RngKey key);

    /**
     * Gumbel-max sampling at temperature 1: out[k] = argmax_v (logits[k,v] - log(-log(u))), u the
     * uniform number k*V + v of {@code key}, clamped to (0,1) as (u + 2^-25). out [K] I32.
     */
    void gumbelSample(Tensor out, Tensor logits, RngKey key);

    /**
     * The discriminator's input and labels after sampling: discIds = inputIds, then
     * discIds[positions[k]] = sampled[k] for every k with positions[k] >= 0 (negative positions are
     * skipped: dead or duplicate prediction slots); labels[n] = (discIds[n] != inputIds[n]) ? 1 : 0.
     * inputIds, discIds [N] I32, positions, sampled [K] I32, labels [N] float (F32, F64 on the CPU).
     */
    void replaceTokens(Tensor discIds, Tensor labels, Tensor inputIds, Tensor positions, Tensor sampled);

    // ---------------------------------------------------------------- losses and reductions

    /**
     * loss[] = mean over rows with targets[k] >= 0 of (logsumexp(logits[k]) - logits[k, targets[k]]).
     * logits [K,V], targets [K] I32 (negative = ignored), lse [K] saved (F32/F64).
     */
    void crossEntropyForward(Tensor loss, Tensor lse, Tensor logits, Tensor targets);

    /** dLogits += dLoss * (softmax(logits) - onehot(target)) / count, zero for ignored rows. */
    void crossEntropyBackward(Tensor dLogits, Tensor dLoss, Tensor logits, Tensor lse, Tensor targets);

    /**
     * The backward of {@link #crossEntropyForward} for the linear layer that made the logits (the
     * masked-LM head): dLogits overwritten with the gradient {@link #crossEntropyBackward} adds into
     * zeros, F32 or in mixed precision rounded once to BF16 (the layer's GEMMs' operand), and dBias (may
     * be null) += its column sums, as {@link #linearOutputGrad} makes them. The same values as that
     * backward into a zeroed temporary, then linearOutputGrad (the default; with an F32 dLogits, into
     * dLogits zeroed, then {@link #biasBackward}); a GPU writes no zeros and reads nothing back.
     */
    default void crossEntropyBackwardToLinear(Tensor dLogits, Tensor dBias, Tensor dLoss, Tensor logits, Tensor lse,
                                              Tensor targets) {
        if (dLogits.dtype() == logits.dtype()) {
            fill(dLogits, 0);
            crossEntropyBackward(dLogits, dLoss, logits, lse, targets);
            if (dBias != null) biasBackward(dBias, dLogits);
            return;
        }
        Tensor wide = allocateTemp(logits.dtype(), logits.shape());
        crossEntropyBackward(wide, dLoss, logits, lse, targets);
        linearOutputGrad(dLogits, dBias, wide, null);
    }

    /**
     * loss[] = mean over n with mask[n] != 0 of BCE-with-logits(logits[n], labels[n]), computed stably
     * as max(x,0) - x*y + log1p(exp(-|x|)). logits, labels [N] float; mask [N] I32.
     */
    void bceWithLogitsForward(Tensor loss, Tensor logits, Tensor labels, Tensor mask);

    /** dLogits += dLoss * (sigmoid(x) - y) / count where mask != 0. */
    void bceWithLogitsBackward(Tensor dLogits, Tensor dLoss, Tensor logits, Tensor labels, Tensor mask);

    /** loss[] = mean((pred - target)^2), pred and target [N]. */
    void mseForward(Tensor loss, Tensor pred, Tensor target);

    /** dPred += dLoss * 2 (pred - target) / N. */
    void mseBackward(Tensor dPred, Tensor dLoss, Tensor pred, Tensor target);

    /** out[] = sum of all elements of in (alpha times it; alpha = 1/n gives the mean). */
    void sum(Tensor out, Tensor in, float alpha);

    /** dIn += alpha * dOut[] broadcast to every element. */
    void sumBackward(Tensor dIn, Tensor dOut, float alpha);

    // ---------------------------------------------------------------- optimizer

    /** out[] += sum of squares of in (for the global gradient norm). */
    void sumSquaresAccumulate(Tensor out, Tensor in);

    /** scale[] = min(1, maxNorm / (sqrt(sumSquares[]) + 1e-6)): the gradient-clipping factor. */
    void clipFactor(Tensor scale, Tensor sumSquares, float maxNorm);

    /**
     * One AdamW step on one parameter, everything F32 and on the device:
     * <pre>
     *   g = grad * gradScale[]
     *   m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g^2
     *   update = (m / bc1) / (sqrt(v / bc2) + eps) + weightDecay * param
     *   param -= lr[] * update
     * </pre>
     * with bc1 = hyper[0], bc2 = hyper[1] the bias corrections (1 for ELECTRA's official form),
     * lr = hyper[2]; {@code hyper} is a device tensor [3] the host updates every step.
     */
    void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor hyper, float beta1,
                   float beta2, float eps, float weightDecay);

    /**
     * {@link #adamwStep}, then {@code paramBf16} (BF16, param's shape) = the updated param rounded to
     * bf16: the weight copy the mixed-precision GEMMs read, refreshed in the same pass.
     */
    void adamwStep(Tensor param, Tensor paramBf16, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor hyper,
                   float beta1, float beta2, float eps, float weightDecay);

    // ---------------------------------------------------------------- optimizer, every parameter at once

    /**
     * The table of a fixed parameter set for {@link #gradSumSquares} and {@link #adamwStepAll}; see
     * {@link ParameterTable} for what each list holds. Build it once, close it before freeing its tensors.
     * The default holds the lists; a GPU backend uploads them so that a step is a few launches.
     */
    default ParameterTable parameterTable(List<Tensor> params, List<Tensor> grads, List<Tensor> m, List<Tensor> v,
                                          List<Tensor> bf16Copies, float[] weightDecay, int[] hyperRow) {
        return new ParameterTable(params, grads, m, v, bf16Copies, weightDecay, hyperRow);
    }

    /**
     * out[] = sum over every gradient of the table of the sum of its squares (overwrites). The
     * default is {@link #fill} then {@link #sumSquaresAccumulate} per gradient, in table order.
     */
    default void gradSumSquares(Tensor out, ParameterTable table) {
        if (out.size() != 1) throw new IllegalArgumentException("gradSumSquares: out " + out.describe() + " must be a scalar");
        fill(out, 0);
        for (Tensor g : table.grads()) sumSquaresAccumulate(out, g);
    }

    /**
     * {@link #adamwStep} on every parameter i of the table, with its weight decay, the row
     * {@code hyperRow(i)} of {@code hyper} [3 * G] as its (bc1, bc2, lr), and its bf16 copy refreshed
     * where it has one; then every gradient = 0, ready for the next accumulation. The default makes
     * exactly those per-tensor calls, then {@link #fill} per gradient.
     */
    default void adamwStepAll(ParameterTable table, Tensor gradScale, Tensor hyper, float beta1, float beta2, float eps) {
        table.checkHyper(hyper);
        Tensor rows = hyper.view((int) (hyper.size() / 3), 3);
        Tensor[] row = new Tensor[table.groups()];
        for (int g = 0; g < row.length; g++) row[g] = rows.rows(g, 1).view(3);
        for (int i = 0; i < table.size(); i++) {
            Tensor param = table.params().get(i), copy = table.bf16Copies().get(i), h = row[table.hyperRow(i)];
            if (copy != null) {
                adamwStep(param, copy, table.grads().get(i), table.m().get(i), table.v().get(i), gradScale, h, beta1, beta2,
                        eps, table.weightDecay(i));
            } else {
                adamwStep(param, table.grads().get(i), table.m().get(i), table.v().get(i), gradScale, h, beta1, beta2, eps,
                        table.weightDecay(i));
            }
        }
        for (Tensor g : table.grads()) fill(g, 0);
    }
}
