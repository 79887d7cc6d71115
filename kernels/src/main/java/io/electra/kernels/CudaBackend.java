package io.electra.kernels;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.MemoryStats;
import io.electra.engine.ParameterTable;
import io.electra.engine.RngKey;
import io.electra.engine.StepCapture;
import io.electra.engine.Tensor;
import io.electra.kernels.ops.AdamWKernels;
import io.electra.kernels.ops.AttentionKernels;
import io.electra.kernels.ops.BceKernels;
import io.electra.kernels.ops.CopyKernels;
import io.electra.kernels.ops.CrossEntropyKernels;
import io.electra.kernels.ops.DropoutKernels;
import io.electra.kernels.ops.ElementwiseKernels;
import io.electra.kernels.ops.EmbeddingKernels;
import io.electra.kernels.ops.FlashAttentionKernels;
import io.electra.kernels.ops.GemmKernels;
import io.electra.kernels.ops.GemmTcKernels;
import io.electra.kernels.ops.HeadsKernels;
import io.electra.kernels.ops.LayerNormKernels;
import io.electra.kernels.ops.MseKernels;
import io.electra.kernels.ops.Operands;
import io.electra.kernels.ops.ReduceKernels;
import io.electra.kernels.ops.SamplingKernels;
import io.electra.kernels.ops.SoftmaxKernels;
import io.electra.kernels.ops.SortKernels;
import io.electra.kernels.runtime.CudaGraph;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.CudaUnavailableException;
import io.electra.kernels.runtime.DeviceBlock;
import io.electra.kernels.runtime.GpuTimer;

import java.util.List;

/**
 * The engine's Backend on an NVIDIA GPU: our kernels from the committed PTX, launched on one
 * stream through JCuda's driver API. Semantics are the CPU backend's, method for method
 * (forward overwrites, backward accumulates); F32 everywhere, BF16 also in matmul (tensor cores) and
 * attention (flash kernels), no F64.
 * Work is queued asynchronously; downloads and {@link #synchronize()} wait for it and report
 * out-of-range device data (ids, indices, targets) that kernels met and skipped.
 *
 * <p>This class only routes: each family's launcher checks shapes and names its kernel in errors.
 */
public final class CudaBackend implements Backend {
    private final CudaRuntime runtime;
    private final Operands operands;
    private final CopyKernels copy;
    private final ReduceKernels reduce;
    private final ElementwiseKernels elementwise;
    private final LayerNormKernels layerNorm;
    private final SoftmaxKernels softmax;
    private final HeadsKernels heads;
    private final GemmKernels gemm;
    private final GemmTcKernels gemmTc;
    private final DropoutKernels dropout;
    private final AttentionKernels attention;
    private final FlashAttentionKernels flash;
    private final EmbeddingKernels embedding;
    private final CrossEntropyKernels crossEntropy;
    private final BceKernels bce;
    private final MseKernels mse;
    private final SamplingKernels sampling;
    private final AdamWKernels adamw;
    private final Memory memory;

    private CudaBackend(CudaRuntime runtime) {
        this.runtime = runtime;
        operands = new Operands(runtime.allocator());
        copy = new CopyKernels(runtime);
        reduce = new ReduceKernels(runtime, operands);
        elementwise = new ElementwiseKernels(runtime, operands, reduce);
        layerNorm = new LayerNormKernels(runtime, operands, reduce);
        softmax = new SoftmaxKernels(runtime, operands);
        heads = new HeadsKernels(runtime, operands);
        gemm = new GemmKernels(runtime, operands);
        gemmTc = new GemmTcKernels(runtime, operands, reduce);
        dropout = new DropoutKernels(runtime, operands);
        attention = new AttentionKernels(runtime, operands, gemm, softmax, dropout);
        flash = new FlashAttentionKernels(runtime, operands);
        embedding = new EmbeddingKernels(runtime, operands, new SortKernels(runtime));
        crossEntropy = new CrossEntropyKernels(runtime, operands, reduce);
        bce = new BceKernels(runtime, operands, reduce);
        mse = new MseKernels(runtime, operands, reduce);
        sampling = new SamplingKernels(runtime, operands);
        adamw = new AdamWKernels(runtime, operands, reduce);
        memory = new Memory(this, runtime, operands, copy);
    }

