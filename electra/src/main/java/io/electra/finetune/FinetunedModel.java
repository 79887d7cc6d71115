package io.electra.finetune;

import io.electra.device.Devices;
import io.electra.engine.Backend;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Tape;
import io.electra.glue.GlueTask;
import io.electra.model.ElectraClassifier;
import io.electra.tokenizer.Vocab;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A fine-tuned folder (from {@code electra finetune}, or any HF {@code ElectraForSequenceClassification}
 * with a vocab.txt) loaded for inference, with the tokenizer settings it was trained with.
 * The max length is, in order: the caller's, the folder's {@code model_max_length}, 128.
 */
public final class FinetunedModel implements AutoCloseable {
    static final int DEFAULT_MAX_LENGTH = 128;

    private final Backend backend;
    private final ElectraClassifier model;
    private final ExampleEncoder encoder;
    private final Predictor predictor;

    private FinetunedModel(Backend backend, ElectraClassifier model, ExampleEncoder encoder, int batch) {
        this.backend = backend;
        this.model = model;
        this.encoder = encoder;
        Tape tape = new Tape(backend);
        this.predictor = new Predictor(tape, new Ops(tape), batch);
    }

    /** Loads {@code dir} for {@code task}; {@code vocab} and {@code maxLength} may be null. */
    public static FinetunedModel open(Path dir, Path vocab, GlueTask task, Integer maxLength, int batch, String device,
                                      PrintStream log) throws IOException {
        Path vocabFile = vocab != null ? vocab : dir.resolve(ModelLocation.VOCAB);
        if (!Files.isRegularFile(vocabFile)) {
            throw new IOException(vocab != null ? "--vocab " + vocab + " is not a file"
                    : "no " + ModelLocation.VOCAB + " in " + dir + "; pass --vocab FILE");
        }
        Vocab v = Vocab.load(vocabFile);
        TokenizerConfig settings = TokenizerConfig.read(dir);
        int length = maxLength != null ? maxLength
                : settings.modelMaxLength() != null ? settings.modelMaxLength() : DEFAULT_MAX_LENGTH;
        Backend backend = Devices.select(device, log);
        try {
            ElectraClassifier model = ClassifierFolder.forInference(backend, dir, task);
            ClassifierFolder.checkVocab(v, model.config, dir);
            if (length > model.config.maxPositionEmbeddings) {
                throw new IllegalArgumentException("max length " + length + " exceeds the model's max_position_embeddings "
                        + model.config.maxPositionEmbeddings);
            }
            return new FinetunedModel(backend, model, new ExampleEncoder(v, settings, length), batch);
        } catch (IOException | RuntimeException e) {
            backend.close();
            throw e;
        }
    }

    public ExampleEncoder encoder() {
        return encoder;
    }

    /** Logits (rows, outputs) in row order, for rows tokenized by {@link #encoder()}. */
    public float[][] logits(List<EncodedExample> rows) {
        return predictor.logits(model, rows);
    }

    @Override
    public void close() {
        backend.close();
    }
}
