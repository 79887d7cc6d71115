package io.electra.engine.optim;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.ParameterTable;
import io.electra.engine.Tensor;
import io.electra.engine.io.SafeTensorsFile;
import io.electra.engine.io.SafeTensorsWriter;
import io.electra.engine.nn.Parameter;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.function.ToDoubleFunction;

/**
 * AdamW over a fixed list of F32 parameters, entirely through the backend, so the same step runs on
 * the CPU and, unchanged, inside a captured CUDA graph. One step:
 * <ol>
 *   <li>one host upload of the per-group hyper rows {@code [bc1, bc2, lr * multiplier]}, where a group
 *       is the set of parameters sharing a learning-rate multiplier (layer-wise decay gives one group
 *       per depth; without multipliers there is one);</li>
 *   <li>the global gradient norm: {@code sumSquares[] = sum over parameters of |grad|^2}
 *       ({@link Backend#gradSumSquares}) and, when clipping is on,
 *       {@code scale[] = min(1, maxNorm / (norm + 1e-6))}, both on the device;</li>
 *   <li>{@link Backend#adamwStepAll}: {@link Backend#adamwStep} for each parameter, with weight decay
 *       only where {@code decay()} and its group's hyper row, refreshing its bf16 copy (mixed
 *       precision) where it has one; then every gradient zeroed, ready for the next accumulation.</li>
 * </ol>
 * Step 1 is the only host work ({@link #prepareStep}); the rest ({@link #runStep}) can be captured in a
 * CUDA graph, and is three backend calls whatever the number of parameters (four launches on the
 * GPU, ~1600 when each parameter took its own three calls, for ELECTRA-Small's 402 tensors). The
 * backend's {@link ParameterTable} of the parameters is built once, here, and rebuilt only if a
 * parameter's bf16 copy comes or goes. Moments m and v are F32 tensors shaped like their parameter,
 * zero at the start.
 */
public final class AdamW implements AutoCloseable {
    public static final String STEPS_METADATA = "adamw.steps";
    static final String M_SUFFIX = ".adam_m";
    static final String V_SUFFIX = ".adam_v";

    private final Backend backend;
    private final AdamWConfig config;
    private final List<Parameter> params;
    private final Tensor[] m;          // per parameter, its shape
    private final Tensor[] v;          // per parameter, its shape
    private final int[] group;         // per parameter: its group, the row of `hyper` it uses
    private final double[] groupMultiplier;
    private final Tensor hyper;        // (G, 3) [bc1, bc2, lr * multiplier] per group
    private final float[] hyperHost;   // (G * 3)
    private final Tensor sumSquares;   // [] the squared global gradient norm of the last step
    private final Tensor gradScale;    // [] the clip factor, or 1 when clipping is off
    private ParameterTable table;      // params, grads, m, v, bf16 copies as they were when it was built
    private long steps;

    /** ELECTRA's pre-training form: one learning rate for all parameters. */
    public AdamW(Backend backend, List<Parameter> params, AdamWConfig config) {
        this(backend, params, config, p -> 1.0);
    }

    /**
     * @param lrMultiplier the factor on the learning rate for each parameter (constant for the
     *                     optimizer's life), e.g. {@link LayerwiseLrDecay#multipliers}
     */
    public AdamW(Backend backend, List<Parameter> params, AdamWConfig config, ToDoubleFunction<Parameter> lrMultiplier) {
        this.backend = backend;
        this.config = config;
        this.params = List.copyOf(params);
        checkParameters(this.params);
        int n = this.params.size();
        m = new Tensor[n];
        v = new Tensor[n];
        Map<Double, Integer> groups = new LinkedHashMap<>();
        group = new int[n];
        for (int i = 0; i < n; i++) {
            Parameter p = this.params.get(i);
            double mult = lrMultiplier.applyAsDouble(p);
            if (!(mult >= 0) || Double.isInfinite(mult)) {
                throw new IllegalArgumentException("learning-rate multiplier " + mult + " for " + p.name());
            }
            group[i] = groups.computeIfAbsent(mult, k -> groups.size());
        }
        groupMultiplier = groups.keySet().stream().mapToDouble(Double::doubleValue).toArray();
        hyper = backend.allocate(DType.F32, Math.max(1, groupMultiplier.length), 3).named("adamw.hyper");
        hyperHost = new float[3 * Math.max(1, groupMultiplier.length)];
        for (int i = 0; i < n; i++) {
            Parameter p = this.params.get(i);
            m[i] = backend.allocate(DType.F32, p.shape()).named(p.name() + M_SUFFIX);
            v[i] = backend.allocate(DType.F32, p.shape()).named(p.name() + V_SUFFIX);
        }
        sumSquares = backend.allocate(DType.F32).named("adamw.sumSquares");
        gradScale = backend.allocate(DType.F32).named("adamw.gradScale");
        backend.fill(gradScale, 1);
        table = buildTable();
    }