    /**
     * Opens CUDA device 0, or says why not: no driver library, a driver too old for the committed
     * PTX, no device, a device older than Ampere, or a module that fails to load (with its JIT
     * log). Never throws and never takes the JVM down; the caller falls back to the CPU backend.
     */
    public static CudaProbe tryCreate() {
        CudaRuntime runtime = null;
        try {
            runtime = CudaRuntime.open(0);
            return CudaProbe.available(new CudaBackend(runtime));
        } catch (CudaUnavailableException e) {
            return CudaProbe.unavailable(e.getMessage());
        } catch (Throwable e) {
            if (runtime != null) {
                try {
                    runtime.close();
                } catch (Throwable suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            return CudaProbe.unavailable("the CUDA backend failed to start: " + e);
        }
    }

    @Override
    public String name() {
        return "cuda:0 (" + runtime.deviceName() + ")";
    }

    /** "CUDA 13.0" as the driver reports it. */
    public int driverVersion() {
        return runtime.driverVersion();
    }

    public String deviceName() {
        return runtime.deviceName();
    }

    /** A CUDA-event timer on the compute stream, for benchmarks. */
    public GpuTimer timer() {
        runtime.bind();
        return runtime.timer();
    }

    /**
     * Records {@code step} (a whole training step of backend calls) as a CUDA graph, or says why it
     * cannot: the caller then runs the step eagerly and prints the reason. Run the step eagerly at
     * least once first, so every buffer has its final size; the step must not synchronize, upload
     * or download (CudaGraph lists the rules). Nothing executes during the capture: replay the
     * graph to run the step, with {@link #setRngStepOffset} set for the replayed step's streams.
     */
    @Override
    public StepCapture captureStep(Runnable step) {
        try {
            return StepCapture.captured(runtime.capture(step));
        } catch (CudaGraph.GraphCaptureException e) {
            return StepCapture.failed(e.getMessage());
        }
    }

    // ---------------------------------------------------------------- memory

    @Override
    public Tensor allocate(DType dtype, int... shape) {
        runtime.bind();
        return memory.allocate(dtype, shape, true);
    }

    @Override
    public Tensor allocateTemp(DType dtype, int... shape) {
        runtime.bind();
        return memory.allocate(dtype, shape, false);
    }

    @Override
    public Tensor allocateTempUnfilled(DType dtype, int... shape) {
        runtime.bind();
        return memory.allocate(dtype, shape, false, false);
    }

    @Override
    public void resetArena() {
        runtime.allocator().resetArena();
    }

    @Override
    public void free(Tensor t) {
        if (!(t.storage() instanceof DeviceBlock b)) throw new IllegalArgumentException("free(" + t.describe() + "): not a CUDA tensor");
        runtime.allocator().free(b, t.describe());
    }

    @Override
    public void upload(Tensor dst, float[] src) {
        runtime.bind();
        memory.upload(dst, src);
    }

    @Override
    public void upload(Tensor dst, double[] src) {
        runtime.bind();
        float[] f = new float[src.length];
        for (int i = 0; i < src.length; i++) f[i] = (float) src[i];
        memory.upload(dst, f);
    }

    @Override
    public void upload(Tensor dst, int[] src) {
        runtime.bind();
        memory.upload(dst, src);
    }

    @Override
    public void upload(Tensor dst, short[] src) {
        runtime.bind();
        memory.upload(dst, src);
    }

    @Override
    public float[] downloadFloat(Tensor src) {
        runtime.bind();
        return memory.downloadFloat(src);
    }

    @Override
    public double[] downloadDouble(Tensor src) {
        float[] f = downloadFloat(src);
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    @Override
    public int[] downloadInt(Tensor src) {
        runtime.bind();
        return memory.downloadInt(src);
    }

    @Override
    public void fill(Tensor t, double value) {
        runtime.bind();
        memory.fill(t, value);
    }

    @Override
    public void copy(Tensor dst, Tensor src) {
        runtime.bind();
        memory.copy(dst, src);
    }

    @Override
    public MemoryStats memoryStats() {
        return runtime.allocator().stats();
    }

    @Override
    public void synchronize() {
        runtime.bind();
        runtime.synchronize();
    }

    @Override
    public void close() {
        runtime.close();
    }

    /** A stream-ordered write of the device word every Philox kernel adds to its step. */
    @Override
    public void setRngStepOffset(long offset) {
        // inside a capture the memsets would become graph nodes and rewrite the captured value on
        // every replay, silently repeating one step's noise: refuse, as the CPU emulation does
        if (runtime.launcher().isCapturing()) {
            throw new IllegalStateException("setRngStepOffset inside a captured step: a replay would write the same offset "
                    + "every time; set it between replays");
        }
        runtime.bind();
        runtime.rngStepOffset().set(offset);
    }

    // ---------------------------------------------------------------- linear algebra

    /**
     * F32 operands run the fp32 SIMT GEMM (the accuracy reference); BF16 operands run the
     * tensor-core GEMM with fp32 accumulation into an F32 or BF16 out (layouts nn, nt, tn), or,
     * where no tensor-core kernel serves the shapes, the SIMT GEMM on exact f32 copies.
     */
    @Override
    public void matmul(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, boolean accumulate) {
        runtime.bind();
        if (a.dtype() != DType.BF16 && b.dtype() != DType.BF16) gemm.matmul(out, a, transA, b, transB, alpha, accumulate);
        else if (gemmTc.serves(out, a, transA, b, transB)) gemmTc.matmul(out, a, transA, b, transB, alpha, accumulate);
        else matmulWidened(out, a, transA, b, transB, alpha, accumulate);
    }

    /**
     * The same product for BF16 operands no tensor-core kernel serves (an odd contiguous dimension):
     * exact f32 copies through the SIMT GEMM, a BF16 out accumulated in f32 and rounded once.
     */
    private void matmulWidened(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, boolean accumulate) {
        Tensor outF = out.dtype() == DType.F32 ? out : allocateTemp(DType.F32, out.shape());
        if (outF != out && accumulate) copy(outF, out);
        gemm.matmul(outF, widened(a), transA, widened(b), transB, alpha, accumulate);
        if (outF != out) copy(out, outF);
    }

    /**
     * out = op(a) @ op(b) + bias[N]: in one tensor-core pass (the bias in the epilogue) for BF16
     * operands the tensor-core GEMM serves (bias F32; out F32 or BF16), else the product then the bias.
     */
    @Override
    public void matmulBias(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias) {
        runtime.bind();
        if (fusable(out, a, transA, b, transB)) gemmTc.matmulBias(out, a, transA, b, transB, bias);
        else Backend.super.matmulBias(out, a, transA, b, transB, bias);
    }

    /**
     * preActivation = op(a) @ op(b) + bias, out = gelu(preActivation): one tensor-core pass where
     * {@link #matmulBias} fuses, else the product, the bias and the GELU.
     */
    @Override
    public void matmulBiasGelu(Tensor out, Tensor preActivation, Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias) {
        runtime.bind();
        if (fusable(out, a, transA, b, transB)) gemmTc.matmulBiasGelu(out, preActivation, a, transA, b, transB, bias);
        else Backend.super.matmulBiasGelu(out, preActivation, a, transA, b, transB, bias);
    }

    /**
     * The feed-forward's gradient into its pre-activation in the tensor-core GEMM's epilogue (with the
     * bias gradient's column sums) where {@link #matmulBias} fuses, else the product, then the elementwise pass.
     */
    @Override
    public void matmulGeluBackward(Tensor out, Tensor dBias, Tensor a, boolean transA, Tensor b, boolean transB,
                                   Tensor preActivation) {
        runtime.bind();
        if (fusable(out, a, transA, b, transB)) gemmTc.matmulGeluGrad(out, dBias, a, transA, b, transB, preActivation);
        else Backend.super.matmulGeluBackward(out, dBias, a, transA, b, transB, preActivation);
    }

    /** Whether the tensor-core GEMM runs this product, so its epilogue can take the bias (and GELU). */
    private boolean fusable(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB) {
        return a.dtype() == DType.BF16 && b.dtype() == DType.BF16 && gemmTc.serves(out, a, transA, b, transB);
    }

    /** out = op(a) @ op(b) + residual in one tensor-core pass (out may be residual). */
    public void matmulResidual(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, Tensor residual) {
        runtime.bind();
        gemmTc.matmulResidual(out, a, transA, b, transB, residual);
    }

    /** The tensor-core GEMM's launcher, for benchmarks that force a tile. */
    public GemmTcKernels tensorCoreGemm() {
        return gemmTc;
    }

    @Override
    public void biasAdd(Tensor out, Tensor in, Tensor bias) {
        runtime.bind();
        elementwise.biasAdd(out, in, bias);
    }

    /** out[N,C] = gelu(in[N,C] + bias[C]) in one pass (biasAdd then geluForward, fused). */
    public void biasGeluForward(Tensor out, Tensor in, Tensor bias) {
        runtime.bind();
        elementwise.biasGelu(out, in, bias);
    }

    @Override
    public void biasBackward(Tensor dBias, Tensor dOut) {
        runtime.bind();
        elementwise.biasBackward(dBias, dOut);
    }

    @Override
    public void linearOutputGrad(Tensor gradOut, Tensor dBias, Tensor dOut, Tensor preActivation) {
        runtime.bind();
        elementwise.linearOutputGrad(gradOut, dBias, dOut, preActivation);
    }

    @Override
    public void add(Tensor out, Tensor a, float alpha, Tensor b, float beta) {
        runtime.bind();
        elementwise.add(out, a, alpha, b, beta);
    }

    @Override
    public void accumulate(Tensor dst, Tensor src, float alpha) {
        runtime.bind();
        elementwise.accumulate(dst, src, alpha);
    }

    @Override
    public void scale(Tensor out, Tensor in, float s) {
        runtime.bind();
        elementwise.scale(out, in, s);
    }

    // ---------------------------------------------------------------- activations and normalisation

    @Override
    public void geluForward(Tensor out, Tensor in) {
        runtime.bind();
        elementwise.gelu(out, in);
    }

    @Override
    public void geluBackward(Tensor dIn, Tensor dOut, Tensor in) {
        runtime.bind();
        elementwise.geluBackward(dIn, dOut, in);
    }

    @Override
    public void layerNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor in, Tensor weight, Tensor bias, float eps) {
        runtime.bind();
        layerNorm.forward(out, mean, rstd, in, weight, bias, eps);
    }

    @Override
    public void dropoutAddLayerNormForward(Tensor out, Tensor outBf16, Tensor sum, Tensor mean, Tensor rstd, Tensor x, Tensor residual,
                                           Tensor weight, Tensor bias, float eps, float p, RngKey key) {
        runtime.bind();
        layerNorm.forwardDropoutResidual(out, outBf16, sum, mean, rstd, x, residual, weight, bias, eps, p, key);
    }

    @Override
    public void dropoutAddLayerNormBackward(Tensor dX, boolean accumulateX, Tensor dResidual, boolean accumulateResidual,
                                            Tensor dWeight, Tensor dBias, Tensor dOut, Tensor sum, Tensor mean, Tensor rstd,
                                            Tensor weight, float p, RngKey key) {
        runtime.bind();
        layerNorm.backwardDropoutResidual(dX, accumulateX, dResidual, accumulateResidual, dWeight, dBias, dOut, sum, mean,
                rstd, weight, p, key);
    }

    /** The fused kernel writes x's gradient in the GEMMs' dtype and the linear's bias partials where rows fit its registers. */
    @Override
    public void dropoutAddLayerNormBackwardToLinear(Tensor dX, Tensor dXBias, Tensor dResidual, boolean accumulateResidual,
                                                    Tensor dWeight, Tensor dBias, Tensor dOut, Tensor sum, Tensor mean,
                                                    Tensor rstd, Tensor weight, float p, RngKey key) {
        runtime.bind();
        if (sum.cols() <= LayerNormKernels.LINEAR_MAX_C) {
            layerNorm.backwardDropoutResidualLinear(dX, dXBias, dResidual, accumulateResidual, dWeight, dBias, dOut, sum, mean,
                    rstd, weight, p, key);
        } else {
            Backend.super.dropoutAddLayerNormBackwardToLinear(dX, dXBias, dResidual, accumulateResidual, dWeight, dBias, dOut,
                    sum, mean, rstd, weight, p, key);
        }
    }

    @Override
    public void layerNormBackward(Tensor dIn, Tensor dWeight, Tensor dBias, Tensor dOut, Tensor in, Tensor mean, Tensor rstd,
                                  Tensor weight) {
        runtime.bind();
        layerNorm.backward(dIn, dWeight, dBias, dOut, in, mean, rstd, weight);
    }

    @Override
    public void softmaxForward(Tensor out, Tensor in) {
        runtime.bind();
        softmax.forward(out, in);
    }

    @Override
    public void softmaxBackward(Tensor dIn, Tensor dOut, Tensor out) {
        runtime.bind();
        softmax.backward(dIn, dOut, out);
    }

    // ---------------------------------------------------------------- attention

    @Override
    public void splitHeads(Tensor out, Tensor in, int heads, boolean accumulate) {
        runtime.bind();
        this.heads.split(out, in, heads, accumulate);
    }

    @Override
    public void mergeHeads(Tensor out, Tensor in, boolean accumulate) {
        runtime.bind();
        heads.merge(out, in, accumulate);
    }

    @Override
    public void splitHeadsQkv(Tensor q, Tensor k, Tensor v, Tensor in, int heads) {
        runtime.bind();
        this.heads.splitQkv(q, k, v, in, heads);
    }

    @Override
    public void mergeHeadsQkv(Tensor dIn, Tensor dq, Tensor dk, Tensor dv, boolean accumulate) {
        runtime.bind();
        heads.mergeQkv(dIn, dq, dk, dv, accumulate);
    }

    /**
     * Head dims 16, 32 and 64 run flash attention (F32 or BF16) and save the log-sum-exp [B, H, T];
     * other head dims run the composed F32 path (BF16 operands widened to it), which saves the
     * probabilities [B, H, T, T].
     */
    @Override
    public int[] attentionSavedShape(int batch, int heads, int seq, int headDim) {
        return FlashAttentionKernels.supports(headDim) ? FlashAttentionKernels.savedShape(batch, heads, seq)
                : AttentionKernels.savedShape(batch, heads, seq);
    }

    @Override
    public void attentionForward(Tensor out, Tensor saved, Tensor q, Tensor k, Tensor v, Tensor keyMask, float scale,
                                 float dropoutP, RngKey dropoutKey) {
        runtime.bind();
        if (usesFlash(q)) flash.forward(out, saved, q, k, v, keyMask, scale, dropoutP, dropoutKey);
        else if (q.dtype() == DType.BF16) composedForwardBf16(out, saved, q, k, v, keyMask, scale, dropoutP, dropoutKey);
        else attention.forward(out, saved, q, k, v, keyMask, scale, dropoutP, dropoutKey);
    }

    /**
     * BF16 attention at a head dim without a flash kernel (the fixtures' 4 and 8): the operands widen
     * to F32 arena tensors, the composed F32 path runs, out is rounded once. Unlike the CPU reference
     * and the flash kernels it does not round P (or dS) to bf16 on the way: closer to exact, and
     * within that one rounding of P of the CPU's definition.
     */
    private void composedForwardBf16(Tensor out, Tensor saved, Tensor q, Tensor k, Tensor v, Tensor keyMask, float scale,
                                     float dropoutP, RngKey dropoutKey) {
        Tensor outF = allocateTemp(DType.F32, out.shape());
        attention.forward(outF, saved, widened(q), widened(k), widened(v), keyMask, scale, dropoutP, dropoutKey);
        copy(out, outF);
    }

    private void composedBackwardBf16(Tensor dq, Tensor dk, Tensor dv, Tensor dOut, Tensor q, Tensor k, Tensor v,
                                      Tensor keyMask, Tensor saved, float scale, float dropoutP, RngKey dropoutKey) {
        Tensor dqF = widened(dq), dkF = widened(dk), dvF = widened(dv); // accumulate in f32, round once
        attention.backward(dqF, dkF, dvF, widened(dOut), widened(q), widened(k), widened(v), keyMask, saved, scale, dropoutP,
                dropoutKey);
        copy(dq, dqF);
        copy(dk, dkF);
        copy(dv, dvF);
    }

    /** An F32 arena copy of a BF16 tensor (exact). */
    private Tensor widened(Tensor t) {
        Tensor f = allocateTemp(DType.F32, t.shape());
        copy(f, t);
        return f;
    }

    @Override
    public void attentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dOut, Tensor q, Tensor k, Tensor v, Tensor keyMask,
                                  Tensor saved, Tensor out, float scale, float dropoutP, RngKey dropoutKey) {
        runtime.bind();
        if (usesFlash(q)) flash.backward(dq, dk, dv, dOut, q, k, v, keyMask, saved, out, scale, dropoutP, dropoutKey);
        else if (q.dtype() == DType.BF16) composedBackwardBf16(dq, dk, dv, dOut, q, k, v, keyMask, saved, scale, dropoutP, dropoutKey);
        else attention.backward(dq, dk, dv, dOut, q, k, v, keyMask, saved, scale, dropoutP, dropoutKey);
    }

    /** Flash head dims read the heads in place in qkv and write the context in place; others split and merge. */
    @Override
    public void attentionForwardQkv(Tensor out, Tensor saved, Tensor qkv, int heads, Tensor keyMask, float scale,
                                    float dropoutP, RngKey dropoutKey) {
        runtime.bind();
        if (FlashAttentionKernels.supports(Backend.qkvHeadsShape(qkv, heads)[3])) {
            flash.forwardQkv(out, saved, qkv, heads, keyMask, scale, dropoutP, dropoutKey);
        } else {
            Backend.super.attentionForwardQkv(out, saved, qkv, heads, keyMask, scale, dropoutP, dropoutKey);
        }
    }

    @Override
    public void attentionBackwardQkv(Tensor dQkv, boolean accumulate, Tensor dOut, Tensor qkv, int heads, Tensor keyMask,
                                     Tensor saved, Tensor out, float scale, float dropoutP, RngKey dropoutKey) {
        runtime.bind();
        if (FlashAttentionKernels.supports(Backend.qkvHeadsShape(qkv, heads)[3])) {
            flash.backwardQkv(dQkv, accumulate, dOut, qkv, heads, keyMask, saved, out, scale, dropoutP, dropoutKey);
        } else {
            Backend.super.attentionBackwardQkv(dQkv, accumulate, dOut, qkv, heads, keyMask, saved, out, scale, dropoutP,
                    dropoutKey);
        }
    }

    private static boolean usesFlash(Tensor q) {
        return q.rank() == 4 && FlashAttentionKernels.supports(q.dim(3));
    }

    // ---------------------------------------------------------------- embeddings and row selection

    @Override
    public void embeddingForward(Tensor out, Tensor table, Tensor ids) {
        runtime.bind();
        embedding.forward(out, table, ids);
    }

    @Override
    public void embeddingSumForward(Tensor out, Tensor t0, Tensor ids0, Tensor t1, Tensor ids1, Tensor t2, Tensor ids2) {
        runtime.bind();
        embedding.forwardSum(out, t0, ids0, t1, ids1, t2, ids2);
    }

    @Override
    public void embeddingBackward(Tensor dTable, Tensor dOut, Tensor ids) {
        runtime.bind();
        embedding.backward(dTable, dOut, ids);
    }

    @Override
    public void gatherRows(Tensor out, Tensor in, Tensor index) {
        runtime.bind();
        embedding.gather(out, in, index);
    }

    @Override
    public void scatterAddRows(Tensor dIn, Tensor dOut, Tensor index) {
        runtime.bind();
        embedding.scatterAdd(dIn, dOut, index);
    }

    // ---------------------------------------------------------------- dropout and sampling

    @Override
    public void dropoutForward(Tensor out, Tensor in, float p, RngKey key) {
        runtime.bind();
        dropout.forward(out, in, p, key);
    }

    @Override
    public void dropoutBackward(Tensor dIn, Tensor dOut, float p, RngKey key) {
        runtime.bind();
        dropout.backward(dIn, dOut, p, key);
    }

    /** The raw 32-bit values start .. start + out.size() of the key's Philox stream into an I32 tensor. */
    public void philoxBits(Tensor out, long start, RngKey key) {
        runtime.bind();
        dropout.bits(out, start, key);
    }

    @Override
    public void gumbelSample(Tensor out, Tensor logits, RngKey key) {
        runtime.bind();
        sampling.gumbel(out, logits, key);
    }

    @Override
    public void replaceTokens(Tensor discIds, Tensor labels, Tensor inputIds, Tensor positions, Tensor sampled) {
        runtime.bind();
        sampling.replaceTokens(discIds, labels, inputIds, positions, sampled);
    }

    // ---------------------------------------------------------------- losses and reductions

    @Override
    public void crossEntropyForward(Tensor loss, Tensor lse, Tensor logits, Tensor targets) {
        runtime.bind();
        crossEntropy.forward(loss, lse, logits, targets);
    }

    @Override
    public void crossEntropyBackward(Tensor dLogits, Tensor dLoss, Tensor logits, Tensor lse, Tensor targets) {
        runtime.bind();
        crossEntropy.backward(dLogits, dLoss, logits, lse, targets);
    }

    /** One pass: the logits' gradient in the head's GEMM dtype and the head's bias partials, no zero-fill. */
    @Override
    public void crossEntropyBackwardToLinear(Tensor dLogits, Tensor dBias, Tensor dLoss, Tensor logits, Tensor lse,
                                             Tensor targets) {
        runtime.bind();
        crossEntropy.backwardLinear(dLogits, dBias, dLoss, logits, lse, targets);
    }

    @Override
    public void bceWithLogitsForward(Tensor loss, Tensor logits, Tensor labels, Tensor mask) {
        runtime.bind();
        bce.forward(loss, logits, labels, mask);
    }

    @Override
    public void bceWithLogitsBackward(Tensor dLogits, Tensor dLoss, Tensor logits, Tensor labels, Tensor mask) {
        runtime.bind();
        bce.backward(dLogits, dLoss, logits, labels, mask);
    }

    @Override
    public void mseForward(Tensor loss, Tensor pred, Tensor target) {
        runtime.bind();
        mse.forward(loss, pred, target);
    }

    @Override
    public void mseBackward(Tensor dPred, Tensor dLoss, Tensor pred, Tensor target) {
        runtime.bind();
        mse.backward(dPred, dLoss, pred, target);
    }

    @Override
    public void sum(Tensor out, Tensor in, float alpha) {
        runtime.bind();
        reduce.sum(out, in, alpha);
    }

    @Override
    public void sumBackward(Tensor dIn, Tensor dOut, float alpha) {
        runtime.bind();
        reduce.sumBackward(dIn, dOut, alpha);
    }

    // ---------------------------------------------------------------- optimizer

    @Override
    public void sumSquaresAccumulate(Tensor out, Tensor in) {
        runtime.bind();
        reduce.sumSquaresAccumulate(out, in);
    }

    @Override
    public void clipFactor(Tensor scale, Tensor sumSquares, float maxNorm) {
        runtime.bind();
        reduce.clipFactor(scale, sumSquares, maxNorm);
    }

    @Override
    public void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor hyper, float beta1, float beta2,
                          float eps, float weightDecay) {
        runtime.bind();
        adamw.step(param, grad, m, v, gradScale, hyper, beta1, beta2, eps, weightDecay);
    }

