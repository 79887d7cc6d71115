package io.electra.bench.cpu;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * CPU matmul at ELECTRA-Small shapes (N = B*T = 128*128 rows, hidden 256, intermediate 1024), as
 * the linear layers use it: forward y = x W^T (NT), input gradient dX = dY W (NN), weight gradient
 * dW = dY^T X (TN). A case is "variant:M:K:N" for C[M,N] = op(A) op(B); {@code gflops} in the
 * secondary results is GFLOP/s (2*M*N*K per call). {@code threads} 0 means every available processor.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
public class MatmulBench {
    @Param({"NT:16384:256:1024", "NT:16384:1024:256", "NT:16384:256:256", "NN:16384:1024:256", "TN:1024:16384:256"})
    public String shape;

    @Param({"1", "0"})
    public int threads;

    private CpuBackend cpu;
    private Tensor a, b, c;
    private boolean transA, transB;
    private double flops;

    @Setup
    public void setup() {
        String[] s = shape.split(":");
        transA = s[0].charAt(0) == 'T';
        transB = s[0].charAt(1) == 'T';
        int m = Integer.parseInt(s[1]), k = Integer.parseInt(s[2]), n = Integer.parseInt(s[3]);
        cpu = threads == 0 ? new CpuBackend() : new CpuBackend(threads);
        a = random(transA ? new int[]{k, m} : new int[]{m, k});
        b = random(transB ? new int[]{n, k} : new int[]{k, n});
        c = cpu.allocate(DType.F32, m, n);
        flops = 2.0 * m * n * k;
    }

    private Tensor random(int[] shape) {
        Tensor t = cpu.allocate(DType.F32, shape);
        float[] v = new float[Math.toIntExact(t.size())];
        Random rnd = new Random(1);
        for (int i = 0; i < v.length; i++) v[i] = rnd.nextFloat() - 0.5f;
        cpu.upload(t, v);
        return t;
    }

    @TearDown
    public void tearDown() {
        cpu.close();
    }

    /** Counts floating-point work so JMH reports GFLOP/s next to the time. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Flops {
        public double gflop;

        @Setup(Level.Iteration)
        public void reset() {
            gflop = 0;
        }
    }

    @Benchmark
    public void matmul(Flops counter) {
        cpu.matmul(c, a, transA, b, transB, 1f, false);
        counter.gflop += flops * 1e-9;
    }
}
