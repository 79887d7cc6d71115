package io.electra.pretrain;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Precision;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Tape;
import io.electra.engine.autograd.Var;
import io.electra.engine.nn.Parameter;
import io.electra.model.ElectraConfig;
import io.electra.model.ElectraInit;
import io.electra.model.ElectraInputs;
import io.electra.model.ElectraPretraining;
import io.electra.model.HfFolder;
import io.electra.model.MaskedLmPretraining;
import io.electra.model.Masking;
import io.electra.model.Preset;
import io.electra.pretrain.PretrainOptions.Objective;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Everything one pre-training run holds: backend, models, masking, data order, fixed-address input and
 * read-back buffers; and the device pass of one micro-batch that {@link ElectraTrainer} runs eagerly or
 * captures as a graph.
 */
final class TrainingRun {
    private final PretrainOptions opts;
    final Backend backend;
    final String presetName;
    final ExampleSource data;
    final int seq, batch;
    final Precision precision;
    final ElectraPretraining electra;      // null for the MLM objective
    final MaskedLmPretraining mlm;         // null for ELECTRA
    final List<Parameter> parameters;
    final Masking masking;
    final BatchLoader loader;
    final long trainRows, validationRows;
    final Tape tape;
    final Ops ops;
    final int[] ids, types, mask;
    final ElectraInputs inputs;
    final ElectraPretraining.DeviceMasking deviceMasking;
    final Tensor lossReadback;             // (3, 1) generator, discriminator, total loss of the last pass
    final Tensor logitsReadback;           // (N) discriminator logits of the last pass
    final Tensor labelsReadback;           // (N) replaced-token labels of the last pass
    int[] lastTargets = new int[0];        // (K) host copy of the last pass's prediction targets

    TrainingRun(PretrainOptions opts, Backend b, Preset preset, ExampleSource data, int seq, int batch, long totalSteps, double maskProb,
        Precision precision) throws IOException {
        this.opts = opts;
        this.backend = b;
        this.precision = precision;
        this.presetName = preset.name();
        this.data = data;
        this.seq = seq;
        this.batch = batch;
        ElectraConfig disc = preset.discriminator().withOverrides(opts.overrides());
        ElectraConfig gen = preset.generator().withOverrides(opts.overrides());
        if (opts.initDiscriminator() != null) {
            disc = HfFolder.readConfig(opts.initDiscriminator());
            gen = HfFolder.readConfig(opts.initGenerator());
        }
        if (seq > disc.maxPositionEmbeddings) {
            throw new IllegalArgumentException(opts.data() + ": rows of " + seq + " tokens exceed max_position_embeddings "
                    + disc.maxPositionEmbeddings);
        }
        if (data.vocab().size() > disc.vocabSize) {
            throw new IllegalArgumentException(opts.data() + ": shards use a vocab of " + data.vocab().size()
                    + " tokens but the model has vocab_size " + disc.vocabSize);
        }
        if (opts.objective() == Objective.ELECTRA) {
            electra = new ElectraPretraining(b, gen, disc, 50f);
            mlm = null;
            parameters = electra.parameters();
            if (opts.initDiscriminator() != null) electra.loadHf(opts.initGenerator(), opts.initDiscriminator());
        } else {
            electra = null;
            mlm = new MaskedLmPretraining(b, disc);
            parameters = mlm.parameters();
        }
        if (opts.initDiscriminator() == null) ElectraInit.apply(parameters, disc.initializerRange, opts.seed());
        // bf16 weight copies from the initialised masters; loads and AdamW keep them current
        if (electra != null) electra.usePrecision(precision);
        else mlm.usePrecision(precision);
        masking = new Masking(Masking.defaultMaxPredictions(maskProb, seq), maskProb, data.vocab().clsId(), data.vocab().sepId(),
                data.vocab().maskId(), data.vocab().padId(), disc.vocabSize, opts.objective() == Objective.ELECTRA ? Masking.Style.ELECTRA : Masking.Style.BERT);
        long held = Math.min((long) opts.validationBatches() * batch, data.rows() / 10);
        validationRows = opts.validateEvery() > 0 ? held : 0;
        trainRows = data.rows() - validationRows;
        if (trainRows < 1) throw new IllegalArgumentException(opts.data() + ": no rows left for training");
        loader = new BatchLoader(data, trainRows, opts.seed());
        tape = new Tape(b);
        ops = new Ops(tape);
        ops.setPrecision(precision);
        int n = batch * seq, k = batch * masking.maxPredictions();
        ids = new int[n];
        types = new int[n];
        mask = new int[n];
        inputs = ElectraInputs.upload(b, batch, seq, ids, types, mask);
        deviceMasking = new ElectraPretraining.DeviceMasking(b.allocate(DType.I32, batch, seq), b.allocate(DType.I32, k),
                b.allocate(DType.I32, k), b.allocate(DType.I32, k));
        lossReadback = b.allocate(DType.F32, 3, 1);
        logitsReadback = b.allocate(DType.F32, n);
        labelsReadback = b.allocate(DType.F32, n);
    }

    record Losses(double generator, double discriminator, double total, DetectionStats stats) {
        void requireFinite(long step) {
            if (!Double.isFinite(generator)) throw new NonFiniteLossException(step, "generator", generator);
            if (!Double.isFinite(discriminator)) throw new NonFiniteLossException(step, "discriminator", discriminator);
            if (!Double.isFinite(total)) throw new NonFiniteLossException(step, "total", total);
        }
    }

    /** Forward and backward of one micro-batch, eagerly; reads results back only when {@code read}. */
    Losses trainMicroBatch(long stream, float lossScale, boolean read) {
        loadMicroBatch(stream);
        devicePass(stream, lossScale, true);
        return read || backend.name().startsWith("cpu") ? readLosses(read) : null;
    }

