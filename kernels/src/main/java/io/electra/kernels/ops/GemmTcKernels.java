package io.electra.kernels.ops;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.CudaRuntime;
import io.electra.kernels.runtime.Family;
import io.electra.kernels.runtime.Kernel;
import io.electra.kernels.runtime.Launcher;
import io.electra.kernels.runtime.Workspace;

/**
 * Launcher for the bf16 tensor-core GEMMs: out (=|+=) alpha op(a) op(b) with a, b BF16, out F32
 * or BF16, 2-D or 3-D batched over axis 0, layouts nn, nt and tn, and the fused epilogues bias,
 * bias+GELU (saving the pre-activation), residual add and GELU gradient (with a bias gradient's sums). Two kernels compute the same function:
 * gemm_wgmma.sm_90a.cu (Hopper's warpgroup MMA) where the device is compute capability 9.0 and
 * the operands allow 16-byte copies, else gemm_tc.cu (mma.sync, sm_80 on). The tile comes from
 * {@link GemmWgmmaTile#choose} or {@link GemmTcTile#choose}; the copy width from the operands'
 * alignment (see {@link #vectorWidth}). {@code -Delectra.cuda.wgmma=false} keeps every call on gemm_tc.
 */
public final class GemmTcKernels {
    /** The system property that, set to false, keeps gemm_wgmma unused (for side-by-side comparisons). */
    public static final String WGMMA_PROPERTY = "electra.cuda.wgmma";
    /** What the epilogue does after alpha * product (+ out): codes as gemm_epilogue.cuh's enum. */
    public enum Epilogue { NONE, BIAS, BIAS_GELU, RESIDUAL, GELU_GRAD }

    private static final String[] LAYOUTS = {"nn", "nt", "tn"};
    private final Launcher launcher;
    private final Operands operands;
    private final ReduceKernels reduce;
    private final Workspace workspace;
    private final int multiprocessors;
    private final Kernel[] kernels = new Kernel[LAYOUTS.length * GemmTcTile.values().length * 2];
    private final Kernel[] wgmma;  // by layout and GemmWgmmaTile; null where the device cannot run sm_90a

    public GemmTcKernels(CudaRuntime runtime, Operands operands, ReduceKernels reduce) {
        this.launcher = runtime.launcher();
        this.operands = operands;
        this.reduce = reduce;
        this.workspace = runtime.workspace();
        this.multiprocessors = runtime.multiprocessors();
        for (int layout = 0; layout < LAYOUTS.length; layout++) {
            for (GemmTcTile tile : GemmTcTile.values()) {
                for (int vec : new int[] {8, 2}) {
                    Kernel k = runtime.kernel(Family.GEMM_TC, kernelName(LAYOUTS[layout], tile, vec));
                    k.allowDynamicShared(tile.sharedBytes());
                    kernels[index(layout, tile, vec)] = k;
                }
            }
        }
        boolean useWgmma = runtime.has(Family.GEMM_WGMMA) && !"false".equals(System.getProperty(WGMMA_PROPERTY));
        wgmma = useWgmma ? new Kernel[LAYOUTS.length * GemmWgmmaTile.values().length] : null;
        for (int layout = 0; useWgmma && layout < LAYOUTS.length; layout++) {
            for (GemmWgmmaTile tile : GemmWgmmaTile.values()) {
                Kernel k = runtime.kernel(Family.GEMM_WGMMA, wgmmaKernelName(LAYOUTS[layout], tile));
                k.allowDynamicShared(tile.sharedBytes());
                wgmma[wgmmaIndex(layout, tile)] = k;
            }
        }
    }

    /** Whether the Hopper kernel serves the calls it can (device 9.0, not switched off). */
    public boolean usesWgmma() {
        return wgmma != null;
    }

    /** out (=|+=) alpha * op(a) @ op(b). */
    public void matmul(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, boolean accumulate) {
        run(out, a, transA, b, transB, alpha, accumulate, Epilogue.NONE, null, null, null, null);
    }

