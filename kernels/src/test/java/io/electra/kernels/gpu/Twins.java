package io.electra.kernels.gpu;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.kernels.CudaBackend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.Consumer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Runs the same call on the CPU reference and on the GPU and compares the results: the failure
 * names the kernel, the worst index, both values and the difference; the worst error goes into
 * the verification ledger. Fixed seed per instance.
 */
public final class Twins implements AutoCloseable {
    public final CudaBackend gpu;
    public final CpuBackend cpu;
    public final Random random;
    private final List<Tensor> owned = new ArrayList<>();

    public Twins(long seed) {
        this.gpu = Gpu.backend();  // skips before anything is allocated when there is no device
        this.cpu = new CpuBackend(2);
        this.random = new Random(seed);
    }

    /** Runs {@code call} on the CPU backend, then on the GPU backend. */
    public void both(Consumer<Backend> call) {
        call.accept(cpu);
        call.accept(gpu);
    }

    public Twin zeros(DType dtype, int... shape) {
        Twin t = new Twin(cpu.allocate(dtype, shape), gpu.allocate(dtype, shape));
        owned.add(t.gpu());
        return t;
    }

    /** Zero tensors of different dtypes or shapes on the two sides (what attention saves differs). */
    public Twin pair(DType cpuType, int[] cpuShape, DType gpuType, int[] gpuShape) {
        Twin t = new Twin(cpu.allocate(cpuType, cpuShape), gpu.allocate(gpuType, gpuShape));
        owned.add(t.gpu());
        return t;
    }

    /** Uniform in [lo, hi). */
    public Twin uniform(double lo, double hi, int... shape) {
        float[] data = new float[Math.toIntExact(Tensor.sizeOf(shape))];
        for (int i = 0; i < data.length; i++) data[i] = (float) (lo + (hi - lo) * random.nextDouble());
        return floats(data, shape);
    }

    /** Standard normal times {@code scale}. */
    public Twin normal(double scale, int... shape) {
        float[] data = new float[Math.toIntExact(Tensor.sizeOf(shape))];
        for (int i = 0; i < data.length; i++) data[i] = (float) (scale * random.nextGaussian());
        return floats(data, shape);
    }

    /**
     * Standard normal times {@code scale}, rounded to bf16: BF16 on the GPU, the same (exactly
     * representable) values as F32 on the CPU, whose F32 kernels are then the reference.
     */
    public Twin bf16Normal(double scale, int... shape) {
        float[] data = new float[Math.toIntExact(Tensor.sizeOf(shape))];
        for (int i = 0; i < data.length; i++) data[i] = (float) (scale * random.nextGaussian());
        return bf16(data, shape);
    }

    /** {@code data} rounded to bf16 (by the CPU backend's conversion): BF16 on the GPU, F32 on the CPU. */
    public Twin bf16(float[] data, int... shape) {
        Tensor rounding = cpu.allocate(DType.BF16, shape);
        cpu.upload(rounding, data);
        float[] rounded = cpu.downloadFloat(rounding);
        Twin t = new Twin(cpu.allocate(DType.F32, shape), gpu.allocate(DType.BF16, shape));
        owned.add(t.gpu());
        cpu.upload(t.cpu(), rounded);
        gpu.upload(t.gpu(), rounded);
        return t;
    }

    /** Zeros: BF16 on the GPU, F32 on the CPU. */
    public Twin bf16Zeros(int... shape) {
        Twin t = new Twin(cpu.allocate(DType.F32, shape), gpu.allocate(DType.BF16, shape));
        owned.add(t.gpu());
        return t;
    }

    public Twin floats(float[] data, int... shape) {
        Twin t = zeros(DType.F32, shape);
        cpu.upload(t.cpu(), data);
        gpu.upload(t.gpu(), data);
        return t;
    }

    /** I32 uniform in [lo, hi). */
    public Twin ints(int lo, int hi, int... shape) {
        int[] data = new int[Math.toIntExact(Tensor.sizeOf(shape))];
        for (int i = 0; i < data.length; i++) data[i] = lo + random.nextInt(hi - lo);
        return ints(data, shape);
    }

    public Twin ints(int[] data, int... shape) {
        Twin t = zeros(DType.I32, shape);
        cpu.upload(t.cpu(), data);
        gpu.upload(t.gpu(), data);
        return t;
    }

    /**
     * Every element within atol + rtol * |cpu|; returns the worst relative error
     * |gpu - cpu| / max(|cpu|, atol / rtol) and records it for {@code kernel} in the ledger.
     */
    public double expectClose(String kernel, Twin t, double atol, double rtol) {
        float[] want = cpu.downloadFloat(t.cpu()), got = gpu.downloadFloat(t.gpu());
        assertEquals(want.length, got.length, kernel + ": sizes differ");
        double worst = 0, floor = rtol > 0 ? atol / rtol : 1;
        int worstAt = -1;
        for (int i = 0; i < want.length; i++) {
            double diff = Math.abs((double) got[i] - want[i]);
            boolean same = want[i] == got[i] || (Float.isNaN(want[i]) && Float.isNaN(got[i]));
            if (!same && !(diff <= atol + rtol * Math.abs(want[i]))) {
                fail(String.format("%s on %s: element %d (of %d) is %s on the GPU, %s on the CPU, difference %.3g "
                        + "(allowed %.3g)", kernel, t.cpu().describe(), i, want.length, got[i], want[i], diff, atol + rtol * Math.abs(want[i])));
            }
            double rel = same ? 0 : diff / Math.max(Math.abs(want[i]), floor);
            if (rel > worst) {
                worst = rel;
                worstAt = i;
            }
        }
        Ledger.record(kernel, worst);
        if (worstAt >= 0) {
            System.out.printf("%-32s %-24s max rel error %.2e at %d%n", kernel, Arrays.toString(t.cpu().shape()), worst, worstAt);
        }
        return worst;
    }

    /** Bit-identical floats (masks, conversions, deterministic reductions compared run against run). */
    public void expectIdentical(String kernel, float[] want, float[] got) {
        assertEquals(want.length, got.length, kernel + ": sizes differ");
        for (int i = 0; i < want.length; i++) {
            if (Float.floatToRawIntBits(want[i]) != Float.floatToRawIntBits(got[i])) {
                fail(kernel + ": element " + i + " is " + got[i] + " but must be exactly " + want[i]);
            }
        }
        Ledger.record(kernel, 0);
    }

    public void expectSameInts(String kernel, Twin t) {
        int[] want = cpu.downloadInt(t.cpu()), got = gpu.downloadInt(t.gpu());
        for (int i = 0; i < want.length; i++) {
            if (want[i] != got[i]) fail(kernel + ": element " + i + " is " + got[i] + " on the GPU, " + want[i] + " on the CPU");
        }
        Ledger.record(kernel, 0);
    }

    @Override
    public void close() {
        cpu.close();
        for (Tensor t : owned) gpu.free(t);
        gpu.resetArena();
    }
}
