package io.electra.bench.step;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Precision;
import io.electra.engine.StepCapture;
import io.electra.engine.StepGraph;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Tape;
import io.electra.engine.autograd.Var;
import io.electra.engine.nn.Parameter;
import io.electra.engine.optim.AdamW;
import io.electra.engine.optim.AdamWConfig;
import io.electra.model.ElectraInit;
import io.electra.model.ElectraInputs;
import io.electra.model.ElectraPretraining;
import io.electra.model.ElectraPretraining.DeviceMasking;
import io.electra.model.MaskedLmPretraining;
import io.electra.model.Masking;
import io.electra.model.Preset;

import java.util.List;

/**
 * One pre-training step, built from the model pieces the way the trainer runs it, on synthetic rows:
 * host masking, upload, forward, backward, AdamW, then the tape and the arena are reset. Everything
 * with a fixed shape (inputs, masking tensors, parameters, moments) is allocated once, so a warm step
 * measures the step and nothing else.
 *
 * <p>In BF16 precision the GEMMs and attention take bf16 operands as in training ({@code --precision
 * bf16}). With {@code graph} on, the first step runs eagerly (it sizes every buffer), the device half
 * of the next (forward, backward, AdamW, the loss copied to a fixed tensor) is captured once and every
 * later step is one replay, as the trainer's {@code --cuda-graph} does; a backend that cannot capture
 * (the CPU) keeps running eagerly and {@link #graphStatus()} says why.
 */
public final class StepHarness implements AutoCloseable {
    /** ELECTRA's weight on the discriminator loss (the paper's lambda). */
    public static final float DISC_WEIGHT = 50f;

    private final Backend backend;
    private final Objective objective;
    private final int batch, seq;
    private final long seed;
    private final double learningRate;
    private final ElectraPretraining electra;   // null for MLM
    private final MaskedLmPretraining mlm;      // null for ELECTRA
    private final List<Parameter> params;
    private final Masking masking;
    private final SyntheticBatch rows;
    private final ElectraInputs inputs;         // (B, T) each
    private final DeviceMasking deviceMasking;  // (B, T) masked ids; (B*N) rows, targets, replaceAt
    private final Tape tape;
    private final Ops ops;
    private final AdamW adamw;
    private final Precision precision;
    private final boolean graphWanted;
    private final Tensor lossOut;               // [1] the last step's loss, at a fixed address for graph replays
    private StepGraph graph;                    // null: eager
    private long capturedStep;
    private String graphStatus = "eager";
    private long step;

    public StepHarness(Backend backend, Preset preset, Objective objective, int batch, int seq, long seed) {
        this(backend, preset, objective, batch, seq, seed, Precision.FP32, false);
    }

    public StepHarness(Backend backend, Preset preset, Objective objective, int batch, int seq, long seed,
                       Precision precision, boolean graph) {
        if (batch < 1) throw new IllegalArgumentException("batch must be >= 1, got " + batch);
        if (seq > preset.discriminator().maxPositionEmbeddings) {
            throw new IllegalArgumentException("sequence length " + seq + " exceeds max_position_embeddings "
                    + preset.discriminator().maxPositionEmbeddings + " of preset " + preset.name());
        }
        this.backend = backend;
        this.objective = objective;
        this.batch = batch;
        this.seq = seq;
        this.seed = seed;
        this.learningRate = preset.learningRate();
        if (objective == Objective.ELECTRA) {
            electra = new ElectraPretraining(backend, preset.generator(), preset.discriminator(), DISC_WEIGHT);
            mlm = null;
            params = electra.parameters();
        } else {
            electra = null;
            mlm = new MaskedLmPretraining(backend, preset.discriminator());
            params = mlm.parameters();
        }
        ElectraInit.apply(params, preset.discriminator().initializerRange, seed);
        this.precision = precision;
        this.graphWanted = graph;
        if (electra != null) electra.usePrecision(precision);  // bf16 copies made from the masters now
        else mlm.usePrecision(precision);

        int vocab = preset.discriminator().vocabSize;
        int maxPredictions = Masking.defaultMaxPredictions(preset.maskProb(), seq);
        masking = new Masking(maxPredictions, preset.maskProb(), SyntheticBatch.CLS, SyntheticBatch.SEP,
                SyntheticBatch.MASK, SyntheticBatch.PAD, vocab,
                objective == Objective.ELECTRA ? Masking.Style.ELECTRA : Masking.Style.BERT);
        rows = SyntheticBatch.random(batch, seq, vocab, seed);
        inputs = ElectraInputs.upload(backend, batch, seq, rows.ids(), rows.tokenTypes(), rows.attentionMask());
        int k = batch * maxPredictions;
        deviceMasking = new DeviceMasking(backend.allocate(DType.I32, batch, seq), backend.allocate(DType.I32, k),
                backend.allocate(DType.I32, k), backend.allocate(DType.I32, k));
        tape = new Tape(backend);
        ops = new Ops(tape);
        ops.setPrecision(precision);
        adamw = new AdamW(backend, params, AdamWConfig.electra());
        lossOut = backend.allocate(DType.F32, 1);
    }

