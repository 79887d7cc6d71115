package io.electra.bench.step;

import io.electra.bench.Flags;
import io.electra.engine.Backend;
import io.electra.engine.ParameterTable;
import io.electra.engine.Precision;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.model.Preset;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The device-memory traffic and the kernel calls of one training step, counted from the backend calls
 * the model makes (a proxy in front of the CPU backend; no GPU needed). A GPU step of a small model is
 * bound by these bytes, not by its matmul FLOPs, so this is where its time goes before any timer runs.
 *
 * <p>Counting rule: every tensor argument of a call is one pass over its bytes (read or written); the
 * output of a call that adds into it ({@code *Backward}, {@code accumulate}, a matmul with accumulate,
 * scatter-add, a heads split or merge with accumulate, linearOutputGrad's dBias but not the gradOut it
 * overwrites) counts twice (read and written); a zero-filled arena tensor counts one write; the
 * optimizer's table calls count the table's tensors (the update its gradients twice: read, then
 * zeroed). Caches are ignored, so this is what a kernel that streams its operands once moves, not a
 * measurement.
 *
 * <p>{@code java -cp bench.jar io.electra.bench.step.StepTraffic --preset small --batch 8 --seq 128
 * --precision bf16 [--objective electra|mlm] [--bandwidth-gbs 4300] [--by-shape true]}; {@code --by-shape}
 * splits each method's row by its arguments' dtypes and shapes (which matmul, which LayerNorm).
 */
public final class StepTraffic implements InvocationHandler {
    private final Backend target;
    private final Map<String, long[]> callsAndBytes = new TreeMap<>();
    private final boolean byShape;
    private boolean counting;

    private StepTraffic(Backend target, boolean byShape) {
        this.target = target;
        this.byShape = byShape;
    }

    /** A view of {@code target} that counts, and the counts it fills. */
    public static Map.Entry<Backend, StepTraffic> wrap(Backend target) {
        return wrap(target, false);
    }

    /** As {@link #wrap(Backend)}; {@code byShape} counts each method's calls per argument dtypes, shapes and flags. */
    public static Map.Entry<Backend, StepTraffic> wrap(Backend target, boolean byShape) {
        StepTraffic t = new StepTraffic(target, byShape);
        Backend proxy = (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[]{Backend.class}, t);
        return Map.entry(proxy, t);
    }

    public void start() {
        callsAndBytes.clear();
        counting = true;
    }

