package io.electra.kernels.runtime;

import jcuda.CudaException;
import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.CUjit_option;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.JITOptions;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuModuleGetFunction;
import static jcuda.driver.JCudaDriver.cuModuleLoadData;
import static jcuda.driver.JCudaDriver.cuModuleLoadDataJIT;
import static jcuda.driver.JCudaDriver.cuModuleUnload;

/**
 * One family's committed PTX, JIT-compiled by the driver for the device in the current context,
 * with the parameter list of each entry read from the same text (every launch is checked against it).
 */
final class PtxModule implements AutoCloseable {
    private static final int LOG_BYTES = 16384;
    private final Family family;
    private final CUmodule module;
    private final Map<String, KernelSignature> signatures;

    private PtxModule(Family family, CUmodule module, Map<String, KernelSignature> signatures) {
        this.family = family;
        this.module = module;
        this.signatures = signatures;
    }

    /** Loads with cuModuleLoadDataEx (through JCuda's JITOptions), keeping the JIT logs for the error. */
    static PtxModule load(Family family) {
        byte[] ptx = family.ptx();
        Map<String, KernelSignature> signatures = PtxSignatures.parse(new String(ptx, StandardCharsets.US_ASCII), family.fileName());
        byte[] terminated = Arrays.copyOf(ptx, ptx.length + 1);  // the driver reads PTX as a C string
        JITOptions options = new JITOptions();
        options.putBytes(CUjit_option.CU_JIT_ERROR_LOG_BUFFER, new byte[LOG_BYTES]);
        options.putInt(CUjit_option.CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES, LOG_BYTES);
        options.putBytes(CUjit_option.CU_JIT_INFO_LOG_BUFFER, new byte[LOG_BYTES]);
        options.putInt(CUjit_option.CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES, LOG_BYTES);
        CUmodule module = new CUmodule();
        int rc;
        String thrown = "";
        try {
            rc = cuModuleLoadDataJIT(module, Pointer.to(terminated), options);
        } catch (CudaException e) {
            rc = CUresult.CUDA_ERROR_UNKNOWN;
            thrown = " (" + e.getMessage() + ")";
        }
        if (rc != CUresult.CUDA_SUCCESS && loadsWithoutOptions(module, terminated)) {
            rc = CUresult.CUDA_SUCCESS;  // only JCuda's option marshalling failed; the PTX itself is fine
        }
        if (rc != CUresult.CUDA_SUCCESS) {
            throw new IllegalStateException("cannot load module " + family.fileName() + ": " + CUresult.stringFor(rc) + thrown
                    + "\nJIT error log:\n" + log(options, CUjit_option.CU_JIT_ERROR_LOG_BUFFER)
                    + "\nJIT info log:\n" + log(options, CUjit_option.CU_JIT_INFO_LOG_BUFFER));
        }
        return new PtxModule(family, module, signatures);
    }

    private static boolean loadsWithoutOptions(CUmodule module, byte[] ptx) {
        try {
            return cuModuleLoadData(module, ptx) == CUresult.CUDA_SUCCESS;
        } catch (CudaException e) {
            return false;
        }
    }

    private static String log(JITOptions options, int key) {
        String s = options.getString(key);
        return s == null || s.isBlank() ? "(empty)" : s.strip();
    }

    /** The entry point {@code name}, looked up once by the family launcher and cached there. */
    Kernel kernel(String name) {
        CUfunction f = new CUfunction();
        try {
            cuModuleGetFunction(f, module, name);
        } catch (CudaException e) {
            throw new IllegalStateException("kernel " + name + " not found in module " + family.fileName()
                    + " (" + e.getMessage() + "); rebuild the PTX with kernels/scripts/build-ptx.sh", e);
        }
        KernelSignature signature = signatures.get(name);
        if (signature == null) {
            throw new IllegalStateException("the driver found kernel " + name + " in module " + family.fileName()
                    + " but its parameter list was not read from the PTX (entries read: " + signatures.keySet() + ")");
        }
        return new Kernel(family, name, f, signature);
    }

    @Override
    public void close() {
        cuModuleUnload(module);
    }
}
