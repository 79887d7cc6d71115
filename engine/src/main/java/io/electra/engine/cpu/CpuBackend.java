package io.electra.engine.cpu;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.MemoryStats;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The reference backend in plain Java: host arrays for storage (F32 {@code float[]}, F64
 * {@code double[]}, I32 {@code int[]}, BF16 {@code short[]} bit patterns), and one class per kernel
 * family whose loops define what each kernel means. This class only validates arguments and
 * delegates. Work runs on one owned pool of {@link #threads()} threads: by default the number of
 * available processors, or the system property {@code electra.cpu.threads}.
 */
public final class CpuBackend implements Backend {
    private final Parallel parallel;
    private final CpuArena arena;
    private final Map<Object, Long> persistent = new IdentityHashMap<>(); // storage -> bytes
    private long persistentBytes;
    private long peakBytes;
    private volatile long rngStepOffset;  // see Backend.setRngStepOffset

    private final ElementwiseCpu elementwise;
    private final MatmulCpu matmul;
    private final GeluCpu gelu;
    private final LinearGradCpu linearGrad;
    private final LayerNormCpu layerNorm;
    private final ResidualLayerNormCpu residualLayerNorm;
    private final SoftmaxCpu softmax;
    private final HeadsCpu heads;
    private final AttentionCpu attention;
    private final EmbeddingCpu embedding;
    private final DropoutCpu dropout;
    private final SamplingCpu sampling;
    private final LossCpu loss;
    private final OptimizerCpu optimizer;

    /** A backend on {@code electra.cpu.threads} threads, by default one per available processor. */
    public CpuBackend() {
        this(Integer.getInteger("electra.cpu.threads", Runtime.getRuntime().availableProcessors()));
    }

    /**
     * A backend whose kernels run on {@code threads} threads (1 = everything on the caller). With
     * the system property {@code electra.poisonUnfilled=true} (the test suite sets it), arena
     * storage handed out by {@link #allocateTempUnfilled} is filled with NaN (ints: MIN_VALUE), so a
     * forward kernel that leaves part of its output unwritten shows up in every test.
     */
    public CpuBackend(int threads) {
        parallel = new Parallel(threads);
        arena = new CpuArena(parallel, Boolean.getBoolean("electra.poisonUnfilled"));
        elementwise = new ElementwiseCpu(parallel);
        matmul = new MatmulCpu(parallel);
        gelu = new GeluCpu(elementwise);
        linearGrad = new LinearGradCpu(parallel);
        layerNorm = new LayerNormCpu(parallel);
        residualLayerNorm = new ResidualLayerNormCpu(parallel, layerNorm);
        softmax = new SoftmaxCpu(parallel);
        heads = new HeadsCpu(parallel);
        attention = new AttentionCpu(parallel);
        embedding = new EmbeddingCpu(parallel);
        dropout = new DropoutCpu(elementwise);
        sampling = new SamplingCpu(parallel);
        loss = new LossCpu(parallel);
        optimizer = new OptimizerCpu(elementwise);
    }

    /** The size of this backend's thread pool, counting the calling thread. */
    public int threads() {
        return parallel.threads();
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public String toString() {
        return "cpu (" + threads() + " threads)";
    }

    // ---------------------------------------------------------------- memory

    @Override
    public synchronized Tensor allocate(DType dtype, int... shape) {
        int n = elementCount("allocate", dtype, shape);
        Object storage = CpuStorage.newArray(dtype, n);
        persistent.put(storage, (long) n * dtype.bytes);
        persistentBytes += (long) n * dtype.bytes;
        peakBytes = Math.max(peakBytes, persistentBytes + arena.capacityBytes());
        return new Tensor(this, dtype, shape, storage, 0, null);
    }

    @Override
    public synchronized Tensor allocateTemp(DType dtype, int... shape) {
        Object storage = arena.take(dtype, elementCount("allocateTemp", dtype, shape), true);
        peakBytes = Math.max(peakBytes, persistentBytes + arena.capacityBytes());
        return new Tensor(this, dtype, shape, storage, 0, null);
    }

    @Override
    public synchronized Tensor allocateTempUnfilled(DType dtype, int... shape) {
        Object storage = arena.take(dtype, elementCount("allocateTempUnfilled", dtype, shape), false);
        peakBytes = Math.max(peakBytes, persistentBytes + arena.capacityBytes());
        return new Tensor(this, dtype, shape, storage, 0, null);
    }

    private static int elementCount(String op, DType dtype, int[] shape) {
        if (dtype == null || shape == null) throw new IllegalArgumentException(op + ": null dtype or shape");
        long n = Tensor.sizeOf(shape);
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(op + ": " + dtype + Arrays.toString(shape)
                    + " has " + n + " elements, more than one Java array holds");
        }
        return (int) n;
    }

    @Override
    public synchronized void resetArena() {
        arena.reset();
    }

    @Override
    public synchronized void free(Tensor t) {
        new Check(this, "free").owned(t);
        Long bytes = persistent.remove(t.storage());
        if (bytes == null) {
            throw new IllegalArgumentException("free: " + t.describe() + " is not a live persistent tensor of this backend");
        }
        persistentBytes -= bytes;
    }

    @Override
    public void upload(Tensor dst, float[] src) {
        uploadFloats(dst, src, src == null ? -1 : src.length);
    }

    @Override
    public void upload(Tensor dst, double[] src) {
        uploadFloats(dst, src, src == null ? -1 : src.length);
    }

    private void uploadFloats(Tensor dst, Object src, int length) {
        Check c = new Check(this, "upload").owned(dst).that(src != null, "null source array");
        c.that(dst.dtype().isFloating(), "cannot upload floats into " + dst.describe());
        c.that(length == dst.size(), "source has " + length + " elements, " + dst.describe() + " holds " + dst.size());
        Tensor host = new Tensor(this, src instanceof float[] ? DType.F32 : DType.F64, new int[]{length}, src, 0, "host");
        CpuStorage.copy(dst, host);
    }

    @Override
    public void upload(Tensor dst, int[] src) {
        Check c = new Check(this, "upload").ints(dst).that(src != null, "null source array");
        c.that(src.length == dst.size(), "source has " + src.length + " elements, " + dst.describe() + " holds " + dst.size());
        System.arraycopy(src, 0, dst.storage(), Elements.index(dst, 0), src.length);
    }

    @Override
    public void upload(Tensor dst, short[] src) {
        Check c = new Check(this, "upload").owned(dst).that(src != null, "null source array");
        c.that(dst.dtype() == DType.BF16, "bf16 bits need a BF16 tensor, got " + dst.describe());
        c.that(src.length == dst.size(), "source has " + src.length + " elements, " + dst.describe() + " holds " + dst.size());
        System.arraycopy(src, 0, dst.storage(), Elements.index(dst, 0), src.length);
    }

    @Override
    public float[] downloadFloat(Tensor src) {
        new Check(this, "downloadFloat").owned(src);
        return CpuStorage.downloadFloat(src);
    }

    @Override
    public double[] downloadDouble(Tensor src) {
        new Check(this, "downloadDouble").owned(src);
        return CpuStorage.downloadDouble(src);
    }

    @Override
    public int[] downloadInt(Tensor src) {
        new Check(this, "downloadInt").ints(src);
        return CpuStorage.downloadInt(src);
    }

    @Override
    public void fill(Tensor t, double value) {
        new Check(this, "fill").owned(t);
        CpuStorage.fill(t, value);
    }

    @Override
    public void copy(Tensor dst, Tensor src) {
        Check c = new Check(this, "copy").owned(dst, src).sameSize(dst, src);
        c.that(dst.dtype() == src.dtype() || (dst.dtype().isFloating() && src.dtype().isFloating()),
                "cannot convert " + src.describe() + " to " + dst.describe());
        CpuStorage.copy(dst, src);
    }

    @Override
    public synchronized MemoryStats memoryStats() {
        return new MemoryStats(persistentBytes, arena.bytesInUse(), arena.capacityBytes(), peakBytes,
                arena.allocationsSinceReset());
    }

    @Override
    public void synchronize() {
    }

    @Override
    public void close() {
        parallel.close();
    }

    // ---------------------------------------------------------------- step graphs

    @Override
    public void setRngStepOffset(long offset) {
        rngStepOffset = offset;
    }

    /** The stream a random kernel draws from: {@code key} moved by the step offset. */
    private RngKey offsetKey(RngKey key) {
        long offset = rngStepOffset;
        return key == null || offset == 0 ? key : new RngKey(key.seed(), key.step() + offset, key.purpose());
    }

    // ---------------------------------------------------------------- linear algebra

    @Override
    public void matmul(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, boolean accumulate) {
        Check c = new Check(this, "matmul").owned(out, a, b);
        if (a.dtype() == DType.BF16 || b.dtype() == DType.BF16) { // mixed precision: bf16 inputs, f32 accumulation
            c.bf16(a, b).that(out.dtype() == DType.F32 || out.dtype() == DType.BF16,
                    "out " + out.describe() + " must be F32 or BF16 when a and b are BF16");
        } else {
            c.floats(out, a, b);
        }
        c.disjoint(out, a).disjoint(out, b);
        int rank = out.rank();
        c.that((rank == 2 || rank == 3) && a.rank() == rank && b.rank() == rank,
                "expected all 2-D or all 3-D, got out " + out.describe() + ", a " + a.describe() + ", b " + b.describe());
        c.that(rank == 2 || (a.dim(0) == out.dim(0) && b.dim(0) == out.dim(0)),
                "batch counts differ: out " + out.describe() + ", a " + a.describe() + ", b " + b.describe());
        int m = transA ? a.dim(-1) : a.dim(-2), ka = transA ? a.dim(-2) : a.dim(-1);
        int kb = transB ? b.dim(-1) : b.dim(-2), n = transB ? b.dim(-2) : b.dim(-1);
        c.that(ka == kb && out.dim(-2) == m && out.dim(-1) == n, "shapes do not chain: op(a) " + m + "x" + ka
                + " @ op(b) " + kb + "x" + n + " -> out " + out.describe() + " (a " + a.describe() + (transA ? "^T" : "")
                + ", b " + b.describe() + (transB ? "^T" : "") + ")");
        matmul.matmul(out, a, transA, b, transB, alpha, accumulate);
    }

    @Override
    public void biasAdd(Tensor out, Tensor in, Tensor bias) {
        new Check(this, "biasAdd").floats(out, in, bias).sameShape(out, in).vector(bias, in.cols());
        elementwise.biasAdd(out, in, bias);
    }

    @Override
    public void biasBackward(Tensor dBias, Tensor dOut) {
        Check c = new Check(this, "biasBackward").vector(dBias, dOut.cols());
        if (dOut.dtype() == DType.BF16) c.owned(dBias, dOut).that(dBias.dtype() == DType.F32,
                "a BF16 " + dOut.describe() + " sums into an F32 dBias, not " + dBias.describe());
        else c.floats(dBias, dOut);
        elementwise.biasBackward(dBias, dOut);
    }

    @Override
    public void linearOutputGrad(Tensor gradOut, Tensor dBias, Tensor dOut, Tensor preActivation) {
        Check c = new Check(this, "linearOutputGrad");
        Tensor[] inputs = preActivation == null ? new Tensor[]{dOut} : new Tensor[]{dOut, preActivation};
        c.floats(inputs).owned(gradOut).rank(dOut, 2).sameShape(gradOut, dOut);
        if (preActivation != null) c.sameShape(dOut, preActivation);
        boolean f64 = dOut.dtype() == DType.F64;
        c.that(f64 ? gradOut.dtype() == DType.F64 : gradOut.dtype() == DType.F32 || gradOut.dtype() == DType.BF16,
                gradOut.describe() + " must be " + (f64 ? "F64" : "F32 or BF16") + " for " + dOut.describe());
        if (dBias != null) c.floats(dBias, dOut).vector(dBias, dOut.cols());
        c.disjoint(gradOut, dOut);
        if (preActivation != null) c.disjoint(gradOut, preActivation);
        if (dBias != null) c.disjoint(dBias, gradOut);
        linearGrad.outputGrad(gradOut, dBias, dOut, preActivation);
    }

    @Override
    public void add(Tensor out, Tensor a, float alpha, Tensor b, float beta) {
        new Check(this, "add").floats(out, a, b).sameShape(out, a, b);
        elementwise.add(out, a, alpha, b, beta);
    }

    @Override
    public void accumulate(Tensor dst, Tensor src, float alpha) {
        new Check(this, "accumulate").floats(dst, src).sameSize(dst, src);
        elementwise.accumulate(dst, src, alpha);
    }

    @Override
    public void scale(Tensor out, Tensor in, float s) {
        new Check(this, "scale").floats(out, in).sameSize(out, in);
        elementwise.scale(out, in, s);
    }

    // ---------------------------------------------------------------- activations and normalisation

    @Override
    public void geluForward(Tensor out, Tensor in) {
        new Check(this, "geluForward").floats(out, in).sameSize(out, in);
        gelu.forward(out, in);
    }

    @Override
    public void geluBackward(Tensor dIn, Tensor dOut, Tensor in) {
        new Check(this, "geluBackward").floats(dIn, dOut, in).sameSize(dIn, dOut, in);
        gelu.backward(dIn, dOut, in);
    }

    @Override
    public void layerNormForward(Tensor out, Tensor mean, Tensor rstd, Tensor in, Tensor weight, Tensor bias, float eps) {
        Check c = new Check(this, "layerNormForward").floats(out, mean, rstd, in, weight, bias).sameShape(out, in);
        c.that(in.rank() >= 1 && in.cols() > 0, "expected rows of at least one element, got " + in.describe());
        c.size(mean, in.rowsFlat()).size(rstd, in.rowsFlat()).vector(weight, in.cols()).vector(bias, in.cols());
        c.that(eps >= 0, "eps must be >= 0, got " + eps);
        layerNorm.forward(out, mean, rstd, in, weight, bias, eps);
    }

    @Override
    public void layerNormBackward(Tensor dIn, Tensor dWeight, Tensor dBias, Tensor dOut, Tensor in, Tensor mean,
                                  Tensor rstd, Tensor weight) {
        Check c = new Check(this, "layerNormBackward").floats(dIn, dWeight, dBias, dOut, in, mean, rstd, weight);
        c.sameShape(dIn, dOut, in).that(in.rank() >= 1, "expected rank >= 1, got " + in.describe());
        c.size(mean, in.rowsFlat()).size(rstd, in.rowsFlat());
        c.vector(weight, in.cols()).vector(dWeight, in.cols()).vector(dBias, in.cols());
        layerNorm.backward(dIn, dWeight, dBias, dOut, in, mean, rstd, weight);
    }

    @Override
    public void dropoutAddLayerNormForward(Tensor out, Tensor outBf16, Tensor sum, Tensor mean, Tensor rstd, Tensor x, Tensor residual,
                                           Tensor weight, Tensor bias, float eps, float p, RngKey key) {
        Check c = new Check(this, "dropoutAddLayerNormForward").floats(out, sum, mean, rstd, x, residual, weight, bias);
        c.sameShape(out, sum, x, residual).that(x.rank() >= 1 && x.cols() > 0, "expected rows of at least one element, got " + x.describe());
        c.size(mean, x.rowsFlat()).size(rstd, x.rowsFlat()).vector(weight, x.cols()).vector(bias, x.cols());
        c.that(eps >= 0, "eps must be >= 0, got " + eps);
        checkDropout(c, p, key);
        if (outBf16 != null) c.bf16(outBf16).f32(out).sameShape(outBf16, out);
        residualLayerNorm.forward(out, outBf16, sum, mean, rstd, x, residual, weight, bias, eps, p, offsetKey(key));
    }

    @Override
    public void dropoutAddLayerNormBackward(Tensor dX, boolean accumulateX, Tensor dResidual, boolean accumulateResidual,
                                            Tensor dWeight, Tensor dBias, Tensor dOut, Tensor sum, Tensor mean, Tensor rstd,
                                            Tensor weight, float p, RngKey key) {
        Check c = new Check(this, "dropoutAddLayerNormBackward").floats(dWeight, dBias, dOut, sum, mean, rstd, weight);
        c.sameShape(dOut, sum).that(sum.rank() >= 1 && sum.cols() > 0, "expected rows of at least one element, got " + sum.describe());
        for (Tensor d : new Tensor[]{dX, dResidual}) if (d != null) c.floats(d, sum).sameShape(d, sum);
        c.that(dX == null || dX != dResidual, "dX and dResidual must be different tensors");
        c.size(mean, sum.rowsFlat()).size(rstd, sum.rowsFlat());
        c.vector(weight, sum.cols()).vector(dWeight, sum.cols()).vector(dBias, sum.cols());
        checkDropout(c, p, key);
        residualLayerNorm.backward(dX, accumulateX, dResidual, accumulateResidual, dWeight, dBias, dOut, sum, mean, rstd,
                weight, p, offsetKey(key));
    }

    @Override
    public void softmaxForward(Tensor out, Tensor in) {
        new Check(this, "softmaxForward").floats(out, in).sameShape(out, in);
        softmax.forward(out, in);
    }

    @Override
    public void softmaxBackward(Tensor dIn, Tensor dOut, Tensor out) {
        new Check(this, "softmaxBackward").floats(dIn, dOut, out).sameShape(dIn, dOut, out);
        softmax.backward(dIn, dOut, out);
    }

    // ---------------------------------------------------------------- attention

    @Override
    public void splitHeads(Tensor out, Tensor in, int heads, boolean accumulate) {
        Check c = new Check(this, "splitHeads").floatsOrBf16(out, in).rank(in, 3).disjoint(out, in);
        c.that(heads > 0 && in.dim(2) % heads == 0, in.describe() + " does not split into " + heads + " heads");
        c.shape(out, in.dim(0), heads, in.dim(1), in.dim(2) / heads);
        this.heads.split(out, in, accumulate);
    }

    @Override
    public void mergeHeads(Tensor out, Tensor in, boolean accumulate) {
        Check c = new Check(this, "mergeHeads").floatsOrBf16(out, in).rank(in, 4).disjoint(out, in);
        c.shape(out, in.dim(0), in.dim(2), in.dim(1) * in.dim(3));
        heads.merge(out, in, accumulate);
    }

    @Override
    public void splitHeadsQkv(Tensor q, Tensor k, Tensor v, Tensor in, int heads) {
        checkQkv("splitHeadsQkv", in, q, k, v, heads);
        this.heads.splitQkv(q, k, v, in);
    }

    @Override
    public void mergeHeadsQkv(Tensor dIn, Tensor dq, Tensor dk, Tensor dv, boolean accumulate) {
        new Check(this, "mergeHeadsQkv").owned(dIn, dq, dk, dv).rank(dq, 4);
        checkQkv("mergeHeadsQkv", dIn, dq, dk, dv, dq.dim(1));
        heads.mergeQkv(dIn, dq, dk, dv, accumulate);
    }

    /** fused [B,T,3*H*D] and q, k, v [B,H,T,D] of one dtype, no two overlapping. */
    private void checkQkv(String op, Tensor fused, Tensor q, Tensor k, Tensor v, int heads) {
        Check c = new Check(this, op).floatsOrBf16(fused, q, k, v).rank(fused, 3).that(heads > 0, "heads = " + heads
                + " must be positive");
        c.that(q.dtype() == k.dtype() && k.dtype() == v.dtype(), "q, k and v must share a dtype: " + q.describe() + ", "
                + k.describe() + ", " + v.describe());
        c.that(fused.dim(2) % (3 * heads) == 0, fused.describe() + " does not split into query, key and value of " + heads
                + " heads");
        int[] perHead = {fused.dim(0), heads, fused.dim(1), fused.dim(2) / (3 * heads)};
        c.shape(q, perHead).shape(k, perHead).shape(v, perHead);
        c.disjoint(q, fused).disjoint(k, fused).disjoint(v, fused).disjoint(q, k).disjoint(q, v).disjoint(k, v);
    }

    @Override
    public int[] attentionSavedShape(int batch, int heads, int seq, int headDim) {
        return new int[]{batch, heads, seq, seq};
    }

    @Override
    public void attentionForward(Tensor out, Tensor saved, Tensor q, Tensor k, Tensor v, Tensor keyMask, float scale,
                                 float dropoutP, RngKey dropoutKey) {
        Check c = new Check(this, "attentionForward").ints(keyMask).rank(q, 4);
        attentionTypes(c, saved, q, k, v, out);
        c.sameShape(out, q, k, v).disjoint(out, q).disjoint(out, k).disjoint(out, v);
        checkAttention(c, saved, q, keyMask, dropoutP, dropoutKey);
        attention.forward(out, saved, q, k, v, keyMask, scale, dropoutP, offsetKey(dropoutKey));
    }

    @Override
    public void attentionBackward(Tensor dq, Tensor dk, Tensor dv, Tensor dOut, Tensor q, Tensor k, Tensor v,
                                  Tensor keyMask, Tensor saved, Tensor out, float scale, float dropoutP,
                                  RngKey dropoutKey) {
        Check c = new Check(this, "attentionBackward").ints(keyMask);
        attentionTypes(c, saved, q, k, v, out, dOut, dq, dk, dv);
        c.rank(q, 4).sameShape(dq, dk, dv, dOut, q, k, v, out);
        checkAttention(c, saved, q, keyMask, dropoutP, dropoutKey);
        attention.backward(dq, dk, dv, dOut, q, k, v, out, saved, scale, dropoutP, offsetKey(dropoutKey));
    }

    /** All F32 or all F64; or, mixed precision as the bf16 flash kernels: every operand BF16, saved F32. */
    private static void attentionTypes(Check c, Tensor saved, Tensor... operands) {
        if (operands[0] != null && operands[0].dtype() == DType.BF16) c.bf16(operands).f32(saved);
        else {
            Tensor[] all = java.util.Arrays.copyOf(operands, operands.length + 1);
            all[operands.length] = saved;
            c.floats(all);
        }
    }

    private void checkAttention(Check c, Tensor saved, Tensor q, Tensor keyMask, float dropoutP, RngKey key) {
        c.shape(saved, attentionSavedShape(q.dim(0), q.dim(1), q.dim(2), q.dim(3)));
        c.shape(keyMask, q.dim(0), q.dim(2));
        checkDropout(c, dropoutP, key);
    }

    private static void checkDropout(Check c, float p, RngKey key) {
        c.that(p >= 0 && p < 1, "dropout probability must be in [0, 1), got " + p);
        c.that(p == 0 || key != null, "dropout with p = " + p + " needs an RngKey");
    }

    // ---------------------------------------------------------------- embeddings and row selection

    @Override
    public void embeddingForward(Tensor out, Tensor table, Tensor ids) {
        checkRows(new Check(this, "embeddingForward"), out, table, ids);
        embedding.gather(out, table, ids);
    }

    @Override
    public void embeddingSumForward(Tensor out, Tensor t0, Tensor ids0, Tensor t1, Tensor ids1, Tensor t2, Tensor ids2) {
        Check c = new Check(this, "embeddingSumForward");
        checkRows(c, out, t0, ids0);
        checkRows(c, out, t1, ids1);
        checkRows(c, out, t2, ids2);
        c.that(out.dtype() != DType.BF16 && t0.dtype() == out.dtype() && t1.dtype() == out.dtype() && t2.dtype() == out.dtype(),
                "the tables " + t0.describe() + ", " + t1.describe() + ", " + t2.describe() + " and out must be all F32 or all F64");
        embedding.gatherSum(out, t0, ids0, t1, ids1, t2, ids2);
    }

    @Override
    public void embeddingBackward(Tensor dTable, Tensor dOut, Tensor ids) {
        checkRows(new Check(this, "embeddingBackward"), dOut, dTable, ids);
        embedding.scatterAdd(dTable, dOut, ids);
    }

    @Override
    public void gatherRows(Tensor out, Tensor in, Tensor index) {
        checkRows(new Check(this, "gatherRows"), out, in, index);
        embedding.gather(out, in, index);
    }

    @Override
    public void scatterAddRows(Tensor dIn, Tensor dOut, Tensor index) {
        checkRows(new Check(this, "scatterAddRows"), dOut, dIn, index);
        embedding.scatterAdd(dIn, dOut, index);
    }

    /** selected[K,C] rows of full[R,C] chosen by index[K] in [0, R). */
    private void checkRows(Check c, Tensor selected, Tensor full, Tensor index) {
        c.floats(selected, full).ints(index).disjoint(selected, full);
        c.that(full.rank() >= 1 && selected.rank() >= 1, "expected row tensors, got " + selected.describe() + ", " + full.describe());
        c.that(selected.cols() == full.cols(), "row lengths differ: " + selected.describe() + ", " + full.describe());
        c.that(selected.rowsFlat() == index.size(), index.describe() + " must pick one row per row of " + selected.describe());
        c.indicesBelow(index, full.rowsFlat());
    }

    // ---------------------------------------------------------------- dropout and sampling

    @Override
    public void dropoutForward(Tensor out, Tensor in, float p, RngKey key) {
        Check c = new Check(this, "dropoutForward").floats(out, in).sameSize(out, in);
        checkDropout(c, p, key);
        if (p == 0) CpuStorage.copy(out, in);
        else dropout.forward(out, in, p, offsetKey(key));
    }

    @Override
    public void dropoutBackward(Tensor dIn, Tensor dOut, float p, RngKey key) {
        Check c = new Check(this, "dropoutBackward").floats(dIn, dOut).sameSize(dIn, dOut);
        checkDropout(c, p, key);
        if (p == 0) elementwise.accumulate(dIn, dOut, 1);
        else dropout.backward(dIn, dOut, p, offsetKey(key));
    }

    @Override
    public void gumbelSample(Tensor out, Tensor logits, RngKey key) {
        Check c = new Check(this, "gumbelSample").floats(logits).ints(out).that(key != null, "null RngKey");
        c.that(logits.rank() >= 1 && logits.cols() > 0, "expected logits [K,V] with V > 0, got " + logits.describe());
        c.size(out, logits.rowsFlat());
        sampling.gumbel(out, logits, offsetKey(key));
    }

    @Override
    public void replaceTokens(Tensor discIds, Tensor labels, Tensor inputIds, Tensor positions, Tensor sampled) {
        Check c = new Check(this, "replaceTokens").ints(discIds, inputIds, positions, sampled).floats(labels);
        c.sameSize(discIds, labels, inputIds).sameSize(positions, sampled).disjoint(discIds, inputIds);
        for (long k = 0; k < positions.size(); k++) { // negative positions are skipped slots
            int p = Elements.getInt(positions, k);
            if (p >= inputIds.size()) c.fail(positions.describe() + " element " + k + " = " + p + " is not below " + inputIds.size());
        }
        sampling.replaceTokens(discIds, labels, inputIds, positions, sampled);
    }

    // ---------------------------------------------------------------- losses and reductions

    @Override
    public void crossEntropyForward(Tensor loss, Tensor lse, Tensor logits, Tensor targets) {
        Check c = new Check(this, "crossEntropyForward").floats(loss, lse, logits).ints(targets).scalar(loss);
        checkCrossEntropy(c, lse, logits, targets);
        this.loss.crossEntropyForward(loss, lse, logits, targets);
    }

    @Override
    public void crossEntropyBackward(Tensor dLogits, Tensor dLoss, Tensor logits, Tensor lse, Tensor targets) {
        Check c = new Check(this, "crossEntropyBackward").floats(dLogits, dLoss, logits, lse).ints(targets);
        c.scalar(dLoss).sameShape(dLogits, logits);
        checkCrossEntropy(c, lse, logits, targets);
        loss.crossEntropyBackward(dLogits, dLoss, logits, lse, targets);
    }

    private static void checkCrossEntropy(Check c, Tensor lse, Tensor logits, Tensor targets) {
        c.rank(logits, 2).vector(targets, logits.dim(0)).size(lse, logits.dim(0));
        int vocab = logits.dim(1);
        for (int k = 0; k < targets.size(); k++) {
            int t = Elements.getInt(targets, k);
            if (t >= vocab) c.fail(targets.describe() + " element " + k + " = " + t + " is not below V = " + vocab);
        }
    }

    @Override
    public void bceWithLogitsForward(Tensor loss, Tensor logits, Tensor labels, Tensor mask) {
        new Check(this, "bceWithLogitsForward").floats(loss, logits, labels).ints(mask).scalar(loss)
                .sameSize(logits, labels, mask);
        this.loss.bceWithLogitsForward(loss, logits, labels, mask);
    }

    @Override
    public void bceWithLogitsBackward(Tensor dLogits, Tensor dLoss, Tensor logits, Tensor labels, Tensor mask) {
        new Check(this, "bceWithLogitsBackward").floats(dLogits, dLoss, logits, labels).ints(mask).scalar(dLoss)
                .sameSize(dLogits, logits, labels, mask);
        loss.bceWithLogitsBackward(dLogits, dLoss, logits, labels, mask);
    }

    @Override
    public void mseForward(Tensor loss, Tensor pred, Tensor target) {
        new Check(this, "mseForward").floats(loss, pred, target).scalar(loss).sameSize(pred, target);
        this.loss.mseForward(loss, pred, target);
    }

    @Override
    public void mseBackward(Tensor dPred, Tensor dLoss, Tensor pred, Tensor target) {
        new Check(this, "mseBackward").floats(dPred, dLoss, pred, target).scalar(dLoss).sameSize(dPred, pred, target);
        loss.mseBackward(dPred, dLoss, pred, target);
    }

    @Override
    public void sum(Tensor out, Tensor in, float alpha) {
        new Check(this, "sum").floats(out, in).scalar(out);
        elementwise.sum(out, in, alpha);
    }

    @Override
    public void sumBackward(Tensor dIn, Tensor dOut, float alpha) {
        new Check(this, "sumBackward").floats(dIn, dOut).scalar(dOut);
        elementwise.sumBackward(dIn, dOut, alpha);
    }

    // ---------------------------------------------------------------- optimizer

    @Override
    public void sumSquaresAccumulate(Tensor out, Tensor in) {
        new Check(this, "sumSquaresAccumulate").floats(out, in).scalar(out);
        optimizer.sumSquaresAccumulate(out, in);
    }

    @Override
    public void clipFactor(Tensor scale, Tensor sumSquares, float maxNorm) {
        new Check(this, "clipFactor").floats(scale, sumSquares).scalar(scale).scalar(sumSquares)
                .that(maxNorm > 0, "maxNorm must be > 0, got " + maxNorm);
        optimizer.clipFactor(scale, sumSquares, maxNorm);
    }

    @Override
    public void adamwStep(Tensor param, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor hyper, float beta1,
                          float beta2, float eps, float weightDecay) {
        new Check(this, "adamwStep").floats(param, grad, m, v, gradScale, hyper).sameShape(param, grad, m, v)
                .scalar(gradScale).vector(hyper, 3);
        optimizer.adamw(param, grad, m, v, gradScale, hyper, beta1, beta2, eps, weightDecay);
    }

    @Override
    public void adamwStep(Tensor param, Tensor paramBf16, Tensor grad, Tensor m, Tensor v, Tensor gradScale, Tensor hyper,
                          float beta1, float beta2, float eps, float weightDecay) {
        new Check(this, "adamwStep").f32(param, grad, m, v, gradScale, hyper).bf16(paramBf16)
                .sameShape(param, paramBf16, grad, m, v).scalar(gradScale).vector(hyper, 3);
        optimizer.adamw(param, grad, m, v, gradScale, hyper, beta1, beta2, eps, weightDecay);
        CpuStorage.copy(paramBf16, param);
    }
}