    /** adamwStep, also writing the updated parameter rounded to bf16 into {@code paramBf16} (mixed precision). */
    @Override
    public void adamwStep(Tensor param, Tensor paramBf16, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor hyper,
                          float beta1, float beta2, float eps, float weightDecay) {
        runtime.bind();
        adamw.step(param, paramBf16, grad, m, v, gradScale, hyper, beta1, beta2, eps, weightDecay);
    }

    /** The parameter set uploaded once as adamw.cu's table: each optimizer step is then about four launches. */
    @Override
    public ParameterTable parameterTable(List<Tensor> params, List<Tensor> grads, List<Tensor> m, List<Tensor> v,
                                         List<Tensor> bf16Copies, float[] weightDecay, int[] hyperRow) {
        runtime.bind();
        return adamw.table(params, grads, m, v, bf16Copies, weightDecay, hyperRow);
    }

    /** Per-chunk partials over every gradient in one launch, then one fixed-order finalize: same bits every run. */
    @Override
    public void gradSumSquares(Tensor out, ParameterTable table) {
        runtime.bind();
        adamw.gradSumSquares(out, table);
    }

    /** Every parameter's update, bf16 copy and zeroed gradient in one launch. */
    @Override
    public void adamwStepAll(ParameterTable table, Tensor gradScale, Tensor hyper, float beta1, float beta2, float eps) {
        runtime.bind();
        adamw.stepAll(table, gradScale, hyper, beta1, beta2, eps);
    }

    @Override
    public String toString() {
        return name() + ", driver CUDA " + driverVersion() / 1000 + "." + (driverVersion() % 1000) / 10 + ", "
                + runtime.allocator().describe();
    }
}