    public void stop() {
        counting = false;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
        Object result;
        try {
            result = method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
        if (counting) count(method.getName(), args, result);
        return result;
    }

    private void count(String name, Object[] args, Object result) {
        switch (name) {
            case "allocateTemp" -> add("zero-fill (arena)", ((Tensor) result).size() * ((Tensor) result).dtype().bytes);
            case "fill" -> add(name, bytes(args[0]));
            case "allocate", "allocateTempUnfilled", "resetArena", "free", "memoryStats", "name", "synchronize",
                    "setRngStepOffset", "attentionSavedShape", "captureStep", "close", "parameterTable" -> { }
            case "gradSumSquares" -> add(name, bytes(args[0]) + bytes(((ParameterTable) args[1]).grads()));
            case "adamwStepAll" -> {  // every parameter's tensors once, and the gradients twice: read, then zeroed
                ParameterTable t = (ParameterTable) args[0];
                add(name, bytes(t.params()) + 2 * bytes(t.grads()) + bytes(t.m()) + bytes(t.v()) + bytes(t.bf16Copies())
                        + bytes(args[1]) + bytes(args[2]));
            }
            case "upload", "downloadFloat", "downloadDouble", "downloadInt" -> { }  // host transfers: not device traffic
            default -> {
                long b = 0;
                if (args != null) for (Object a : args) b += bytes(a);
                if (name.equals("dropoutAddLayerNormBackward")) {  // dX and dResidual as flagged; dWeight and dBias add
                    b += ((Boolean) args[1] ? bytes(args[0]) : 0) + ((Boolean) args[3] ? bytes(args[2]) : 0)
                            + bytes(args[4]) + bytes(args[5]);
                } else if (name.equals("dropoutAddLayerNormBackwardToLinear")) {  // dX written; its bias, dWeight, dBias add
                    b += bytes(args[1]) + ((Boolean) args[3] ? bytes(args[2]) : 0) + bytes(args[4]) + bytes(args[5]);
                } else if (name.equals("matmulGeluBackward") || name.equals("crossEntropyBackwardToLinear")) {
                    // the gradient written, dBias (args[1]) added into
                    b += bytes(args[1]);
                } else if (name.equals("attentionBackwardQkv")) {  // dQkv overwritten unless accumulating
                    b += (Boolean) args[1] ? bytes(args[0]) : 0;
                } else {
                    int accumulated = accumulatedOutputs(name, args);
                    for (int i = 0; i < accumulated; i++) b += bytes(args[i]);
                    if (name.equals("linearOutputGrad")) b += bytes(args[1]);  // gradOut written, dBias (args[1]) added into
                }
                String key = name.equals("matmul") ? "matmul " + ((Boolean) args[2] ? "T" : "N") + ((Boolean) args[4] ? "T" : "N")
                        : name;
                add(byShape ? withShapes(key, args) : key, b);
            }
        }
    }

    /** "matmul NN F32[4096, 256] BF16[4096, 1024] false ...": the key with every tensor's dtype and shape, and every flag. */
    private static String withShapes(String key, Object[] args) {
        StringBuilder sb = new StringBuilder(key);
        for (Object a : args) {
            if (a instanceof Tensor t) sb.append(' ').append(t.dtype()).append(Arrays.toString(t.shape()));
            else if (a instanceof Boolean flag) sb.append(' ').append(flag);
        }
        return sb.toString();
    }

    /** How many leading arguments the call adds into (read as well as written). */
    private static int accumulatedOutputs(String name, Object[] args) {
        if (name.equals("matmul")) return (Boolean) args[6] ? 1 : 0;
        if (name.equals("splitHeads") || name.equals("mergeHeads")) return (Boolean) args[args.length - 1] ? 1 : 0;
        if (name.equals("mergeHeadsQkv")) return (Boolean) args[4] ? 1 : 0;  // dIn; splitHeadsQkv overwrites q, k, v
        if (name.equals("attentionBackward") || name.equals("layerNormBackward")) return 3;
        if (name.endsWith("Backward") || name.equals("accumulate") || name.equals("scatterAddRows")
                || name.equals("sumSquaresAccumulate")) return 1;
        return 0;
    }

    private static long bytes(Object a) {
        if (a instanceof Tensor t) return t.size() * t.dtype().bytes;
        if (a instanceof List<?> l) {
            long b = 0;
            for (Object o : l) b += bytes(o);
            return b;
        }
        return 0;
    }

    private void add(String key, long bytes) {
        long[] s = callsAndBytes.computeIfAbsent(key, k -> new long[2]);
        s[0]++;
        s[1] += bytes;
    }

    /** Calls and bytes per method, largest traffic first. */
    public Map<String, long[]> byMethod() {
        Map<String, long[]> out = new LinkedHashMap<>();
        callsAndBytes.entrySet().stream().sorted(Comparator.comparingLong((Map.Entry<String, long[]> e) -> -e.getValue()[1]))
                .forEach(e -> out.put(e.getKey(), e.getValue().clone()));
        return out;
    }

    public long totalBytes() {
        return callsAndBytes.values().stream().mapToLong(s -> s[1]).sum();
    }

    public long totalCalls() {
        return callsAndBytes.values().stream().mapToLong(s -> s[0]).sum();
    }

    public static void main(String[] argv) {
        Flags f = new Flags(argv, Set.of("preset", "batch", "seq", "precision", "objective", "bandwidth-gbs", "threads", "by-shape"));
        Preset preset = Preset.named(f.get("preset", "small"));
        int batch = f.getInt("batch", 8), seq = f.getInt("seq", 128);
        Precision precision = Precision.parse(f.get("precision", "bf16"));
        Objective objective = Objective.parse(f.get("objective", "electra"));
        double bandwidth = Double.parseDouble(f.get("bandwidth-gbs", "4300"));
        try (Backend cpu = new CpuBackend(f.getInt("threads", Runtime.getRuntime().availableProcessors()))) {
            Map.Entry<Backend, StepTraffic> w = wrap(cpu, Boolean.parseBoolean(f.get("by-shape", "false")));
            try (StepHarness h = new StepHarness(w.getKey(), preset, objective, batch, seq, 1, precision, false)) {
                h.step();                       // first step: the optimizer state and caches come into being
                w.getValue().start();
                h.step();
                w.getValue().stop();
            }
            print(w.getValue(), preset.name(), objective.key(), batch, seq, precision, bandwidth);
        }
    }

    private static void print(StepTraffic t, String preset, String objective, int batch, int seq, Precision precision,
                              double bandwidthGbs) {
        long tokens = (long) batch * seq, total = t.totalBytes();
        System.out.printf(Locale.ROOT, "%s %s, batch %d x seq %d, %s: %d backend calls, %.1f MB per step (%.0f bytes per token)%n",
                objective, preset, batch, seq, precision, t.totalCalls(), total / 1e6, (double) total / tokens);
        System.out.printf(Locale.ROOT, "at %.0f GB/s that traffic alone takes %.3f ms%n", bandwidthGbs, total / bandwidthGbs / 1e6);
        System.out.printf(Locale.ROOT, "%-24s %8s %12s %7s%n", "method", "calls", "MB", "share");
        t.byMethod().forEach((k, v) -> System.out.printf(Locale.ROOT, "%-24s %8d %12.1f %6.1f%%%n", k, v[0], v[1] / 1e6,
                100.0 * v[1] / total));
    }
}
