package io.electra.kernels.runtime;

import jcuda.CudaException;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.CUstream;
import jcuda.driver.CUstream_flags;
import jcuda.driver.JCudaDriver;

import java.nio.charset.StandardCharsets;
import java.util.EnumMap;
import java.util.Map;

import static jcuda.driver.JCudaDriver.cuCtxSetCurrent;
import static jcuda.driver.JCudaDriver.cuDeviceGet;
import static jcuda.driver.JCudaDriver.cuDeviceGetAttribute;
import static jcuda.driver.JCudaDriver.cuDeviceGetCount;
import static jcuda.driver.JCudaDriver.cuDeviceGetName;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRelease;
import static jcuda.driver.JCudaDriver.cuDevicePrimaryCtxRetain;
import static jcuda.driver.JCudaDriver.cuDeviceTotalMem;
import static jcuda.driver.JCudaDriver.cuDriverGetVersion;
import static jcuda.driver.JCudaDriver.cuInit;
import static jcuda.driver.JCudaDriver.cuStreamCreate;
import static jcuda.driver.JCudaDriver.cuStreamDestroy;
import static jcuda.driver.JCudaDriver.cuStreamSynchronize;

/**
 * Everything one device needs: its primary context, one compute stream, the modules of every
 * kernel family, the allocator, staging, workspace, error word and launcher. {@link #open}
 * either returns a working runtime or throws {@link CudaUnavailableException} with the reason;
 * it never lets a missing driver or device take the JVM down.
 */
public final class CudaRuntime implements AutoCloseable {
    /**
     * System property: the path of the CPU emulation of the CUDA driver (kernels/emulator/build.sh
     * makes it). Loaded before JCuda, whose native library then binds to it instead of the NVIDIA
     * driver, so the backend and its gpu tests run on the CPU. For tests; it verifies no kernel on
     * a GPU (see {@link #emulated()}).
     */
    public static final String EMULATOR = "electra.cuda.emulator";
    private static boolean exceptionsEnabled;
    private static volatile boolean emulated;

    private final CUdevice device;
    private final CUcontext context;
    private final CUstream stream;
    private final String deviceName;
    private final int driverVersion, multiprocessors, computeMajor, computeMinor;
    private final long totalMemory;
    private final Map<Family, PtxModule> modules = new EnumMap<>(Family.class);
    private final DeviceAllocator allocator;
    private final PinnedStaging staging = new PinnedStaging();
    private final Transfers transfers;
    private final Workspace workspace;
    private final ErrorWord errors;
    private final RngStepOffsetWord rngStepOffset;
    private final Launcher launcher;
    private volatile Thread boundThread;

    private CudaRuntime(CUdevice device, CUcontext context, CUstream stream, String deviceName, int driverVersion,
                        int multiprocessors, int computeMajor, int computeMinor, long totalMemory) {
        this.device = device;
        this.context = context;
        this.stream = stream;
        this.deviceName = deviceName;
        this.driverVersion = driverVersion;
        this.multiprocessors = multiprocessors;
        this.computeMajor = computeMajor;
        this.computeMinor = computeMinor;
        this.totalMemory = totalMemory;
        this.boundThread = Thread.currentThread();
        this.allocator = new DeviceAllocator(stream);
        this.transfers = new Transfers(stream, staging);
        this.workspace = new Workspace(allocator, stream);
        this.errors = new ErrorWord(allocator, stream);
        this.rngStepOffset = new RngStepOffsetWord(allocator, stream);
        this.launcher = new Launcher(stream, errors, rngStepOffset, multiprocessors);
    }

    /** The oldest driver (cuDriverGetVersion form) that accepts every committed PTX file. */
    public static int requiredDriverVersion() {
        int required = 0;
        for (Family f : Family.values()) {
            int[] isa = PtxVersion.isa(f.ptx(), f.fileName());
            required = Math.max(required, PtxVersion.requiredDriver(isa[0], isa[1]));
        }
        return required;
    }

