package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.ops.GemmTcKernels.Epilogue;

import static io.electra.engine.DType.F32;
import static io.electra.kernels.gpu.GemmTcGpuTest.atol;
import static io.electra.kernels.gpu.GemmTcGpuTest.rtol;

/**
 * The check every tensor-core GEMM path must pass for a linear layer x W^T (x [M, K], W [N, K]):
 * alpha with accumulation into the output, then each fused epilogue (bias, bias+GELU with its saved
 * pre-activation, residual add) against the same steps unfused on the CPU, in the given out dtype;
 * with a BF16 out also bias+GELU into a BF16 out over an F32 pre-activation.
 */
final class EpilogueCheck {
    /** One GPU call of the path under test: out (=|+=) alpha x W^T, then the epilogue. */
    interface Gemm {
        void run(Tensor out, Tensor x, Tensor w, float alpha, boolean accumulate, Epilogue epilogue, Tensor bias, Tensor aux);
    }

    private EpilogueCheck() {
    }

    /** kernel: the entry point the ledger records; null for the one the backend picks for these operands. */
    static void check(Twins tw, String kernel, DType outType, int M, int N, int K, Gemm gemm) {
        Twin x = tw.bf16Normal(1, M, K), w = tw.bf16Normal(0.2, N, K), bias = tw.normal(1, N);
        double atol = atol(K) * 0.2;  // w is N(0, 0.2^2)

        Twin acc = like(tw, outType, M, N);
        if (kernel == null) kernel = tw.gpu.tensorCoreGemm().kernelFor(acc.gpu(), x.gpu(), false, w.gpu(), true);
        tw.cpu.matmul(acc.cpu(), x.cpu(), false, w.cpu(), true, -0.5f, true);
        gemm.run(acc.gpu(), x.gpu(), w.gpu(), -0.5f, true, Epilogue.NONE, null, null);
        tw.expectClose(kernel, acc, atol, rtol(outType));

        Twin out = zeros(tw, outType, M, N), pre = zeros(tw, outType, M, N);
        tw.cpu.matmul(out.cpu(), x.cpu(), false, w.cpu(), true, 1f, false);
        tw.cpu.biasAdd(out.cpu(), out.cpu(), bias.cpu());
        gemm.run(out.gpu(), x.gpu(), w.gpu(), 1f, false, Epilogue.BIAS, bias.gpu(), null);
        tw.expectClose(kernel, out, atol, rtol(outType));

        tw.cpu.matmul(pre.cpu(), x.cpu(), false, w.cpu(), true, 1f, false);
        tw.cpu.biasAdd(pre.cpu(), pre.cpu(), bias.cpu());
        tw.cpu.geluForward(out.cpu(), pre.cpu());
        gemm.run(out.gpu(), x.gpu(), w.gpu(), 1f, false, Epilogue.BIAS_GELU, bias.gpu(), pre.gpu());
        tw.expectClose(kernel, pre, atol, rtol(outType));
        tw.expectClose(kernel, out, atol * 1.13, rtol(outType));  // |gelu'| <= 1.13

        if (outType == DType.BF16) {  // the mixed-precision feed-forward: BF16 GELU output over an F32 pre-activation
            Twin inner = zeros(tw, DType.BF16, M, N), preF32 = zeros(tw, F32, M, N);
            tw.cpu.matmulBiasGelu(inner.cpu(), preF32.cpu(), x.cpu(), false, w.cpu(), true, bias.cpu());
            gemm.run(inner.gpu(), x.gpu(), w.gpu(), 1f, false, Epilogue.BIAS_GELU, bias.gpu(), preF32.gpu());
            tw.expectClose(kernel, preF32, atol, rtol(F32));
            tw.expectClose(kernel, inner, atol * 1.13, rtol(DType.BF16));
        }

        Twin residual = like(tw, outType, M, N), sum = zeros(tw, outType, M, N);
        tw.cpu.matmul(sum.cpu(), x.cpu(), false, w.cpu(), true, 1f, false);
        tw.cpu.add(sum.cpu(), sum.cpu(), 1f, residual.cpu(), 1f);
        gemm.run(sum.gpu(), x.gpu(), w.gpu(), 1f, false, Epilogue.RESIDUAL, null, residual.gpu());
        tw.expectClose(kernel, sum, atol, rtol(outType));
        // in place: out is the residual stream itself (the CPU starts from the GPU's rounded values)
        tw.cpu.upload(sum.cpu(), tw.gpu.downloadFloat(sum.gpu()));
        tw.cpu.matmul(sum.cpu(), x.cpu(), false, w.cpu(), true, 1f, true);
        gemm.run(sum.gpu(), x.gpu(), w.gpu(), 1f, false, Epilogue.RESIDUAL, null, sum.gpu());
        tw.expectClose(kernel, sum, atol, rtol(outType));
    }

    static Twin zeros(Twins tw, DType type, int... shape) {
        return type == F32 ? tw.zeros(F32, shape) : tw.bf16Zeros(shape);
    }

    /** N(0, 1) values in the out dtype: a prior output to accumulate into, or a residual. */
    private static Twin like(Twins tw, DType type, int... shape) {
        return type == F32 ? tw.normal(1, shape) : tw.bf16Normal(1, shape);
    }
}
