package io.electra.engine.autograd;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Precision;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;

/**
 * The differentiable operations: each runs its forward through the backend and, three lines below,
 * records the closure that sends gradients back (always accumulating). Outputs come from the step
 * arena in the dtype of the first input, so the same model code runs in F32 and, on the CPU, in F64
 * for gradient checks.
 *
 * <p>Precision {@link Precision#BF16} (mixed precision) changes linear and the attention block and
 * nothing else. Linear multiplies bf16 operands (the activation rounded on the way in, once per step
 * however many projections read it, and in the backward the output gradient; the weight's persistent
 * {@link Var#bf16Copy} when it has one, else the weight rounded per call) with f32 accumulation into
 * an F32 output and F32 parameter gradients. In {@link #selfAttention} the fused query/key/value
 * projection writes BF16 (the f32 sum rounded once), the attention reads its heads in place and
 * returns a BF16 context that the output projection reads as it is, and the heads' gradients come
 * back BF16 into the projection's BF16 gradient: the attention block's activations and their
 * gradients are BF16, as under PyTorch's autocast. (The older pieces, splitHeads into BF16 heads,
 * attention and mergeHeads, give the same bits; attention called on F32 heads rounds them itself and
 * hands back an F32 context.) The feed-forward's GELU output is stored BF16 (rounded where it was
 * made, with an F32 gradient), since only the next GEMM reads it. LayerNorm, softmax, GELU, dropout, embeddings and
 * the losses see only F32 values, so their statistics stay in fp32.
 *
 * <p>Shape legend: N rows (batch*seq), C channels, B batch, T sequence, H heads, D head size,
 * K selected rows, V vocabulary.
 */
public final class Ops {
    private final Backend b;
    private final Tape tape;
    private long seed;
    private long step;
    private boolean training = true;
    private Precision precision = Precision.FP32;

    public Ops(Tape tape) {
        this.tape = tape;
        this.b = tape.backend();
    }

    public Tape tape() { return tape; }
    public Backend backend() { return b; }

    /** Dropout is active only in training mode. */
    public void setTraining(boolean training) { this.training = training; }
    public boolean training() { return training; }

    /** FP32, or BF16 mixed precision for linear and attention (F32 values only; F64 runs stay F64). */
    public void setPrecision(Precision precision) { this.precision = precision; }
    public Precision precision() { return precision; }

    private boolean bf16(Tensor value) {
        return precision == Precision.BF16 && value.dtype() == DType.F32;
    }

    /**
     * {@code x}'s value (as {@code view}) rounded to BF16, once per step: the query, key and value
     * projections read the same hidden states, and each would otherwise round them again.
     */
    private Tensor roundedBf16(Var x, Tensor view) {
        Tensor r = tape.roundedBf16(x);
        if (r == null) {
            r = toBf16(view);
            tape.rememberRoundedBf16(x, r);
        }
        return r.view(view.shape());
    }

    /** A BF16 arena tensor holding {@code t} rounded to nearest even. */
    private Tensor toBf16(Tensor t) {
        Tensor r = b.allocateTempUnfilled(DType.BF16, t.shape());
        b.copy(r, t);
        return r;
    }

    /** dst (F32) += src (BF16) widened: a bf16 gradient handed back to an F32 value. */
    private void accumulateWidened(Tensor dst, Tensor src) {
        Tensor wide = b.allocateTempUnfilled(DType.F32, src.shape());
        b.copy(wide, src);
        b.accumulate(dst, wide, 1f);
    }

    /** The (seed, step) every dropout mask of this step is keyed by. */
    public void setRng(long seed, long step) {
        this.seed = seed;
        this.step = step;
    }

    public RngKey key(int purpose) {
        return new RngKey(seed, step, purpose);
    }

    /** A value that needs no gradient (inputs, masks). */
    public static Var constant(Tensor t) {
        return new Var(t, false);
    }

    /** A forward output: every kernel below overwrites its output entirely, so it skips the arena's zero-fill. */
    private Var out(Tensor like, boolean needsGrad, int... shape) {
        return new Var(b.allocateTempUnfilled(like.dtype(), shape), needsGrad);
    }

    // ------------------------------------------------------------------ linear algebra

    /** y[N,out] = x[N,in] W[out,in]^T (+ bias[out]); x may have any leading shape. */
    public Var linear(Var x, Var w, Var bias) {
        return linear(x, w, bias, false);
    }

    /**
     * gelu(linear(x, w, bias)) as one op: the backend may fuse bias and GELU into the product's
     * epilogue, and only the pre-activation is kept for the backward (the same values and gradients
     * as {@code gelu(linear(...))}).
     */
    public Var linearGelu(Var x, Var w, Var bias) {
        return linear(x, w, bias, true);
    }

    /**
     * dense2(gelu(dense1(x))), the feed-forward block, with dense1 = (w1, b1) and dense2 = (w2, b2): the
     * values and gradients of {@code linear(linearGelu(x, w1, b1), w2, b2)}, with less memory traffic. In
     * mixed precision the GELU output, which only dense2's GEMMs read, leaves dense1's epilogue already
     * rounded to bf16 (the same bits as rounding it on the way into dense2). In the backward, dense1's
     * output gradient comes straight from dense2's input-gradient product through GELU's derivative
     * ({@link Backend#matmulGeluBackward}, with dense1's bias sums): the GELU output's own [N, 4C]
     * gradient is never stored.
     */
    public Var feedForward(Var x, Var w1, Var b1, Var w2, Var b2) {
        Projection f = feedForwardProjection(x, w1, b1, w2, b2);
        Var y = new Var(f.out().view(f.shape()), f.needsGrad());
        if (f.needsGrad()) tape.record(() -> {
            if (y.grad() != null) f.backward().accept(outputGradForGemms(y.grad().view(f.out().shape()), f.bias(), f.mixed()));
        });
        return y;
    }

