package io.electra.bench.gpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.CudaBackend;
import io.electra.kernels.CudaProbe;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * Kernel launches per second through the whole Backend path (shape checks, argument marshalling,
 * cuLaunchKernel) on a one-element tensor, so the launch, not the kernel, is what is timed. Run
 * with {@code -prof gc} to see that the path allocates nothing per launch. Without a CUDA device
 * the benchmark body does nothing and Setup says so: its number then measures nothing.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
public class LaunchOverheadBench {
    private CudaBackend gpu;
    private Tensor t;

    @Setup
    public void setUp() {
        CudaProbe probe = CudaBackend.tryCreate();
        if (!probe.isAvailable()) {
            System.out.println("LaunchOverheadBench SKIPPED: no CUDA device (" + probe.reason() + "); the score measures nothing");
            return;
        }
        gpu = probe.backend().orElseThrow();
        t = gpu.allocate(DType.F32, 1);
    }

    @Benchmark
    public void scaleOneElement() {
        if (gpu != null) gpu.scale(t, t, 1f);
    }

    @TearDown(Level.Iteration)
    public void drain() {
        if (gpu != null) gpu.synchronize();
    }

    @TearDown
    public void tearDown() {
        if (gpu != null) gpu.close();
    }
}
