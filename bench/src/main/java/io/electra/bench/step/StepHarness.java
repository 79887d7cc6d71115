package io.electra.bench.step;

import io.electra.engine.Backend;
import io.electra.engine.DType;
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
    private long step;

    public StepHarness(Backend backend, Preset preset, Objective objective, int batch, int seq, long seed) {
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
        adamw = new AdamW(backend, params, AdamWConfig.electra());
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

        ops.setRng(seed, step);
        Var loss = objective == Objective.ELECTRA
                ? electra.forward(ops, inputs, deviceMasking, null, new RngKey(seed, step, RngKey.GUMBEL), null).total()
                : mlm.forward(ops, inputs, deviceMasking);
        tape.backward(loss);
        adamw.step(learningRate);
        double value = backend.downloadFloat(loss.value())[0];
        tape.reset();
        backend.resetArena();
        if (!Double.isFinite(value)) {
            throw new IllegalStateException(objective.key() + " loss is " + value + " at step " + step);
        }
        step++;
        return value;
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
        adamw.close();
        for (Tensor t : new Tensor[]{inputs.ids(), inputs.tokenTypes(), inputs.positions(), inputs.attentionMask(),
                deviceMasking.generatorIds(), deviceMasking.rows(), deviceMasking.targets(), deviceMasking.replaceAt()}) {
            backend.free(t);
        }
    }
}