    /**
     * layerNorm(add(dropout(linear(x, w, bias), p, purpose), residual)): a post-LN block's output
     * projection and its tail (HF's ElectraSelfOutput). The values and gradients of the two ops; in the
     * backward the LayerNorm's pass also makes the projection's output gradient ready for its GEMMs (bf16
     * in mixed precision) and sums its bias gradient, so no [N, C] f32 gradient is written and read back.
     */
    public Var linearDropoutAddLayerNorm(Var x, Var w, Var bias, Var residual, float p, int purpose, Var gamma, Var beta,
                                         float eps) {
        return projectionTail(linearProjection(x, w, bias), residual, p, purpose, gamma, beta, eps);
    }

    /**
     * layerNorm(add(dropout(feedForward(x, ...), p, purpose), x)): the feed-forward block and its tail
     * (HF's ElectraIntermediate and ElectraOutput), x the residual. The values and gradients of the ops,
     * with the gradient passes of {@link #feedForward} and {@link #linearDropoutAddLayerNorm} fused.
     */
    public Var feedForwardDropoutAddLayerNorm(Var x, Var w1, Var b1, Var w2, Var b2, float p, int purpose, Var gamma, Var beta,
                                              float eps) {
        return projectionTail(feedForwardProjection(x, w1, b1, w2, b2), x, p, purpose, gamma, beta, eps);
    }

    /**
     * A linear layer's (or the feed-forward's) forward, done: {@code out} [rows, outDim] in the wide dtype
     * (shape {@code shape}), and its backward from an output gradient already made ready for its GEMMs
     * (bf16 in mixed precision) whose bias gradient the caller has summed into {@code bias}.
     */
    private record Projection(Tensor out, int[] shape, Var bias, boolean mixed, boolean needsGrad,
                              java.util.function.Consumer<Tensor> backward) {
    }

    /** dy [rows, out] made ready for a projection's GEMMs, with its bias gradient: linear's first backward step. */
    private Tensor outputGradForGemms(Tensor dy2, Var bias, boolean mixed) {
        Tensor dBias = bias != null && bias.requiresGrad() ? tape.gradOf(bias) : null;
        if (!mixed) {
            if (dBias != null) b.biasBackward(dBias, dy2);
            return dy2;
        }
        Tensor d = b.allocateTempUnfilled(DType.BF16, dy2.shape());
        b.linearOutputGrad(d, dBias, dy2, null);
        return d;
    }

    /** x W^T + bias into a wide [rows, out] tensor (as {@link #linear} computes it) and the rest of its backward. */
    private Projection linearProjection(Var x, Var w, Var bias) {
        Tensor xv = x.value(), wv = w.value();
        int in = xv.cols(), rows = xv.rowsFlat(), outDim = wv.dim(0);
        if (wv.rank() != 2 || wv.dim(1) != in || bias == null) {
            throw new IllegalArgumentException("linear: " + xv.describe() + " does not fit weight " + wv.describe() + " with a bias");
        }
        boolean g = tape.needsGrad(x, w, bias);
        boolean mixed = bf16(xv) || xv.dtype() == DType.BF16;
        Tensor x2 = xv.view(rows, in);
        Tensor xa = bf16(xv) ? roundedBf16(x, x2) : x2, wa = gemmWeight(w, mixed);
        Tensor y2 = b.allocateTempUnfilled(mixed ? DType.F32 : xv.dtype(), rows, outDim);
        b.matmulBias(y2, xa, false, wa, true, bias.value());
        int[] shape = xv.shape();
        shape[shape.length - 1] = outDim;
        return new Projection(y2, shape, bias, mixed, g, dPre -> linearInputAndWeightGrads(x, w, xa, wa, dPre, rows, in));
    }

    /** dx (=|+=) dPre W and dW += dPre^T x: a linear layer's backward once its output gradient is ready. */
    private void linearInputAndWeightGrads(Var x, Var w, Tensor xa, Tensor wa, Tensor dPre, int rows, int in) {
        if (x.requiresGrad()) {
            boolean first = x.grad() == null;  // the first contribution overwrites an unfilled buffer
            b.matmul(tape.gradForWrite(x).view(rows, in), dPre, false, wa, false, 1f, !first);
        }
        if (w.requiresGrad()) b.matmul(tape.gradOf(w), dPre, true, xa, false, 1f, true);
    }