    private ParameterTable buildTable() {
        int n = params.size();
        List<Tensor> values = new ArrayList<>(n), grads = new ArrayList<>(n), copies = new ArrayList<>(n);
        float[] decay = new float[n];
        for (int i = 0; i < n; i++) {
            Parameter p = params.get(i);
            values.add(p.value());
            grads.add(p.grad());
            copies.add(p.bf16Copy());
            decay[i] = p.decay() ? (float) config.weightDecay() : 0f;
        }
        return backend.parameterTable(values, grads, Arrays.asList(m), Arrays.asList(v), copies, decay, group);
    }

    /**
     * The table, rebuilt first when a parameter's bf16 copy was enabled or disabled since it was built
     * (a host-side check, so an update never writes a freed copy or misses a new one).
     */
    private ParameterTable table() {
        for (int i = 0; i < params.size(); i++) {
            if (params.get(i).bf16Copy() != table.bf16Copies().get(i)) {
                table.close();
                table = buildTable();
                break;
            }
        }
        return table;
    }

    private static void checkParameters(List<Parameter> params) {
        Map<Parameter, Boolean> seen = new IdentityHashMap<>();
        Map<String, Boolean> names = new LinkedHashMap<>();
        for (Parameter p : params) {
            if (p.value().dtype() != DType.F32 || p.grad().dtype() != DType.F32) {
                throw new IllegalArgumentException("AdamW needs F32 parameters and gradients: " + p.value().describe());
            }
            if (seen.put(p, Boolean.TRUE) != null) throw new IllegalArgumentException(p.name() + " listed twice");
            if (names.put(p.name(), Boolean.TRUE) != null) {
                throw new IllegalArgumentException("two parameters named " + p.name() + " (assign full names first)");
            }
        }
    }

    /** Applies one update with learning rate {@code lr}, then zeroes every gradient. */
    public void step(double lr) {
        prepareStep(lr);
        runStep();
    }

    /**
     * The host half of {@link #step(double)}: uploads the hyper rows for the next update and counts it.
     * A captured CUDA graph replays only {@link #runStep()}, so the host calls this before each replay.
     */
    public void prepareStep(double lr) {
        long t = steps + 1;
        double bc1 = config.biasCorrection() ? 1 - Math.pow(config.beta1(), t) : 1;
        double bc2 = config.biasCorrection() ? 1 - Math.pow(config.beta2(), t) : 1;
        for (int g = 0; g < groupMultiplier.length; g++) {
            hyperHost[3 * g] = (float) bc1;
            hyperHost[3 * g + 1] = (float) bc2;
            hyperHost[3 * g + 2] = (float) (lr * groupMultiplier[g]);
        }
        backend.upload(hyper, hyperHost);
        steps = t;
    }

    /** The device half of {@link #step(double)}: gradient norm, clip factor, updates, zeroed gradients. */
    public void runStep() {
        // through this optimizer's backend (not the tensors'), so a decorating backend sees every call
        ParameterTable t = table();
        backend.gradSumSquares(sumSquares, t);
        if (config.maxGradNorm() > 0) backend.clipFactor(gradScale, sumSquares, (float) config.maxGradNorm());
        backend.adamwStepAll(t, gradScale, hyper, (float) config.beta1(), (float) config.beta2(), (float) config.eps());
    }

