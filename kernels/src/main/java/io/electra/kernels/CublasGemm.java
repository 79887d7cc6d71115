package io.electra.kernels;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.runtime.DeviceBlock;
import jcuda.Pointer;
import jcuda.cudaDataType;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasComputeType;
import jcuda.jcublas.cublasGemmAlgo;
import jcuda.jcublas.cublasHandle;
import jcuda.jcublas.cublasOperation;
import jcuda.runtime.cudaStream_t;

import java.util.Optional;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuEventCreate;
import static jcuda.driver.JCudaDriver.cuEventDestroy;
import static jcuda.driver.JCudaDriver.cuEventElapsedTime;
import static jcuda.driver.JCudaDriver.cuEventRecord;
import static jcuda.driver.JCudaDriver.cuEventSynchronize;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * cuBLAS through JCublas 12.6, as an optional reference GEMM: benchmarks put it beside our kernels,
 * and a gpu test checks it against the CPU backend. Never used by {@link CudaBackend}. JCublas 12.6
 * links {@code libcublas.so.12}, which a CUDA 13 toolkit does not ship (a CUDA 12 cuBLAS, e.g. the
 * pip wheel {@code nvidia-cublas-cu12}, on {@code LD_LIBRARY_PATH} runs on a CUDA 13 driver), so
 * {@link #open()} says why not instead of throwing.
 *
 * <p>It runs on device 0's primary context, the one {@link CudaBackend} uses, so it reads and writes
 * the backend's tensors; on its own stream, so callers synchronize the backend before a call and
 * this provider after it. Row-major like the backend: {@code out = op(a) op(b)}, fp32 accumulation.
 */
public final class CublasGemm implements AutoCloseable {
    private static final Pointer ONE = Pointer.to(new float[] {1f}), ZERO = Pointer.to(new float[] {0f});

    private final CUdevice device;
    private final CUcontext context;
    private final CUstream stream;
    private final cublasHandle handle;
    private final int version;

    /** The provider, or the reason there is none, in one line. */
    public record Detection(Optional<CublasGemm> gemm, String reason) {
        public boolean isAvailable() {
            return gemm.isPresent();
        }
    }

    private CublasGemm(CUdevice device, CUcontext context, CUstream stream, cublasHandle handle, int version) {
        this.device = device;
        this.context = context;
        this.stream = stream;
        this.handle = handle;
        this.version = version;
    }

    /**
     * Loads JCublas, creates a cuBLAS handle on device 0 and a stream for it, or says why it cannot
     * (no libcublas.so.12, no driver, no device). Never throws. The default math mode: F32 inputs
     * are multiplied in fp32, never TF32.
     */
    public static Detection open() {
        try {
            JCublas2.setExceptionsEnabled(true);
            JCublas2.initialize();  // loads libJCublas2, which needs libcublas.so.12
        } catch (Throwable e) {  // UnsatisfiedLinkError, NoClassDefFoundError without the jar, ...
            return new Detection(Optional.empty(), "JCublas could not load: " + brief(e));
        }
        CUdevice device = new CUdevice();
        try {
            JCudaDriver.setExceptionsEnabled(true);
            cuInit(0);
            int[] count = new int[1];
            cuDeviceGetCount(count);
            if (count[0] == 0) return new Detection(Optional.empty(), "no CUDA device");
            cuDeviceGet(device, 0);
        } catch (Throwable e) {
            return new Detection(Optional.empty(), "no CUDA device (the driver did not answer: " + brief(e) + ")");
        }
        CUcontext context = null;
        CUstream stream = null;
        cublasHandle handle = null;
        try {
            context = new CUcontext();
            cuDevicePrimaryCtxRetain(context, device);
            cuCtxSetCurrent(context);
            stream = new CUstream();
            cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
            handle = new cublasHandle();
            JCublas2.cublasCreate(handle);
            JCublas2.cublasSetStream(handle, new cudaStream_t(stream));
            int[] v = new int[1];
            JCublas2.cublasGetVersion(handle, v);
            return new Detection(Optional.of(new CublasGemm(device, context, stream, handle, v[0])), "");
        } catch (Throwable e) {
            try {
                if (handle != null) JCublas2.cublasDestroy(handle);
                if (stream != null) cuStreamDestroy(stream);
                if (context != null) cuDevicePrimaryCtxRelease(device);
            } catch (Throwable suppressed) {
                e.addSuppressed(suppressed);
            }
            return new Detection(Optional.empty(), "cuBLAS could not start: " + brief(e));
        }
    }

    /** "cuBLAS 12.8.4" as the loaded library reports it. */
    public String version() {
        return "cuBLAS " + version / 10000 + "." + (version / 100) % 100 + "." + version % 100;
    }

    /**
     * {@code out = op(a) op(b)} with op a transpose where asked; a and b both F32 (out F32) or both BF16 (out BF16 or F32, tensor cores, fp32 accumulation). Queued on
     * this provider's stream.
     */
    public void matmul(Tensor out, Tensor a, boolean transA, Tensor b, boolean transB) {
        check(a.rank() == 2 && b.rank() == 2 && out.rank() == 2, "operands must be matrices", out, a, b);
        int m = transA ? a.dim(1) : a.dim(0), k = transA ? a.dim(0) : a.dim(1);
        int kb = transB ? b.dim(1) : b.dim(0), n = transB ? b.dim(0) : b.dim(1);
        check(k == kb && out.dim(0) == m && out.dim(1) == n, "shapes do not chain", out, a, b);
        check(a.dtype() == b.dtype() && (a.dtype() == DType.F32 || a.dtype() == DType.BF16),
                "a and b must both be F32 or both BF16", out, a, b);
        check(out.dtype() == DType.F32 || (out.dtype() == DType.BF16 && a.dtype() == DType.BF16),
                "out must be F32, or BF16 with BF16 inputs", out, a, b);
        // cuBLAS is column-major, where a row-major matrix reads as its transpose: out^T = op(b)^T op(a)^T.
        cuCtxSetCurrent(context);
        JCublas2.cublasGemmEx(handle,
                transB ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N,
                transA ? cublasOperation.CUBLAS_OP_T : cublasOperation.CUBLAS_OP_N,
                n, m, k, ONE,
                pointer(b), type(b), b.dim(1),
                pointer(a), type(a), a.dim(1),
                ZERO, pointer(out), type(out), n, cublasComputeType.CUBLAS_COMPUTE_32F, cublasGemmAlgo.CUBLAS_GEMM_DEFAULT);
    }

    /** Device milliseconds of {@code call}'s work on this provider's stream (CUDA events). */
    public float timeMillis(Runnable call) {
        CUevent start = new CUevent(), stop = new CUevent();
        cuCtxSetCurrent(context);
        cuEventCreate(start, CUevent_flags.CU_EVENT_DEFAULT);
        cuEventCreate(stop, CUevent_flags.CU_EVENT_DEFAULT);
        try {
            cuEventRecord(start, stream);
            call.run();
            cuEventRecord(stop, stream);
            cuEventSynchronize(stop);
            float[] ms = new float[1];
            cuEventElapsedTime(ms, start, stop);
            return ms[0];
        } finally {
            cuEventDestroy(start);
            cuEventDestroy(stop);
        }
    }

    /** Waits for this provider's stream. */
    public void synchronize() {
        cuCtxSetCurrent(context);
        cuStreamSynchronize(stream);
    }

    @Override
    public void close() {
        cuCtxSetCurrent(context);
        try {
            cuStreamSynchronize(stream);
            JCublas2.cublasDestroy(handle);
        } finally {
            cuStreamDestroy(stream);
            cuDevicePrimaryCtxRelease(device);
        }
    }

    private static CUdeviceptr pointer(Tensor t) {
        if (!(t.storage() instanceof DeviceBlock block)) {
            throw new IllegalArgumentException("cuBLAS gemm: " + t.describe() + " does not live on a CUDA device");
        }
        return block.pointer(t.offset() * t.dtype().bytes);
    }

    private static int type(Tensor t) {
        return t.dtype() == DType.BF16 ? cudaDataType.CUDA_R_16BF : cudaDataType.CUDA_R_32F;
    }

    private static void check(boolean ok, String what, Tensor out, Tensor a, Tensor b) {
        if (!ok) {
            throw new IllegalArgumentException("cuBLAS gemm: " + what + ": out " + out.describe() + ", a " + a.describe()
                    + ", b " + b.describe());
        }
    }

    /** The line of a native load error that names the missing library, else its first line. */
    static String brief(Throwable e) {
        String message = String.valueOf(e.getMessage());
        for (String line : message.split("\n")) {
            int at = line.indexOf("libcublas");
            if (at >= 0) return line.substring(at).trim();
        }
        return e.getClass().getSimpleName() + ": " + message.lines().findFirst().orElse("");
    }
}
