package io.electra.bench.cpu;

import io.electra.engine.Backend;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.bench.step.StepHarness;
import io.electra.bench.step.Objective;
import io.electra.model.Preset;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Times whole ELECTRA pre-training steps (masking, generator and discriminator forward, backward,
 * AdamW) on the CPU backend through {@link StepHarness} (synthetic rows, a step as the trainer runs it).
 * Prints ms/step per preset and, with {@code --ops}, a per-backend-method breakdown measured in a
 * second pass through a timing proxy (the proxy's own cost is a few hundred nanoseconds a call).
 *
 * <pre>
 *   java --add-modules jdk.incubator.vector -cp bench/target/benchmarks.jar \
 *       io.electra.bench.cpu.CpuStepProfile [--steps 20] [--warmup 5] [--threads N] [--ops] tiny:16 small2l:8
 * </pre>
 * A case is {@code preset:batch[:seq]} (seq defaults to 128). The machine this runs on is usually
 * shared: compare variants back to back and report ratios.
 */
public final class CpuStepProfile {
    private static final long SEED = 1234;

    private CpuStepProfile() {
    }

    public static void main(String[] args) {
        int steps = 20, warmup = 5, threads = Runtime.getRuntime().availableProcessors();
        boolean ops = false;
        List<String> cases = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--steps" -> steps = Integer.parseInt(args[++i]);
                case "--warmup" -> warmup = Integer.parseInt(args[++i]);
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--ops" -> ops = true;
                default -> cases.add(args[i]);
            }
        }
        if (cases.isEmpty()) cases = List.of("tiny:16", "small2l:8");
        System.out.printf("threads %d, %d warm-up + %d timed steps per case%n", threads, warmup, steps);
        for (String c : cases) {
            String[] s = c.split(":");
            int batch = Integer.parseInt(s[1]), seq = s.length > 2 ? Integer.parseInt(s[2]) : 128;
            try (CpuBackend cpu = new CpuBackend(threads)) {
                Timing timing = ops ? new Timing() : null;
                Backend b = ops ? timing.wrap(cpu) : cpu;
                StepHarness step = new StepHarness(b, Preset.named(s[0]), Objective.ELECTRA, batch, seq, SEED);
                double loss = 0;
                for (int i = 0; i < warmup; i++) step.step();
                if (timing != null) timing.clear();
                double[] ms = new double[steps];
                for (int i = 0; i < steps; i++) {
                    long t0 = System.nanoTime();
                    loss = step.step();
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
                double[] sorted = ms.clone();
                Arrays.sort(sorted);
                double mean = Arrays.stream(ms).average().orElse(0);
                System.out.printf("%-8s b%-3d t%-4d ms/step: median %8.1f  min %8.1f  mean %8.1f  (loss %.4f, arena %d MB)%n",
                        s[0], batch, seq, sorted[steps / 2], sorted[0], mean, loss, b.memoryStats().arenaCapacityBytes() >> 20);
                if (timing != null) timing.print(steps, mean);
            }
        }
    }

    /** Nanoseconds and calls per backend method, collected through a dynamic proxy. */
    private static final class Timing {
        final Map<String, long[]> byMethod = new LinkedHashMap<>(); // name -> {nanos, calls}

        Backend wrap(Backend target) {
            InvocationHandler h = (proxy, method, args) -> {
                long t0 = System.nanoTime();
                try {
                    return method.invoke(target, args);
                } catch (InvocationTargetException e) {
                    throw e.getCause();
                } finally {
                    long[] acc = byMethod.computeIfAbsent(label(method.getName(), args), k -> new long[2]);
                    acc[0] += System.nanoTime() - t0;
                    acc[1]++;
                }
            };
            return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, h);
        }

        /** The method name; for matmul also its variant and M x N x K, the shapes that decide its speed. */
        static String label(String method, Object[] args) {
            if (!method.equals("matmul")) return method;
            Tensor out = (Tensor) args[0], a = (Tensor) args[1];
            boolean ta = (Boolean) args[2], tb = (Boolean) args[4];
            int k = ta ? a.dim(-2) : a.dim(-1);
            return "matmul " + (ta ? "T" : "N") + (tb ? "T" : "N") + " " + out.dim(-2) + "x" + out.dim(-1) + "x" + k;
        }

        void clear() {
            byMethod.clear();
        }

        void print(int steps, double meanStepMs) {
            double total = 0;
            for (long[] a : byMethod.values()) total += a[0] / 1e6 / steps;
            System.out.printf("  per step: %.1f ms in backend calls of %.1f ms%n", total, meanStepMs);
            byMethod.entrySet().stream()
                    .sorted((x, y) -> Long.compare(y.getValue()[0], x.getValue()[0]))
                    .filter(e -> e.getValue()[0] / 1e6 / steps >= 0.05)
                    .forEach(e -> System.out.printf("  %-30s %8.2f ms %5.1f%%  %5d calls%n", e.getKey(),
                            e.getValue()[0] / 1e6 / steps, 100 * e.getValue()[0] / 1e6 / steps / meanStepMs,
                            e.getValue()[1] / steps));
        }
    }
}