    /** The feed-forward's forward into a wide [rows, out] tensor, and the rest of its backward (see {@link #feedForward}). */
    private Projection feedForwardProjection(Var x, Var w1, Var b1, Var w2, Var b2) {
        Tensor xv = x.value(), w1v = w1.value(), w2v = w2.value();
        int in = xv.cols(), rows = xv.rowsFlat(), hidden = w1v.dim(0), outDim = w2v.dim(0);
        if (w1v.rank() != 2 || w1v.dim(1) != in || w2v.rank() != 2 || w2v.dim(1) != hidden || b1 == null || b2 == null) {
            throw new IllegalArgumentException("feedForward: " + xv.describe() + " does not fit weights " + w1v.describe()
                    + " and " + w2v.describe() + " (both with biases)");
        }
        boolean g = tape.needsGrad(x, w1, b1, w2, b2);
        boolean mixed = bf16(xv) || xv.dtype() == DType.BF16;
        DType wide = mixed ? DType.F32 : xv.dtype();
        Tensor x2 = xv.view(rows, in);
        Tensor xa = bf16(xv) ? roundedBf16(x, x2) : x2;
        Tensor w1a = gemmWeight(w1, mixed), w2a = gemmWeight(w2, mixed);
        // pre = x W1^T + b1 (kept for the backward), h = gelu(pre) (only the second GEMM reads it: bf16 in mixed precision)
        Tensor pre = b.allocateTempUnfilled(wide, rows, hidden), h = b.allocateTempUnfilled(mixed ? DType.BF16 : wide, rows, hidden);
        b.matmulBiasGelu(h, pre, xa, false, w1a, true, b1.value());
        Tensor y2 = b.allocateTempUnfilled(wide, rows, outDim);
        b.matmulBias(y2, h, false, w2a, true, b2.value());
        int[] shape = xv.shape();
        shape[shape.length - 1] = outDim;
        return new Projection(y2, shape, b2, mixed, g, d2 -> {
            if (w2.requiresGrad()) b.matmul(tape.gradOf(w2), d2, true, h, false, 1f, true);
            if (!x.requiresGrad() && !w1.requiresGrad() && !b1.requiresGrad()) return;
            // the first linear's output gradient straight from the product d2 W2, through GELU (and its bias sums)
            Tensor d1 = b.allocateTempUnfilled(mixed ? DType.BF16 : wide, rows, hidden);
            b.matmulGeluBackward(d1, b1.requiresGrad() ? tape.gradOf(b1) : null, d2, false, w2a, false, pre);
            linearInputAndWeightGrads(x, w1, xa, w1a, d1, rows, in);
        });
    }

    /** layerNorm(dropout(projection) + residual), the backward handing the projection its GEMM-ready gradient. */
    private Var projectionTail(Projection f, Var residual, float p, int purpose, Var gamma, Var beta, float eps) {
        Tensor xv = f.out(), res = residual.value().view(xv.shape());
        float pe = training ? p : 0f;
        RngKey key = pe > 0 ? key(purpose) : null;
        boolean g = f.needsGrad() || tape.needsGrad(residual, gamma, beta);
        Var o = new Var(b.allocateTempUnfilled(xv.dtype(), f.shape()), g);
        Tensor o2 = o.value().view(xv.shape());
        Tensor sum = b.allocateTempUnfilled(xv.dtype(), xv.shape());
        DType statType = xv.dtype() == DType.F64 ? DType.F64 : DType.F32;
        Tensor mean = b.allocateTempUnfilled(statType, xv.rowsFlat()), rstd = b.allocateTempUnfilled(statType, xv.rowsFlat());
        // mixed precision: the GEMMs that read the output (the next projections) find its bf16 rounding made here
        Tensor rounded = f.mixed() ? b.allocateTempUnfilled(DType.BF16, f.shape()) : null;
        b.dropoutAddLayerNormForward(o2, rounded == null ? null : rounded.view(xv.shape()), sum, mean, rstd, xv, res,
                gamma.value(), beta.value(), eps, pe, key);
        if (rounded != null) tape.rememberRoundedBf16(o, rounded);
        if (g) tape.record(() -> {
            if (o.grad() == null) return;
            Tensor dOut = o.grad().view(xv.shape());
            boolean accR = residual.grad() != null;  // a first contribution overwrites
            Tensor dR = residual.requiresGrad() ? tape.gradForWrite(residual).view(xv.shape()) : null;
            Tensor dGamma = tape.gradOf(gamma), dBeta = tape.gradOf(beta);
            if (!f.needsGrad()) {
                b.dropoutAddLayerNormBackward(null, false, dR, accR, dGamma, dBeta, dOut, sum, mean, rstd, gamma.value(), pe, key);
                return;
            }
            Tensor dPre = b.allocateTempUnfilled(f.mixed() ? DType.BF16 : xv.dtype(), xv.shape());
            Tensor dBias = f.bias().requiresGrad() ? tape.gradOf(f.bias()) : null;
            b.dropoutAddLayerNormBackwardToLinear(dPre, dBias, dR, accR, dGamma, dBeta, dOut, sum, mean, rstd, gamma.value(), pe,
                    key);
            f.backward().accept(dPre);
        });
        return o;
    }

    /** The weight as the GEMMs read it: in mixed precision its persistent bf16 copy (or its rounding now). */
    private Tensor gemmWeight(Var w, boolean mixed) {
        if (!mixed) return w.value();
        return w.bf16Copy() != null ? w.bf16Copy() : toBf16(w.value());
    }

    private Var linear(Var x, Var w, Var bias, boolean gelu) {
        return linear(x, w, bias, gelu, false);
    }

