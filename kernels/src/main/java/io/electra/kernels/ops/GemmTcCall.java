package io.electra.kernels.ops;

import io.electra.engine.DType;
import io.electra.engine.Tensor;

/**
 * The checked dimensions of one tensor-core GEMM call: shapes chain, dtypes are what gemm_tc.cu
 * reads, the epilogue's operands fit. Needs no device, so the checks are tested on the CPU.
 * Layout index: 0 nn, 1 nt, 2 tn (as the launcher's kernel table).
 */
record GemmTcCall(int m, int n, int k, int batch, boolean transA, boolean transB) {

    static GemmTcCall of(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, GemmTcKernels.Epilogue epilogue,
                         Tensor bias, Tensor aux) {
        String where = "gemm_tc_forward_" + (transA ? "t" : "n") + (transB ? "t" : "n") + " (module gemm_tc.ptx)";
        if (transA && transB) {
            throw new IllegalArgumentException(where + ": bf16 matmul has the nn, nt and tn layouts the model uses; "
                    + "transpose one operand with copy first");
        }
        if (a.dtype() != DType.BF16 || b.dtype() != DType.BF16) {
            throw new IllegalArgumentException(where + ": a " + a.describe() + " and b " + b.describe() + " must both be BF16");
        }
        if (out.dtype() != DType.F32 && out.dtype() != DType.BF16) {
            throw new IllegalArgumentException(where + ": out " + out.describe() + " must be F32 or BF16");
        }
        int rank = a.rank();
        if ((rank != 2 && rank != 3) || b.rank() != rank || out.rank() != rank) {
            throw new IllegalArgumentException(where + ": a " + a.describe() + ", b " + b.describe() + ", out " + out.describe()
                    + " must all be 2-D or all 3-D");
        }
        int batch = rank == 3 ? a.dim(0) : 1;
        if (rank == 3 && (b.dim(0) != batch || out.dim(0) != batch)) {
            throw new IllegalArgumentException(where + ": batch sizes differ: a " + a.describe() + ", b " + b.describe()
                    + ", out " + out.describe());
        }
        int m = transA ? a.dim(-1) : a.dim(-2), k = transA ? a.dim(-2) : a.dim(-1);
        int kb = transB ? b.dim(-1) : b.dim(-2), n = transB ? b.dim(-2) : b.dim(-1);
        if (kb != k || out.dim(-2) != m || out.dim(-1) != n) {
            throw new IllegalArgumentException(where + ": op(a) is [" + m + ", " + k + "], op(b) [" + kb + ", " + n + "], out "
                    + out.describe());
        }
        boolean needsBias = epilogue == GemmTcKernels.Epilogue.BIAS || epilogue == GemmTcKernels.Epilogue.BIAS_GELU;
        if (needsBias && (bias == null || bias.dtype() != DType.F32 || bias.rank() != 1 || bias.dim(0) != n)) {
            throw new IllegalArgumentException(where + ": the " + epilogue + " epilogue needs an F32 bias [" + n + "], got "
                    + (bias == null ? "none" : bias.describe()));
        }
        boolean needsAux = epilogue == GemmTcKernels.Epilogue.BIAS_GELU || epilogue == GemmTcKernels.Epilogue.RESIDUAL
                || epilogue == GemmTcKernels.Epilogue.GELU_GRAD;
        boolean auxType = aux != null && (aux.dtype() == DType.F32 || aux.dtype() == DType.BF16);
        if (needsAux && (!auxType || !aux.sameShape(out))) {
            String role = epilogue == GemmTcKernels.Epilogue.RESIDUAL ? "residual" : "pre-activation";
            throw new IllegalArgumentException(where + ": the " + role + " must be F32 or BF16 with out's shape "
                    + out.describe() + ", got " + (aux == null ? "none" : aux.describe()));
        }
        return new GemmTcCall(m, n, k, batch, transA, transB);
    }

    int layout() {
        return transA ? 2 : transB ? 1 : 0;
    }

    /** Elements between rows of A as stored: K for [M, K], M for [K, M]. */
    int contiguousA() {
        return transA ? m : k;
    }

    /** Elements between rows of B as stored: N for [K, N], K for [N, K]. */
    int contiguousB() {
        return transB ? k : n;
    }
}