    /** {@link #step(double)} with the schedule's rate for the current step count. */
    public void step(LrSchedule schedule) {
        step(schedule.lr(steps));
    }

    /** Updates applied so far. */
    public long steps() {
        return steps;
    }

    /** The global gradient norm (before clipping) of the last step; downloads one number. */
    public double lastGradNorm() {
        return Math.sqrt(backend.downloadDouble(sumSquares)[0]);
    }

    public List<Parameter> parameters() {
        return params;
    }

    /** The live moment tensors, named {@code <param>.adam_m} and {@code <param>.adam_v}, in parameter order. */
    public Map<String, Tensor> exportState() {
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            out.put(params.get(i).name() + M_SUFFIX, m[i]);
            out.put(params.get(i).name() + V_SUFFIX, v[i]);
        }
        return out;
    }

    /**
     * Copies moments from {@code state} (tensors of this backend, F32, named as {@link #exportState})
     * and sets the step count. Every name must match; nothing is copied unless all do.
     */
    public void importState(Map<String, Tensor> state, long steps) {
        checkStateNames(state.keySet(), name -> state.get(name).shape(), "state map");
        for (int i = 0; i < params.size(); i++) {
            backend.copy(m[i], state.get(params.get(i).name() + M_SUFFIX));
            backend.copy(v[i], state.get(params.get(i).name() + V_SUFFIX));
        }
        setSteps(steps);
    }

    /** Adds the moments and the step count (metadata {@value #STEPS_METADATA}) to a checkpoint writer. */
    public SafeTensorsWriter addStateTo(SafeTensorsWriter writer) {
        exportState().forEach(writer::add);
        return writer.metadata(STEPS_METADATA, Long.toString(steps));
    }

    /** Restores what {@link #addStateTo} wrote; the file must hold exactly this optimizer's moments. */
    public void readState(SafeTensorsFile file) {
        String s = file.metadata().get(STEPS_METADATA);
        if (s == null) throw new IllegalArgumentException(file.path() + ": no '" + STEPS_METADATA + "' metadata");
        long fileSteps;
        try {
            fileSteps = Long.parseLong(s);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(file.path() + ": '" + STEPS_METADATA + "' is not a number: " + s);
        }
        checkStateNames(new LinkedHashSet<>(file.names()), name -> file.entry(name).shape(),
                file.path().toString());
        for (int i = 0; i < params.size(); i++) {
            backend.upload(m[i], file.readFloat(params.get(i).name() + M_SUFFIX));
            backend.upload(v[i], file.readFloat(params.get(i).name() + V_SUFFIX));
        }
        setSteps(fileSteps);
    }

    private void setSteps(long s) {
        if (s < 0) throw new IllegalArgumentException("negative step count " + s);
        steps = s;
    }

    private void checkStateNames(Set<String> have, Function<String, int[]> shapeOf,
                                 String source) {
        List<String> missing = new ArrayList<>();
        List<String> mismatched = new ArrayList<>();
        Map<String, Tensor> expected = exportState();
        expected.forEach((name, t) -> {
            if (!have.contains(name)) missing.add(name);
            else if (!Arrays.equals(shapeOf.apply(name), t.shape())) {
                mismatched.add(name + ": " + Arrays.toString(shapeOf.apply(name)) + " vs " + Arrays.toString(t.shape()));
            }
        });
        List<String> unexpected = have.stream().filter(n -> !expected.containsKey(n)).sorted().toList();
        if (!missing.isEmpty() || !unexpected.isEmpty() || !mismatched.isEmpty()) {
            throw new IllegalArgumentException(source + " does not match the optimizer: missing " + missing
                    + ", unexpected " + unexpected + ", wrong shape " + mismatched);
        }
    }

    /** Frees the parameter table, the moments and scratch tensors (not the parameters). */
    @Override
    public void close() {
        table.close();
        for (Tensor t : m) backend.free(t);
        for (Tensor t : v) backend.free(t);
        backend.free(hyper);
        backend.free(sumSquares);
        backend.free(gradScale);
    }
}