    /** The host half of a micro-batch: the next rows, their masks, and the uploads of both. */
    void loadMicroBatch(long stream) {
        loader.next(batch, ids, types, mask);
        uploadBatch(stream);
    }

    /** Masks the rows in ids/types/mask with {@code stream}'s masking stream and uploads everything. */
    void uploadBatch(long stream) {
        Masking.Batch m = masking.apply(ids, mask, batch, seq, new RngKey(opts.seed(), stream, RngKey.MASKING));
        backend.upload(inputs.ids(), ids);
        backend.upload(inputs.tokenTypes(), types);
        backend.upload(inputs.attentionMask(), mask);
        backend.upload(deviceMasking.generatorIds(), m.maskedIds());
        backend.upload(deviceMasking.rows(), m.rows());
        backend.upload(deviceMasking.targets(), m.targets());
        backend.upload(deviceMasking.replaceAt(), m.replaceAt());
        lastTargets = m.targets();
    }

    /**
     * The device half: forward (and backward when {@code train}) on the uploaded batch, with dropout and
     * Gumbel streams of {@code stream}, leaving the losses, logits and labels in the persistent readback
     * tensors. No host reads, no uploads: this is what a step graph captures.
     */
    void devicePass(long stream, float lossScale, boolean train) {
        ops.setRng(opts.seed(), stream);
        ops.setTraining(train);
        try (var scope = train ? null : tape.noGrad()) {
            if (electra != null) {
                var o = electra.forward(ops, inputs, deviceMasking, null, new RngKey(opts.seed(), stream, RngKey.GUMBEL), null);
                if (train) tape.backward(lossScale == 1f ? o.total() : ops.scale(o.total(), lossScale));
                keepLosses(o.generatorLoss(), o.discriminatorLoss(), o.total());
                backend.copy(logitsReadback, o.discriminatorLogits().value());
                backend.copy(labelsReadback, o.labels());
            } else {
                Var loss = mlm.forward(ops, inputs, deviceMasking);
                if (train) tape.backward(lossScale == 1f ? loss : ops.scale(loss, lossScale));
                keepLosses(loss, null, loss);
            }
        } finally {
            tape.reset();
            backend.resetArena();
        }
    }

    private void keepLosses(Var generator, Var discriminator, Var total) {
        backend.copy(lossReadback.rows(0, 1), generator.value());
        if (discriminator != null) backend.copy(lossReadback.rows(1, 1), discriminator.value());
        backend.copy(lossReadback.rows(2, 1), total.value());
    }

    /** The losses the last device pass left (and its detection statistics when {@code withStats}). */
    Losses readLosses(boolean withStats) {
        float[] l = backend.downloadFloat(lossReadback);
        if (electra == null) return new Losses(l[0], 0, l[2], new DetectionStats(0, 0, 0, 0, 0));
        DetectionStats stats = withStats ? DetectionStats.of(backend.downloadFloat(logitsReadback),
                backend.downloadFloat(labelsReadback), mask, lastTargets) : null;
        return new Losses(l[0], l[1], l[2], stats);
    }

    /** Mean total loss over the held-back rows, with fixed masks so values compare across steps. */
    Double validationLoss(int batches) {
        if (validationRows < batch) return null;
        double sum = 0;
        int count = 0;
        int[] rowIds = new int[seq], rowTypes = new int[seq];
        for (int v = 0; v < batches && (long) (v + 1) * batch <= validationRows; v++) {
            for (int r = 0; r < batch; r++) {
                data.readRow(trainRows + (long) v * batch + r, rowIds, rowTypes);
                System.arraycopy(rowIds, 0, ids, r * seq, seq);
                System.arraycopy(rowTypes, 0, types, r * seq, seq);
                for (int j = 0; j < seq; j++) mask[r * seq + j] = rowIds[j] != 0 ? 1 : 0;
            }
            uploadBatch(-1 - v);
            devicePass(-1 - v, 1f, false);
            sum += readLosses(false).total();
            count++;
        }
        return count == 0 ? null : sum / count;
    }

    void save(Path dir) throws IOException {
        if (electra != null) electra.saveHf(dir);
        else mlm.saveHf(dir);
        // like hub folders, each model folder carries its vocabulary (detect and finetune find it there)
        for (String model : new String[]{"generator", "discriminator", "mlm"}) {
            if (Files.isDirectory(dir.resolve(model))) ElectraTrainer.writeVocab(data.vocab(), dir.resolve(model).resolve("vocab.txt"));
        }
    }

    void load(Path dir) throws IOException {
        if (electra != null) electra.loadHf(dir.resolve("generator"), dir.resolve("discriminator"));
        else mlm.loadHf(dir);
    }

    void checkCompatible(TrainerState s, Path dir) {
        String problem = null;
        if (!s.preset().equals(presetName)) problem = "preset " + s.preset() + ", this run " + presetName;
        else if (!s.objective().equals(opts.objective().name())) problem = "objective " + s.objective();
        else if (!s.vocabHash().equals(data.vocab().sha256())) problem = "shards built with another vocab (hash "
                + s.vocabHash() + ", these shards " + data.vocab().sha256() + ")";
        else if (s.maxSeqLength() != seq) problem = "sequence length " + s.maxSeqLength() + ", shards " + seq;
        else if (s.batch() != batch || s.accumulate() != opts.accumulate()) problem = "batch " + s.batch() + "x"
                + s.accumulate() + ", this run " + batch + "x" + opts.accumulate();
        else if (s.seed() != opts.seed()) problem = "seed " + s.seed() + ", this run " + opts.seed();
        if (problem != null) throw new IllegalArgumentException("cannot resume from " + dir + ": it was made with " + problem);
    }
}