    /**
     * Runs one training step and returns its loss. Reading the loss back waits for the device, so the
     * wall time of this call is the step's time on every backend.
     */
    public double step() {
        Masking.Batch m = masking.apply(rows.ids(), rows.attentionMask(), batch, seq,
                new RngKey(seed, step, RngKey.MASKING));
        backend.upload(deviceMasking.generatorIds(), m.maskedIds());
        backend.upload(deviceMasking.rows(), m.rows());
        backend.upload(deviceMasking.targets(), m.targets());
        backend.upload(deviceMasking.replaceAt(), m.replaceAt());

        if (graphWanted && graph == null && step == 1) capture();
        adamw.prepareStep(learningRate);
        if (graph != null) {
            backend.setRngStepOffset(step - capturedStep);  // this step's dropout and Gumbel streams
            graph.replay();
        } else {
            devicePass(step);
        }
        double value = backend.downloadFloat(lossOut)[0];
        if (!Double.isFinite(value)) {
            throw new IllegalStateException(objective.key() + " loss is " + value + " at step " + step);
        }
        step++;
        return value;
    }

    /** Everything on the device: forward, backward, AdamW's update, the loss kept in {@code lossOut}. */
    private void devicePass(long atStep) {
        ops.setRng(seed, atStep);
        try {
            Var loss = objective == Objective.ELECTRA
                    ? electra.forward(ops, inputs, deviceMasking, null, new RngKey(seed, atStep, RngKey.GUMBEL), null).total()
                    : mlm.forward(ops, inputs, deviceMasking);
            tape.backward(loss);
            adamw.runStep();
            backend.copy(lossOut, loss.value());
        } finally {
            tape.reset();
            backend.resetArena();
        }
    }

    private void capture() {
        long at = step;
        StepCapture c = backend.captureStep(() -> devicePass(at));
        if (c.isCaptured()) {
            graph = c.graph().get();
            capturedStep = at;
            graphStatus = "graph (captured at step " + at + ")";
        } else {
            graphStatus = "eager: " + c.reason();
        }
    }

    /** "eager", "graph (captured at step 1)" or "eager: why the capture failed". */
    public String graphStatus() {
        return graphStatus;
    }

    public Precision precision() {
        return precision;
    }

    /** Trainable values, each shared tensor once. */
    public long parameterCount() {
        long n = 0;
        for (Parameter p : params) n += p.value().size();
        return n;
    }

    public Backend backend() {
        return backend;
    }

    /** Frees the optimizer state and the fixed-shape inputs (the backend itself belongs to the caller). */
    @Override
    public void close() {
        if (graph != null) graph.close();
        backend.setRngStepOffset(0);
        adamw.close();
        backend.free(lossOut);
        for (Tensor t : new Tensor[]{inputs.ids(), inputs.tokenTypes(), inputs.positions(), inputs.attentionMask(),
                deviceMasking.generatorIds(), deviceMasking.rows(), deviceMasking.targets(), deviceMasking.replaceAt()}) {
            backend.free(t);
        }
    }
}