    /**
     * {@code bf16Inner}: in mixed precision y, which only bf16 consumers read, is stored BF16 (the fused
     * query/key/value projection that only the attention reads; its gradient is BF16, as the attention
     * writes it). Not with GELU: a BF16 GELU output's gradient would need an F32 buffer (feedForward).
     */
    private Var linear(Var x, Var w, Var bias, boolean gelu, boolean bf16Inner) {
        Tensor xv = x.value(), wv = w.value();
        int in = xv.cols(), rows = xv.rowsFlat(), outDim = wv.dim(0);
        if (wv.rank() != 2 || wv.dim(1) != in) {
            throw new IllegalArgumentException("linear: " + xv.describe() + " does not fit weight " + wv.describe());
        }
        if (gelu && bias == null) throw new IllegalArgumentException("linearGelu needs a bias");
        int[] outShape = xv.shape();
        outShape[outShape.length - 1] = outDim;
        boolean g = tape.needsGrad(x, w, bias);
        // mixed precision: an F32 activation is rounded to bf16 on the way in, a BF16 one (the attention
        // context, the feed-forward's GELU output) goes in as it is; y is F32 (BF16 only for bf16Inner)
        boolean mixed = bf16(xv) || xv.dtype() == DType.BF16;
        DType yType = mixed ? DType.F32 : xv.dtype();
        DType stored = mixed && bf16Inner ? DType.BF16 : yType;  // the GEMM writes y (and only y) as BF16
        if (gelu && bf16Inner) throw new IllegalArgumentException("linear: a bf16-only output has no GELU variant");
        Var y = new Var(b.allocateTempUnfilled(stored, outShape), g, stored);
        Tensor x2 = xv.view(rows, in), y2 = y.value().view(rows, outDim);
        // with GELU, the product (+ bias) lands in pre and y = gelu(pre); the backward turns dy into dPre
        Tensor pre2 = gelu ? b.allocateTempUnfilled(yType, rows, outDim) : y2;
        Tensor xa = bf16(xv) ? roundedBf16(x, x2) : x2;
        Tensor wa = gemmWeight(w, mixed);
        if (gelu) b.matmulBiasGelu(y2, pre2, xa, false, wa, true, bias.value());
        else if (bias != null) b.matmulBias(y2, xa, false, wa, true, bias.value());
        else b.matmul(y2, xa, false, wa, true, 1f, false);
        if (g) tape.record(() -> {
            Tensor dy = y.grad();
            if (dy == null) return;
            Tensor dy2 = dy.view(rows, outDim), dBias = bias != null && bias.requiresGrad() ? tape.gradOf(bias) : null;
            // dPre = dy (* gelu'(pre)) and dBias += its column sums in one pass; mixed precision rounds dPre to
            // bf16 there (dBias sums the f32 values) for dx += bf16(dPre) bf16(W) and dW += bf16(dPre)^T bf16(x).
            // FP32 without GELU hands dy to the GEMMs as it is.
            Tensor dPreA = dy2;
            if (dy.dtype() == DType.BF16) {  // the attention's gradient of qkv: ready for the GEMMs as it is
                if (dBias != null) b.biasBackward(dBias, dy2);
            } else if (mixed || gelu) {
                dPreA = b.allocateTempUnfilled(mixed ? DType.BF16 : yType, rows, outDim);
                b.linearOutputGrad(dPreA, dBias, dy2, gelu ? pre2 : null);
            } else if (dBias != null) {
                b.biasBackward(dBias, dy2);
            }
            if (x.requiresGrad()) {
                boolean first = x.grad() == null;  // the first contribution overwrites an unfilled buffer
                b.matmul(tape.gradForWrite(x).view(rows, in), dPreA, false, wa, false, 1f, !first);
            }
            if (w.requiresGrad()) b.matmul(tape.gradOf(w), dPreA, true, xa, false, 1f, true);
        });
        return y;
    }

    /** alpha*a + beta*b (residual connections, weighted loss sums). */
    public Var add(Var x, float alpha, Var y, float beta) {
        boolean g = tape.needsGrad(x, y);
        Var o = out(x.value(), g, x.value().shape());
        b.add(o.value(), x.value(), alpha, y.value(), beta);
        if (g) tape.record(() -> {
            Tensor d = o.grad();
            if (d == null) return;
            if (x.requiresGrad()) addInto(x, d, alpha);
            if (y.requiresGrad()) addInto(y, d, beta);
        });
        return o;
    }

    /** x's gradient += alpha * d; the first contribution this step is written (scaled) into a fresh buffer instead. */
    private void addInto(Var x, Tensor d, float alpha) {
        if (x.grad() == null) b.scale(tape.gradForWrite(x), d, alpha);
        else b.accumulate(x.grad(), d, alpha);
    }

    public Var add(Var x, Var y) {
        return add(x, 1f, y, 1f);
    }

    public Var scale(Var x, float s) {
        boolean g = tape.needsGrad(x);
        Var o = out(x.value(), g, x.value().shape());
        b.scale(o.value(), x.value(), s);
        if (g) tape.record(() -> {
            if (o.grad() != null) addInto(x, o.grad(), s);
        });
        return o;
    }

    /** The same elements with another shape; the gradient flows back unchanged. */
    public Var view(Var x, int... shape) {
        boolean g = tape.needsGrad(x);
        Var o = new Var(x.value().view(shape), g);
        if (g) tape.record(() -> {
            if (o.grad() != null) addInto(x, o.grad().view(x.value().shape()), 1f);
        });
        return o;
    }