    /**
     * out = g = (op(a) @ op(b)) * gelu'(preActivation): the feed-forward's gradient into its pre-activation
     * straight from the product that makes the GELU output's gradient, which is never stored; out F32 or
     * rounded once to BF16. dBias (may be null, F32 [N]) += the column sums of g before that rounding:
     * each CTA sums its tile's rows (gemm_epilogue.cuh's partials), reduce_forward_columns the CTAs in order.
     */
    public void matmulGeluGrad(Tensor out, Tensor dBias, Tensor a, boolean transA, Tensor b, boolean transB,
                               Tensor preActivation) {
        run(out, a, transA, b, transB, 1f, false, Epilogue.GELU_GRAD, null, preActivation, null, dBias);
    }

    /** out = op(a) @ op(b) + bias[N]: a linear layer with its bias. */
    public void matmulBias(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias) {
        run(out, a, transA, b, transB, 1f, false, Epilogue.BIAS, bias, null, null, null);
    }

    /**
     * preActivation = op(a) @ op(b) + bias[N]; out = gelu(preActivation) (geluBackward reads preActivation);
     * each F32 or BF16, so a mixed-precision feed-forward writes a BF16 out and keeps an F32 pre-activation.
     */
    public void matmulBiasGelu(Tensor out, Tensor preActivation, Tensor a, boolean transA, Tensor b, boolean transB, Tensor bias) {
        run(out, a, transA, b, transB, 1f, false, Epilogue.BIAS_GELU, bias, preActivation, null, null);
    }

    /** out = op(a) @ op(b) + residual (same shape and dtype as out). */
    public void matmulResidual(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, Tensor residual) {
        run(out, a, transA, b, transB, 1f, false, Epilogue.RESIDUAL, null, residual, null, null);
    }

    /** {@link #matmul} on gemm_tc with the tile forced, for the benchmark that measures the tile table. */
    public void matmulWithTile(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, GemmTcTile tile) {
        run(out, a, transA, b, transB, 1f, false, Epilogue.NONE, null, null, tile, null);
    }

    /**
     * out (=|+=) alpha op(a) op(b) through the fused epilogue on gemm_tc with the tile forced, on any
     * device: the tests keep the Ampere kernel covered where the Hopper one serves the model.
     */
    public void matmulTc(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, boolean accumulate,
                         Epilogue epilogue, Tensor bias, Tensor aux, GemmTcTile tile) {
        run(out, a, transA, b, transB, alpha, accumulate, epilogue, bias, aux, tile, null);
    }

    /** {@link #matmulGeluGrad} on gemm_tc with the tile forced, on any device (tests). */
    public void matmulGeluGradTc(Tensor out, Tensor dBias, Tensor a, boolean transA, Tensor b, boolean transB, Tensor pre,
                                 GemmTcTile tile) {
        run(out, a, transA, b, transB, 1f, false, Epilogue.GELU_GRAD, null, pre, tile, dBias);
    }

    /**
     * out (=|+=) alpha op(a) op(b) through the fused epilogue on gemm_wgmma with the tile forced,
     * for the tests and the benchmark; needs {@link #usesWgmma} and 16-byte-aligned operands.
     */
    public void matmulWgmma(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, boolean accumulate,
                            Epilogue epilogue, Tensor bias, Tensor aux, GemmWgmmaTile tile) {
        if (wgmma == null) throw new IllegalStateException("gemm_wgmma is not in use on this device (compute capability 9.0 only)");
        run(out, a, transA, b, transB, alpha, accumulate, epilogue, bias, aux, tile, null);
    }

    /** {@link #matmulGeluGrad} on gemm_wgmma with the tile forced (tests); needs {@link #usesWgmma}. */
    public void matmulGeluGradWgmma(Tensor out, Tensor dBias, Tensor a, boolean transA, Tensor b, boolean transB, Tensor pre,
                                    GemmWgmmaTile tile) {
        if (wgmma == null) throw new IllegalStateException("gemm_wgmma is not in use on this device (compute capability 9.0 only)");
        run(out, a, transA, b, transB, 1f, false, Epilogue.GELU_GRAD, null, pre, tile, dBias);
    }

