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
 * LayerNorm, GELU and softmax on the CPU backend in F32 at ELECTRA-Small activation shapes
 * (N = 128*128 rows of 256 or 1024). The secondary result {@code gbytes} is GB/s of compulsory
 * traffic: a forward reads its input and writes its output (8 bytes per element); a backward reads
 * dOut, the saved input (or output) and dIn, and writes dIn (16 bytes per element).
 * {@code threads} 0 means every available processor.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector"})
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
public class RowwiseBench {
    @Param({"16384x256", "16384x1024"})
    public String shape;

    @Param({"1", "0"})
    public int threads;

    private CpuBackend cpu;
    private Tensor in, out, dOut, dIn, mean, rstd, weight, bias, dWeight, dBias;
    private double elements;

    @Setup
    public void setup() {
        String[] s = shape.split("x");
        int rows = Integer.parseInt(s[0]), cols = Integer.parseInt(s[1]);
        cpu = threads == 0 ? new CpuBackend() : new CpuBackend(threads);
        in = random(rows, cols);
        dOut = random(rows, cols);
        out = cpu.allocate(DType.F32, rows, cols);
        dIn = cpu.allocate(DType.F32, rows, cols);
        mean = cpu.allocate(DType.F32, rows);
        rstd = cpu.allocate(DType.F32, rows);
        weight = random(cols);
        bias = random(cols);
        dWeight = cpu.allocate(DType.F32, cols);
        dBias = cpu.allocate(DType.F32, cols);
        elements = (double) rows * cols;
        cpu.layerNormForward(out, mean, rstd, in, weight, bias, 1e-12f);
    }

    private Tensor random(int... shape) {
        Tensor t = cpu.allocate(DType.F32, shape);
        float[] v = new float[Math.toIntExact(t.size())];
        Random rnd = new Random(1);
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        cpu.upload(t, v);
        return t;
    }

    @TearDown
    public void tearDown() {
        cpu.close();
    }

    /** Bytes moved, so JMH reports GB/s next to calls per second. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Traffic {
        public double gbytes;

        @Setup(Level.Iteration)
        public void reset() {
            gbytes = 0;
        }
    }

    @Benchmark
    public void layerNormForward(Traffic t) {
        cpu.layerNormForward(out, mean, rstd, in, weight, bias, 1e-12f);
        t.gbytes += 8e-9 * elements;
    }

    @Benchmark
    public void layerNormBackward(Traffic t) {
        cpu.layerNormBackward(dIn, dWeight, dBias, dOut, in, mean, rstd, weight);
        t.gbytes += 16e-9 * elements;
    }

    @Benchmark
    public void geluForward(Traffic t) {
        cpu.geluForward(out, in);
        t.gbytes += 8e-9 * elements;
    }

    @Benchmark
    public void geluBackward(Traffic t) {
        cpu.geluBackward(dIn, dOut, in);
        t.gbytes += 16e-9 * elements;
    }

    @Benchmark
    public void softmaxForward(Traffic t) {
        cpu.softmaxForward(out, in);
        t.gbytes += 8e-9 * elements;
    }

    @Benchmark
    public void softmaxBackward(Traffic t) {
        cpu.softmaxBackward(dIn, dOut, out);
        t.gbytes += 16e-9 * elements;
    }
}