    // ------------------------------------------------------------------ activations and normalisation

    public Var gelu(Var x) {
        boolean g = tape.needsGrad(x);
        Var o = out(x.value(), g, x.value().shape());
        b.geluForward(o.value(), x.value());
        if (g) tape.record(() -> {
            if (o.grad() != null) b.geluBackward(tape.gradOf(x), o.grad(), x.value());
        });
        return o;
    }

    /** LayerNorm over the last axis with statistics saved for the backward. */
    public Var layerNorm(Var x, Var weight, Var bias, float eps) {
        Tensor xv = x.value();
        boolean g = tape.needsGrad(x, weight, bias);
        Var o = out(xv, g, xv.shape());
        DType statType = xv.dtype() == DType.F64 ? DType.F64 : DType.F32;
        Tensor mean = b.allocateTempUnfilled(statType, xv.rowsFlat());
        Tensor rstd = b.allocateTempUnfilled(statType, xv.rowsFlat());
        b.layerNormForward(o.value(), mean, rstd, xv, weight.value(), bias.value(), eps);
        if (g) tape.record(() -> {
            if (o.grad() == null) return;
            b.layerNormBackward(tape.gradOf(x), tape.gradOf(weight), tape.gradOf(bias), o.grad(), xv, mean, rstd,
                    weight.value());
        });
        return o;
    }

    /**
     * layerNorm(add(dropout(x, p, purpose), residual)) as one op, the tail of a post-LN block: the same
     * values and gradients, in one pass each way instead of three (the backward writes x's and the
     * residual's gradients directly from the LayerNorm's, through the regenerated mask).
     */
    public Var dropoutAddLayerNorm(Var x, Var residual, float p, int purpose, Var weight, Var bias, float eps) {
        if (x == residual) throw new IllegalArgumentException("dropoutAddLayerNorm: x and residual are the same value");
        Tensor xv = x.value();
        float pe = training ? p : 0f;
        RngKey key = pe > 0 ? key(purpose) : null;
        boolean g = tape.needsGrad(x, residual, weight, bias);
        Var o = out(xv, g, xv.shape());
        Tensor sum = b.allocateTempUnfilled(xv.dtype(), xv.shape());
        DType statType = xv.dtype() == DType.F64 ? DType.F64 : DType.F32;
        Tensor mean = b.allocateTempUnfilled(statType, xv.rowsFlat());
        Tensor rstd = b.allocateTempUnfilled(statType, xv.rowsFlat());
        // mixed precision: the GEMMs that read the output (the next projections) find its bf16 rounding made here
        Tensor rounded = bf16(xv) ? b.allocateTempUnfilled(DType.BF16, xv.shape()) : null;
        b.dropoutAddLayerNormForward(o.value(), rounded, sum, mean, rstd, xv, residual.value(), weight.value(),
                bias.value(), eps, pe, key);
        if (rounded != null) tape.rememberRoundedBf16(o, rounded);
        if (g) tape.record(() -> {
            if (o.grad() == null) return;
            boolean accX = x.grad() != null, accR = residual.grad() != null;  // a first contribution overwrites
            Tensor dX = x.requiresGrad() ? tape.gradForWrite(x) : null;
            Tensor dR = residual.requiresGrad() ? tape.gradForWrite(residual) : null;
            b.dropoutAddLayerNormBackward(dX, accX, dR, accR, tape.gradOf(weight), tape.gradOf(bias), o.grad(), sum, mean,
                    rstd, weight.value(), pe, key);
        });
        return o;
    }

    public Var softmax(Var x) {
        boolean g = tape.needsGrad(x);
        Var o = out(x.value(), g, x.value().shape());
        b.softmaxForward(o.value(), x.value());
        if (g) tape.record(() -> {
            if (o.grad() != null) b.softmaxBackward(tape.gradOf(x), o.grad(), o.value());
        });
        return o;
    }

    /** Dropout with probability p, keyed by (seed, step, purpose); identity outside training or at p = 0. */
    public Var dropout(Var x, float p, int purpose) {
        if (!training || p == 0f) return x;
        RngKey key = key(purpose);
        boolean g = tape.needsGrad(x);
        Var o = out(x.value(), g, x.value().shape());
        b.dropoutForward(o.value(), x.value(), p, key);
        if (g) tape.record(() -> {
            if (o.grad() != null) b.dropoutBackward(tape.gradOf(x), o.grad(), p, key);
        });
        return o;
    }

    // ------------------------------------------------------------------ attention

    /**
     * x[B,T,H*D] to [B,H,T,D]. In mixed precision the heads come out BF16 (rounded in the same pass),
     * ready for the bf16 attention; the gradient flows back widened into x's F32 one.
     */
    public Var splitHeads(Var x, int heads) {
        Tensor xv = x.value();
        int bt = xv.dim(0), t = xv.dim(1), c = xv.dim(2);
        boolean g = tape.needsGrad(x);
        DType type = bf16(xv) ? DType.BF16 : xv.dtype();
        Var o = new Var(b.allocateTempUnfilled(type, bt, heads, t, c / heads), g);
        b.splitHeads(o.value(), xv, heads, false);
        if (g) tape.record(() -> {
            if (o.grad() != null) {
                boolean first = x.grad() == null;
                b.mergeHeads(tape.gradForWrite(x), o.grad(), !first);
            }
        });
        return o;
    }