    /**
     * Whether a tensor-core kernel serves these operands: false when a stored operand's contiguous
     * dimension is odd or its address is misaligned (for example the gradient of a 1-wide output,
     * such as the discriminator's [N, 1] logits, as the A of dx = dy W).
     */
    public boolean serves(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB) {
        GemmTcCall call = GemmTcCall.of(out, a, transA, b, transB, Epilogue.NONE, null, null);
        Kernel named = kernels[index(call.layout(), GemmTcTile.T128X128, 8)];
        return vectorWidth(call.contiguousA(), call.contiguousB(), operands.bf16(named, a), operands.bf16(named, b)) != 0;
    }

    /** The entry point {@link #matmul} would launch for these operands (benchmarks and tests report it). */
    public String kernelFor(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB) {
        GemmTcCall call = GemmTcCall.of(out, a, transA, b, transB, Epilogue.NONE, null, null);
        Kernel named = kernels[index(call.layout(), GemmTcTile.T128X128, 8)];
        int vec = vectorWidth(call.contiguousA(), call.contiguousB(), operands.bf16(named, a), operands.bf16(named, b));
        return kernel(call.layout(), tile(call, vec, null), vec).name();
    }

    /**
     * The tile a call runs on: a gemm_wgmma tile where that kernel is in use and the operands allow
     * 16-byte copies (or one is forced), else a gemm_tc tile. (No allocation: this is every launch.)
     */
    private GemmTile tile(GemmTcCall call, int vec, GemmTile forced) {
        if (forced != null) return forced;
        if (wgmma != null && vec == 8) return GemmWgmmaTile.choose(call.m(), call.n(), call.batch(), multiprocessors);
        return GemmTcTile.choose(call.m(), call.n(), call.batch(), multiprocessors);
    }

    /** The entry point of a tile; gemm_tc's at copy width vec (8 named where no width fits: the refusing kernel). */
    private Kernel kernel(int layout, GemmTile tile, int vec) {
        if (tile instanceof GemmWgmmaTile w) return wgmma[wgmmaIndex(layout, w)];
        return kernels[index(layout, (GemmTcTile) tile, vec == 0 ? 8 : vec)];
    }

    /** {@code dBias}, when not null: += the column sums of what out receives (before its rounding), via CTA partials. */
    private void run(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB, float alpha, boolean accumulate,
                     Epilogue epilogue, Tensor bias, Tensor aux, GemmTile forced, Tensor dBias) {
        GemmTcCall call = GemmTcCall.of(out, a, transA, b, transB, epilogue, bias, aux);
        if (epilogue == Epilogue.GELU_GRAD && accumulate) {
            throw new IllegalArgumentException("gemm_tc (module gemm_tc.ptx): the GELU_GRAD epilogue overwrites out "
                    + out.describe() + "; it does not accumulate");
        }
        if (dBias != null && (call.batch() != 1 || dBias.dtype() != DType.F32 || dBias.rank() != 1 || dBias.dim(0) != call.n())) {
            throw new IllegalArgumentException("gemm_tc (module gemm_tc.ptx): column sums go to an F32 [" + call.n()
                    + "] of an unbatched product, got " + dBias.describe() + " for out " + out.describe());
        }
        Kernel named = kernels[index(call.layout(), GemmTcTile.T128X128, 8)];  // errors before the plan name the layout
        long pa = operands.bf16(named, a), pb = operands.bf16(named, b), pc = operands.f32OrBf16(named, out);
        long pBias = bias == null ? 0 : operands.f32(named, bias);
        long pAux = aux == null ? 0 : operands.f32OrBf16(named, aux);
        long pdBias = dBias == null ? 0 : operands.f32(named, dBias);
        int vec = vectorWidth(call.contiguousA(), call.contiguousB(), pa, pb);
        if (vec == 0) {
            throw new IllegalArgumentException(named + ": bf16 matmul copies operands in 4- or 16-byte pieces, so each "
                    + "operand's contiguous dimension must be even and its address 4-byte aligned; got a " + a.describe()
                    + (transA ? "^T" : "") + " (contiguous " + call.contiguousA() + ", address mod 16 = " + pa % 16 + "), b "
                    + b.describe() + (transB ? "^T" : "") + " (contiguous " + call.contiguousB() + ", address mod 16 = "
                    + pb % 16 + ")");
        }
        if (call.m() == 0 || call.n() == 0 || call.batch() == 0) return;
        GemmTile tile = tile(call, vec, forced);
        Kernel k = kernel(call.layout(), tile, vec);
        if (tile instanceof GemmWgmmaTile && vec != 8) {
            throw new IllegalArgumentException(k + ": gemm_wgmma copies operands in 16-byte pieces; got a " + a.describe()
                    + ", b " + b.describe() + " whose contiguous dimensions or addresses are not multiples of 8 elements");
        }
        int mTiles = (call.m() + tile.bm() - 1) / tile.bm();
        long partials = 0;
        if (dBias != null) {
            workspace.reserve(4L * mTiles * call.n(), 1);
            partials = workspace.take(4L * mTiles * call.n());
        }
        launcher.args().ptr(pc).ptr(pa).ptr(pb).i32(call.m()).i32(call.n()).i32(call.k())
                .i64((long) call.m() * call.k()).i64((long) call.k() * call.n()).i64((long) call.m() * call.n())
                .f32(alpha).i32(accumulate ? 1 : 0).i32(bf16Flags(out, aux)).i32(epilogue.ordinal())
                .ptr(pBias).ptr(pAux).ptr(partials);
        launcher.launch(k, (call.n() + tile.bn() - 1) / tile.bn(), mTiles, call.batch(), tile.threads(), tile.sharedBytes());
        if (dBias != null) reduce.columns(partials, mTiles, call.n(), call.n(), true, pdBias);
    }