    /** Opens device {@code ordinal}, or says why it cannot. */
    public static CudaRuntime open(int ordinal) throws CudaUnavailableException {
        int required;
        try {
            required = requiredDriverVersion();
        } catch (RuntimeException e) {
            throw new CudaUnavailableException("the committed PTX cannot be read: " + e.getMessage(), e);
        }
        try {
            loadEmulatorIfAsked();
            enableExceptions();
            cuInit(0);
        } catch (LinkageError e) {  // UnsatisfiedLinkError, NoClassDefFoundError after a failed static init
            throw new CudaUnavailableException("the CUDA driver library could not be loaded (no NVIDIA driver here?): "
                    + brief(e), e);
        } catch (CudaException e) {
            throw new CudaUnavailableException("cuInit failed: " + e.getMessage(), e);
        } catch (Throwable e) {
            throw new CudaUnavailableException("JCuda could not start: " + e, e);
        }
        CUcontext context = null;
        CUdevice device = new CUdevice();
        CUstream stream = null;
        try {
            int[] value = new int[1];
            cuDriverGetVersion(value);
            int driver = value[0];
            if (driver < required) {
                throw new CudaUnavailableException("the NVIDIA driver supports CUDA " + PtxVersion.cudaVersion(driver)
                        + " but the committed PTX needs CUDA " + PtxVersion.cudaVersion(required)
                        + (required >= 13000 ? " (driver 580 or newer)" : "") + ": update the driver", null);
            }
            cuDeviceGetCount(value);
            if (value[0] <= ordinal) {
                throw new CudaUnavailableException(value[0] == 0 ? "no CUDA device"
                        : "no CUDA device " + ordinal + " (" + value[0] + " present)", null);
            }
            cuDeviceGet(device, ordinal);
            byte[] name = new byte[256];
            cuDeviceGetName(name, name.length, device);
            String deviceName = new String(name, StandardCharsets.US_ASCII).trim().replace("\0", "");
            int major = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
            int minor = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
            if (major < 8) {
                throw new CudaUnavailableException(deviceName + " has compute capability " + major + "." + minor
                        + "; the kernels are built for 8.0 (Ampere) and newer", null);
            }
            int sms = attribute(device, CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
            long[] total = new long[1];
            cuDeviceTotalMem(total, device);
            context = new CUcontext();
            cuDevicePrimaryCtxRetain(context, device);
            cuCtxSetCurrent(context);
            stream = new CUstream();
            cuStreamCreate(stream, CUstream_flags.CU_STREAM_NON_BLOCKING);
            CudaRuntime runtime = new CudaRuntime(device, context, stream, deviceName, driver, sms, major, minor, total[0]);
            try {
                for (Family f : Family.values()) {
                    if (f.runsOn(major, minor)) runtime.modules.put(f, PtxModule.load(f));
                }
            } catch (RuntimeException e) {
                runtime.close();
                throw new CudaUnavailableException(e.getMessage(), e);
            }
            return runtime;
        } catch (CudaUnavailableException e) {
            throw e;
        } catch (Throwable e) {
            if (stream != null) cuStreamDestroy(stream);
            if (context != null) cuDevicePrimaryCtxRelease(device);
            throw new CudaUnavailableException("CUDA device " + ordinal + " could not be opened: " + e, e);
        }
    }

    /** The informative line of JCuda's multi-line load error (the one naming libcuda), else its first line. */
    private static String brief(Throwable e) {
        String message = String.valueOf(e.getMessage());
        for (String line : message.split("\n")) {
            if (line.contains("libcuda")) return line.substring(line.indexOf("libcuda")).trim();
        }
        return e.getClass().getSimpleName() + ": " + message.lines().findFirst().orElse("");
    }

    /** True when the driver in this JVM is the CPU emulation ({@link #EMULATOR}), not a GPU. */
    public static boolean emulated() {
        return emulated;
    }

    private static synchronized void loadEmulatorIfAsked() throws CudaUnavailableException {
        String path = System.getProperty(EMULATOR, "");
        if (path.isBlank() || emulated) return;
        if (!java.nio.file.Files.isRegularFile(java.nio.file.Path.of(path))) {
            throw new CudaUnavailableException(EMULATOR + " names " + path + ", which does not exist (build it with "
                    + "kernels/emulator/build.sh)", null);
        }
        System.load(java.nio.file.Path.of(path).toAbsolutePath().toString());  // before JCuda's library needs libcuda.so.1
        emulated = true;
    }

    private static synchronized void enableExceptions() {
        if (!exceptionsEnabled) {
            JCudaDriver.setExceptionsEnabled(true);
            exceptionsEnabled = true;
        }
    }

    private static int attribute(CUdevice device, int attribute) {
        int[] v = new int[1];
        cuDeviceGetAttribute(v, attribute, device);
        return v[0];
    }

    /** Makes the context current on the calling thread (cheap when it already is). */
    public void bind() {
        Thread t = Thread.currentThread();
        if (boundThread != t) {
            cuCtxSetCurrent(context);
            boundThread = t;
        }
    }

    /** Kernel {@code name} of {@code family}; launchers call this once and keep the handle. */
    public Kernel kernel(Family family, String name) {
        PtxModule module = modules.get(family);
        if (module == null) {
            throw new IllegalStateException("module " + family.fileName() + " is built for " + family.target()
                    + " and not loaded on " + deviceName + " (compute capability " + computeCapability() + ")");
        }
        return module.kernel(name);
    }

    /** Whether {@code family}'s module is loaded: false for an architecture-specific family the device cannot run. */
    public boolean has(Family family) {
        return modules.containsKey(family);
    }

    /** Waits for the stream, then reports out-of-range device data seen since the last check. */
    public void synchronize() {
        cuStreamSynchronize(stream);
        errors.check();
    }

    /** Captures what {@code step} enqueues on the compute stream as a replayable graph (see CudaGraph). */
    public CudaGraph capture(Runnable step) throws CudaGraph.GraphCaptureException {
        bind();
        CudaGraph graph;
        launcher.capturing(true);  // no per-launch synchronize inside (checkEachLaunch)
        try {
            graph = CudaGraph.capture(this, stream, step);
        } finally {
            launcher.capturing(false);
        }
        allocator.graphCaptured();  // CudaGraph.close() ends the hold
        return graph;
    }

    public GpuTimer timer() {
        return new GpuTimer(stream);
    }

    public CUstream stream() { return stream; }
    public Launcher launcher() { return launcher; }
    public DeviceAllocator allocator() { return allocator; }
    public Transfers transfers() { return transfers; }
    public Workspace workspace() { return workspace; }
    public RngStepOffsetWord rngStepOffset() { return rngStepOffset; }
    public String deviceName() { return deviceName; }
    public int driverVersion() { return driverVersion; }
    public int multiprocessors() { return multiprocessors; }
    public long totalMemory() { return totalMemory; }
    public String computeCapability() { return computeMajor + "." + computeMinor; }

    @Override
    public void close() {
        bind();
        try {
            cuStreamSynchronize(stream);
        } finally {
            for (PtxModule m : modules.values()) m.close();
            modules.clear();
            workspace.close();
            errors.close();
            rngStepOffset.close();
            allocator.close();
            staging.close();
            cuStreamDestroy(stream);
            cuDevicePrimaryCtxRelease(device);
        }
    }
}