    /** The attention's inputs q, k, v [B,H,T,D] split from one fused projection. */
    public record QkvHeads(Var q, Var k, Var v) {
    }

    /**
     * x[B,T,3*H*D], the query, key and value projections side by side as one linear layer computes
     * them, to q, k, v [B,H,T,D] in one pass: the values of {@link #splitHeads} on each column third,
     * in its dtypes. The backward merges the three gradients into x's in one pass.
     */
    public QkvHeads splitHeadsQkv(Var x, int heads) {
        Tensor xv = x.value();
        if (xv.rank() != 3 || heads <= 0 || xv.dim(2) % (3 * heads) != 0) {
            throw new IllegalArgumentException("splitHeadsQkv: " + xv.describe() + " is not [B, T, 3 * " + heads + " * D]");
        }
        int[] shape = {xv.dim(0), heads, xv.dim(1), xv.dim(2) / (3 * heads)};
        boolean g = tape.needsGrad(x);
        DType type = bf16(xv) ? DType.BF16 : xv.dtype();
        Var q = new Var(b.allocateTempUnfilled(type, shape), g), k = new Var(b.allocateTempUnfilled(type, shape), g);
        Var v = new Var(b.allocateTempUnfilled(type, shape), g);
        b.splitHeadsQkv(q.value(), k.value(), v.value(), xv, heads);
        if (g) tape.record(() -> {
            if (q.grad() == null && k.grad() == null && v.grad() == null) return;
            boolean first = x.grad() == null;
            b.mergeHeadsQkv(tape.gradForWrite(x), tape.gradOf(q), tape.gradOf(k), tape.gradOf(v), !first);
        });
        return new QkvHeads(q, k, v);
    }

    /** x[B,H,T,D] to [B,T,H*D], in x's dtype (a BF16 context goes on to the output projection as it is). */
    public Var mergeHeads(Var x) {
        Tensor xv = x.value();
        int heads = xv.dim(1);
        boolean g = tape.needsGrad(x);
        Var o = out(xv, g, xv.dim(0), xv.dim(2), heads * xv.dim(3));
        b.mergeHeads(o.value(), xv, false);
        if (g) tape.record(() -> {
            if (o.grad() != null) {
                boolean first = x.grad() == null;
                b.splitHeads(tape.gradForWrite(x), o.grad(), heads, !first);
            }
        });
        return o;
    }

    /**
     * Self-attention with the query, key and value projections as one linear layer: x [B,T,C] to the
     * context [B,T,C], the heads merged as the output projection reads them; wQkv [3C, C] and bQkv [3C]
     * hold the query's rows, then the key's, then the value's. The same values and gradients as
     * {@code mergeHeads(attention(splitHeadsQkv(linear(x, wQkv, bQkv))))}. In mixed precision the
     * projection's epilogue writes qkv in bf16, the attention reads the heads in place and writes the
     * bf16 context, and its backward writes the heads' gradients straight into qkv's bf16 gradient,
     * which the projection's GEMMs read as it is: no heads copies and no conversions on the way.
     */
    public Attention selfAttention(Var x, Var wQkv, Var bQkv, int heads, Tensor keyMask, float dropoutP, int purpose) {
        return attentionQkv(linear(x, wQkv, bQkv, false, true), heads, keyMask, dropoutP, purpose);
    }

    /**
     * Scaled dot-product attention over one fused projection qkv [B,T,3*H*D] (query, key and value
     * column thirds) with keyMask [B,T] (I32, 1 = attend): the context [B,T,H*D], BF16 in mixed
     * precision. The same values as {@link #attention} on {@link #splitHeadsQkv}'s heads, merged.
     */
    public Attention attentionQkv(Var qkv, int heads, Tensor keyMask, float dropoutP, int purpose) {
        Tensor xv = qkv.value();
        int[] hs = Backend.qkvHeadsShape(xv, heads);
        int bt = hs[0], t = hs[2], d = hs[3];
        float scale = (float) (1.0 / Math.sqrt(d));
        float p = training ? dropoutP : 0f;
        RngKey key = key(purpose);
        boolean g = tape.needsGrad(qkv);
        // an F32 projection in mixed precision is rounded here and its gradient widened back; a BF16 one
        // (selfAttention's) is read as it is and takes the gradient in bf16 directly
        boolean widen = bf16(xv);
        Tensor in = widen ? toBf16(xv) : xv;
        Var o = out(in, g, bt, t, heads * d);
        DType savedType = in.dtype() == DType.F64 ? DType.F64 : DType.F32;  // statistics stay fp32
        Tensor saved = b.allocateTempUnfilled(savedType, b.attentionSavedShape(bt, heads, t, d));
        b.attentionForwardQkv(o.value(), saved, in, heads, keyMask, scale, p, key);
        if (g) tape.record(() -> {
            if (o.grad() == null) return;
            if (widen) {
                Tensor dIn = b.allocateTempUnfilled(DType.BF16, in.shape());
                b.attentionBackwardQkv(dIn, false, o.grad(), in, heads, keyMask, saved, o.value(), scale, p, key);
                accumulateWidened(tape.gradOf(qkv), dIn);
            } else {
                boolean first = qkv.grad() == null;  // the first contribution overwrites an unfilled buffer
                b.attentionBackwardQkv(tape.gradForWrite(qkv), !first, o.grad(), in, heads, keyMask, saved, o.value(),
                        scale, p, key);
            }
        });
        return new Attention(o, saved);
    }

