package io.electra.kernels.ops;

import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.ErrorWord;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;
import jcuda.driver.CUstream;

import static io.electra.kernels.ops.Operands.shape;
import static jcuda.driver.JCudaDriver.cuMemcpyDtoDAsync;

/** Launcher for sampling.cu: Gumbel-max sampling (one block per row) and token replacement. */
public final class SamplingKernels {
    private final Launcher launcher;
    private final Operands operands;
    private final CUstream stream;
    private final Kernel gumbel, replace, labels;

    public SamplingKernels(CudaRuntime runtime, Operands operands) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        this.stream = runtime.stream();
        gumbel = runtime.kernel(Family.SAMPLING, "sampling_forward_gumbel");
        replace = runtime.kernel(Family.SAMPLING, "sampling_forward_replace");
        labels = runtime.kernel(Family.SAMPLING, "sampling_forward_labels");
    }

    /** out[k] = argmax_v logits[k, v] - log(-log(u + 2^-25)). */
    public void gumbel(Tensor out, Tensor logits, RngKey key) {
        if (logits.rank() != 2) throw shape(gumbel, "logits " + logits.describe() + " must be [K, V]");
        int K = logits.dim(0), V = logits.dim(1);
        if (out.size() != K) throw shape(gumbel, "out " + out.describe() + " must hold " + K + " ids");
        if (V == 0 && K > 0) throw shape(gumbel, "logits " + logits.describe() + " has no vocabulary to sample from");
        long o = operands.i32(gumbel, out), x = operands.f32(gumbel, logits);
        if (K == 0) return;
        DropoutKernels.withKey(launcher, launcher.args().ptr(o).ptr(x).i32(K).i32(V), key);
        launcher.launch(gumbel, K, Launcher.BLOCK);
    }

    /** discIds = inputIds with sampled ids at positions; labels[n] = discIds[n] != inputIds[n]. */
    public void replaceTokens(Tensor discIds, Tensor labelsOut, Tensor inputIds, Tensor positions, Tensor sampled) {
        long N = inputIds.size(), K = positions.size();
        if (discIds.size() != N || labelsOut.size() != N) {
            throw shape(replace, "discIds " + discIds.describe() + " and labels " + labelsOut.describe() + " must hold " + N + " tokens");
        }
        if (sampled.size() != K) throw shape(replace, "sampled " + sampled.describe() + " and positions " + positions.describe() + " differ");
        long d = operands.i32(replace, discIds), in = operands.i32(replace, inputIds);
        long p = operands.i32(replace, positions), s = operands.i32(replace, sampled), l = operands.f32(labels, labelsOut);
        if (N == 0) return;
        cuMemcpyDtoDAsync(deviceptr(d), deviceptr(in), 4 * N, stream);
        if (K > 0) {
            launcher.args().ptr(d).ptr(p).ptr(s).i32((int) K).i32((int) N).ptr(launcher.errorWord()).i32(ErrorWord.Code.POSITION.bit());
            launcher.launch(replace, (int) ((K + Launcher.BLOCK - 1) / Launcher.BLOCK), Launcher.BLOCK);
        }
        launcher.args().ptr(l).ptr(d).ptr(in).i32((int) N);
        launcher.launch(labels, (int) ((N + Launcher.BLOCK - 1) / Launcher.BLOCK), Launcher.BLOCK);
    }

    private static jcuda.driver.CUdeviceptr deviceptr(long address) {
        return RawDevicePointer.of(address);
    }
}
