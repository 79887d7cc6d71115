package io.electra.bench.cpu;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Tape;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.nn.Init;
import io.electra.engine.nn.Parameter;
import io.electra.engine.optim.AdamW;
import io.electra.engine.optim.AdamWConfig;
import io.electra.model.ElectraInputs;
import io.electra.model.ElectraPretraining;
import io.electra.model.Masking;
import io.electra.model.Preset;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Times whole ELECTRA pre-training steps (masking, generator and discriminator forward, backward,
 * AdamW) on the CPU backend, with synthetic rows, exactly as {@code ElectraTrainer} runs a step.
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
    private static final int CLS = 101, SEP = 102, MASK = 103, PAD = 0;
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
                Step step = new Step(b, Preset.named(s[0]), batch, seq);
                for (int i = 0; i < warmup; i++) step.run(i);
                if (timing != null) timing.clear();
                double[] ms = new double[steps];
                for (int i = 0; i < steps; i++) {
                    long t0 = System.nanoTime();
                    step.run(warmup + i);
                    ms[i] = (System.nanoTime() - t0) / 1e6;
                }
                double[] sorted = ms.clone();
                Arrays.sort(sorted);
                double mean = Arrays.stream(ms).average().orElse(0);
                System.out.printf("%-8s b%-3d t%-4d ms/step: median %8.1f  min %8.1f  mean %8.1f  (loss %.4f, arena %d MB, %d new arrays last step)%n",
                        s[0], batch, seq, sorted[steps / 2], sorted[0], mean, step.lastLoss,
                        b.memoryStats().arenaCapacityBytes() >> 20, step.arenaAllocations);
                if (timing != null) timing.print(steps, mean);
            }
        }
    }

    /** One model, optimizer and synthetic data source; {@link #run} is one training step. */
    private static final class Step {
        final Backend b;
        final int batch, seq;
        final ElectraPretraining model;
        final AdamW opt;
        final Masking masking;
        final Tape tape;
        final Ops ops;
        final int[] ids, types, mask;
        final ElectraInputs inputs;
        final ElectraPretraining.DeviceMasking deviceMasking;
        final SplittableRandom rng = new SplittableRandom(SEED);
        double lastLoss;
        long arenaAllocations;

        Step(Backend b, Preset preset, int batch, int seq) {
            this.b = b;
            this.batch = batch;
            this.seq = seq;
            model = new ElectraPretraining(b, preset.generator(), preset.discriminator(), 50f);
            for (Parameter p : model.parameters()) {
                String n = p.name();
                if (n.endsWith("LayerNorm.weight")) Init.ones(p);
                else if (n.endsWith(".bias")) Init.zeros(p);
                else Init.truncatedNormal(p, preset.discriminator().initializerRange, SEED);
            }
            opt = new AdamW(b, model.parameters(), AdamWConfig.electra());
            int vocab = preset.discriminator().vocabSize;
            masking = new Masking(Masking.defaultMaxPredictions(preset.maskProb(), seq), preset.maskProb(), CLS, SEP, MASK,
                    PAD, vocab, Masking.Style.ELECTRA);
            tape = new Tape(b);
            ops = new Ops(tape);
            int n = batch * seq, k = batch * masking.maxPredictions();
            ids = new int[n];
            types = new int[n];
            mask = new int[n];
            inputs = ElectraInputs.upload(b, batch, seq, ids, types, mask);
            deviceMasking = new ElectraPretraining.DeviceMasking(b.allocate(DType.I32, batch, seq), b.allocate(DType.I32, k),
                    b.allocate(DType.I32, k), b.allocate(DType.I32, k));
        }

        /** Rows of random word pieces between [CLS] and [SEP], every other row padded after a random length. */
        void nextRows(int vocab) {
            for (int r = 0; r < batch; r++) {
                int len = r % 2 == 0 ? seq : 8 + rng.nextInt(seq - 8);
                for (int t = 0; t < seq; t++) {
                    int i = r * seq + t;
                    ids[i] = t >= len ? PAD : t == 0 ? CLS : t == len - 1 ? SEP : 1000 + rng.nextInt(vocab - 1000);
                    types[i] = 0;
                    mask[i] = t < len ? 1 : 0;
                }
            }
        }

        void run(long stream) {
            nextRows(model.discriminator.config.vocabSize);
            Masking.Batch m = masking.apply(ids, mask, batch, seq, new RngKey(SEED, stream, RngKey.MASKING));
            b.upload(inputs.ids(), ids);
            b.upload(inputs.tokenTypes(), types);
            b.upload(inputs.attentionMask(), mask);
            b.upload(deviceMasking.generatorIds(), m.maskedIds());
            b.upload(deviceMasking.rows(), m.rows());
            b.upload(deviceMasking.targets(), m.targets());
            b.upload(deviceMasking.replaceAt(), m.replaceAt());
            ops.setRng(SEED, stream);
            ops.setTraining(true);
            try {
                var o = model.forward(ops, inputs, deviceMasking, null, new RngKey(SEED, stream, RngKey.GUMBEL), null);
                tape.backward(o.total());
                lastLoss = b.downloadFloat(o.total().value())[0];
                arenaAllocations = b.memoryStats().arenaAllocationsSinceWarm();
            } finally {
                tape.reset();
                b.resetArena();
            }
            opt.step(1e-4);
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