    /**
     * Result of attention: the context ([B,H,T,D], or [B,T,H*D] from a fused projection) and what the
     * backend saved (the CPU: the probabilities).
     */
    public record Attention(Var context, Tensor saved) {
    }

    /** Scaled dot-product attention over q, k, v [B,H,T,D] with keyMask [B,T] (I32, 1 = attend). */
    public Attention attention(Var q, Var k, Var v, Tensor keyMask, float dropoutP, int purpose) {
        Tensor qv = q.value();
        int bt = qv.dim(0), h = qv.dim(1), t = qv.dim(2), d = qv.dim(3);
        float scale = (float) (1.0 / Math.sqrt(d));
        float p = training ? dropoutP : 0f;
        RngKey key = key(purpose);
        boolean g = tape.needsGrad(q, k, v);
        Var o = out(qv, g, qv.shape());
        // statistics stay in fp32 whatever the activations' precision (F64 only for gradient checks)
        DType savedType = qv.dtype() == DType.F64 ? DType.F64 : DType.F32;
        Tensor saved = b.allocateTempUnfilled(savedType, b.attentionSavedShape(bt, h, t, d));
        // F32 heads in mixed precision are rounded here; BF16 heads (split in mixed precision) skip this
        // and take the plain path below as they are, with a BF16 context out
        if (bf16(qv)) return attentionBf16(q, k, v, keyMask, o, saved, scale, p, key, g);
        b.attentionForward(o.value(), saved, qv, k.value(), v.value(), keyMask, scale, p, key);
        if (g) tape.record(() -> {
            if (o.grad() == null) return;
            b.attentionBackward(tape.gradOf(q), tape.gradOf(k), tape.gradOf(v), o.grad(), qv, k.value(), v.value(),
                    keyMask, saved, o.value(), scale, p, key);
        });
        return new Attention(o, saved);
    }

    /** Attention on bf16 q, k, v (the flash kernels' mixed precision); the context comes back F32. */
    private Attention attentionBf16(Var q, Var k, Var v, Tensor keyMask, Var o, Tensor saved, float scale, float p,
                                    RngKey key, boolean g) {
        Tensor qb = toBf16(q.value()), kb = toBf16(k.value()), vb = toBf16(v.value());
        Tensor ob = b.allocateTempUnfilled(DType.BF16, qb.shape());
        b.attentionForward(ob, saved, qb, kb, vb, keyMask, scale, p, key);
        b.copy(o.value(), ob);
        if (g) tape.record(() -> {
            if (o.grad() == null) return;
            Tensor dq = b.allocateTemp(DType.BF16, qb.shape()), dk = b.allocateTemp(DType.BF16, qb.shape());
            Tensor dv = b.allocateTemp(DType.BF16, qb.shape());
            b.attentionBackward(dq, dk, dv, toBf16(o.grad()), qb, kb, vb, keyMask, saved, ob, scale, p, key);
            if (q.requiresGrad()) accumulateWidened(tape.gradOf(q), dq);
            if (k.requiresGrad()) accumulateWidened(tape.gradOf(k), dk);
            if (v.requiresGrad()) accumulateWidened(tape.gradOf(v), dv);
        });
        return new Attention(o, saved);
    }

    // ------------------------------------------------------------------ embeddings and row selection

    /** table[ids] for ids [N] (any shape; the output has shape ids.shape + [C]). */
    public Var embedding(Var table, Tensor ids) {
        Tensor tv = table.value();
        int c = tv.dim(1);
        int[] idShape = ids.shape();
        int[] shape = java.util.Arrays.copyOf(idShape, idShape.length + 1);
        shape[idShape.length] = c;
        boolean g = tape.needsGrad(table);
        Var o = out(tv, g, shape);
        Tensor flatIds = ids.view((int) ids.size());
        b.embeddingForward(o.value().view((int) ids.size(), c), tv, flatIds);
        if (g) tape.record(() -> {
            if (o.grad() != null) b.embeddingBackward(tape.gradOf(table), o.grad().view((int) ids.size(), c), flatIds);
        });
        return o;
    }

    /**
     * embedding(t0, ids0) + embedding(t1, ids1) + embedding(t2, ids2) (word, position and token-type
     * embeddings, ids of one shape) as one op: the same values and gradients, without the three looked-up
     * rows and the first sum stored, and in the backward each table's gradient read straight from the sum's.
     */
    public Var embeddingSum(Var t0, Tensor ids0, Var t1, Tensor ids1, Var t2, Tensor ids2) {
        Tensor tv = t0.value();
        int c = tv.dim(1), n = (int) ids0.size();
        if (!ids1.sameShape(ids0) || !ids2.sameShape(ids0)) {
            throw new IllegalArgumentException("embeddingSum: ids " + ids0.describe() + ", " + ids1.describe() + ", "
                    + ids2.describe() + " must have one shape");
        }
        int[] idShape = ids0.shape();
        int[] shape = java.util.Arrays.copyOf(idShape, idShape.length + 1);
        shape[idShape.length] = c;
        boolean g = tape.needsGrad(t0, t1, t2);
        Var o = out(tv, g, shape);
        Tensor f0 = ids0.view(n), f1 = ids1.view(n), f2 = ids2.view(n);
        b.embeddingSumForward(o.value().view(n, c), tv, f0, t1.value(), f1, t2.value(), f2);
        if (g) tape.record(() -> {
            if (o.grad() == null) return;
            Tensor d = o.grad().view(n, c);  // last table first, as the tape runs the three lookups' backwards
            if (t2.requiresGrad()) b.embeddingBackward(tape.gradOf(t2), d, f2);
            if (t1.requiresGrad()) b.embeddingBackward(tape.gradOf(t1), d, f1);
            if (t0.requiresGrad()) b.embeddingBackward(tape.gradOf(t0), d, f0);
        });
        return o;
    }