    /** gemm_epilogue.cuh's bf16Flags: bit 0 for a BF16 out, bit 1 for a BF16 aux (pre-activation or residual). */
    static int bf16Flags(Tensor out, Tensor aux) {
        return (out.dtype() == DType.BF16 ? 1 : 0) | (aux != null && aux.dtype() == DType.BF16 ? 2 : 0);
    }

    /**
     * Elements per cp.async copy: 8 (16 bytes) when both operands' contiguous dimensions are
     * multiples of 8 and their addresses 16-byte aligned, 2 (4 bytes) when they are even and
     * 4-byte aligned (the vocabulary, 30522), else 0: no kernel serves the call.
     */
    static int vectorWidth(int contiguousA, int contiguousB, long addressA, long addressB) {
        if (contiguousA % 8 == 0 && contiguousB % 8 == 0 && addressA % 16 == 0 && addressB % 16 == 0) return 8;
        if (contiguousA % 2 == 0 && contiguousB % 2 == 0 && addressA % 4 == 0 && addressB % 4 == 0) return 2;
        return 0;
    }

    /** gemm_tc_forward_nt_128x64, or ..._even for 4-byte copies. */
    static String kernelName(String layout, GemmTcTile tile, int vec) {
        return "gemm_tc_forward_" + layout + "_" + tile.id() + (vec == 2 ? "_even" : "");
    }

    /** gemm_wgmma_forward_nt_128x256. */
    static String wgmmaKernelName(String layout, GemmWgmmaTile tile) {
        return "gemm_wgmma_forward_" + layout + "_" + tile.id();
    }

    /** The gemm_wgmma entry point names this launcher can use, for the test that holds them against the PTX. */
    static String[] wgmmaKernelNames() {
        String[] names = new String[LAYOUTS.length * GemmWgmmaTile.values().length];
        int i = 0;
        for (String layout : LAYOUTS) {
            for (GemmWgmmaTile tile : GemmWgmmaTile.values()) names[i++] = wgmmaKernelName(layout, tile);
        }
        return names;
    }

    /** The gemm_tc entry point names this launcher can use, for the test that holds them against the PTX. */
    static String[] kernelNames() {
        String[] names = new String[LAYOUTS.length * GemmTcTile.values().length * 2];
        int i = 0;
        for (String layout : LAYOUTS) {
            for (GemmTcTile tile : GemmTcTile.values()) {
                for (int vec : new int[] {8, 2}) names[i++] = kernelName(layout, tile, vec);
            }
        }
        return names;
    }

    private static int wgmmaIndex(int layout, GemmWgmmaTile tile) {
        return layout * GemmWgmmaTile.values().length + tile.ordinal();
    }

    private static int index(int layout, GemmTcTile tile, int vec) {
        return (layout * GemmTcTile.values().length + tile.ordinal()) * 2 + (vec == 8 ? 0 : 1);
    }
}