    /** Rows x[index[k]] of x viewed as [N,C]: the masked positions, the [CLS] rows. */
    public Var gatherRows(Var x, Tensor index) {
        Tensor xv = x.value();
        int c = xv.cols(), n = xv.rowsFlat(), kRows = (int) index.size();
        boolean g = tape.needsGrad(x);
        Var o = out(xv, g, kRows, c);
        b.gatherRows(o.value(), xv.view(n, c), index);
        if (g) tape.record(() -> {
            if (o.grad() != null) b.scatterAddRows(tape.gradOf(x).view(n, c), o.grad(), index);
        });
        return o;
    }

    // ------------------------------------------------------------------ losses

    private Var scalarOut(Tensor like, boolean g) {
        return out(like, g);
    }

    /** Mean cross-entropy of logits [K,V] against targets [K] (negative targets ignored). */
    public Var crossEntropy(Var logits, Tensor targets) {
        Tensor lv = logits.value();
        boolean g = tape.needsGrad(logits);
        Var loss = scalarOut(lv, g);
        Tensor lse = b.allocateTempUnfilled(lv.dtype(), lv.dim(0));
        b.crossEntropyForward(loss.value(), lse, lv, targets);
        if (g) tape.record(() -> {
            if (loss.grad() != null) b.crossEntropyBackward(tape.gradOf(logits), loss.grad(), lv, lse, targets);
        });
        return loss;
    }

    /** The logits of a projection (values only: sampling reads them) and the loss that carries their gradient. */
    public record LogitsAndLoss(Var logits, Var loss) {
    }

    /**
     * crossEntropy(linear(x, w, bias), targets) as one op, the masked-LM head and its loss: the same loss
     * and gradients. The logits come back as a value without a gradient of their own; in the backward
     * the loss's pass writes their gradient in the dtype the projection's GEMMs read (bf16 in mixed
     * precision) and sums the bias gradient ({@link Backend#crossEntropyBackwardToLinear}), so the [K, V]
     * gradient is never zero-filled, added into or read back in f32.
     */
    public LogitsAndLoss linearCrossEntropy(Var x, Var w, Var bias, Tensor targets) {
        Projection f = linearProjection(x, w, bias);
        Tensor lv = f.out();
        Var loss = scalarOut(lv, f.needsGrad());
        Tensor lse = b.allocateTempUnfilled(lv.dtype(), lv.dim(0));
        b.crossEntropyForward(loss.value(), lse, lv, targets);
        if (f.needsGrad()) tape.record(() -> {
            if (loss.grad() == null) return;
            Tensor dLogits = b.allocateTempUnfilled(f.mixed() ? DType.BF16 : lv.dtype(), lv.shape());
            b.crossEntropyBackwardToLinear(dLogits, bias.requiresGrad() ? tape.gradOf(bias) : null, loss.grad(), lv, lse,
                    targets);
            f.backward().accept(dLogits);
        });
        return new LogitsAndLoss(new Var(lv.view(f.shape()), false), loss);
    }

    /** Mean binary cross-entropy with logits over positions where mask != 0. */
    public Var bceWithLogits(Var logits, Tensor labels, Tensor mask) {
        Tensor lv = logits.value();
        boolean g = tape.needsGrad(logits);
        Var loss = scalarOut(lv, g);
        b.bceWithLogitsForward(loss.value(), lv, labels, mask);
        if (g) tape.record(() -> {
            if (loss.grad() != null) b.bceWithLogitsBackward(tape.gradOf(logits), loss.grad(), lv, labels, mask);
        });
        return loss;
    }

    /** Mean squared error of pred [N] against target [N]. */
    public Var mse(Var pred, Tensor target) {
        Tensor pv = pred.value();
        boolean g = tape.needsGrad(pred);
        Var loss = scalarOut(pv, g);
        b.mseForward(loss.value(), pv, target);
        if (g) tape.record(() -> {
            if (loss.grad() != null) b.mseBackward(tape.gradOf(pred), loss.grad(), pv, target);
        });
        return loss;
    }

    /** alpha * sum of all elements (alpha = 1/n: the mean). */
    public Var sum(Var x, float alpha) {
        boolean g = tape.needsGrad(x);
        Var o = scalarOut(x.value(), g);
        b.sum(o.value(), x.value(), alpha);
        if (g) tape.record(() -> {
            if (o.grad() != null) b.sumBackward(tape.gradOf(x), o.grad(), alpha);
        });
        return o;
    }
}
