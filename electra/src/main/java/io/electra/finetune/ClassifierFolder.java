package io.electra.finetune;

import io.electra.engine.Backend;
import io.electra.engine.nn.Parameter;
import io.electra.glue.GlueTask;
import io.electra.model.ElectraClassifier;
import io.electra.model.ElectraConfig;
import io.electra.model.HfFolder;
import io.electra.tokenizer.Vocab;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A GLUE classifier as a HuggingFace {@code ElectraForSequenceClassification} folder: built from a
 * discriminator for training, loaded from a fine-tuned folder for evaluation, and saved with the
 * task's labels in {@code config.json}, the vocabulary and the tokenizer settings, so that
 * transformers' {@code AutoModelForSequenceClassification} and {@code AutoTokenizer} load it as is.
 */
public final class ClassifierFolder {
    private ClassifierFolder() {
    }

    /**
     * The classifier to fine-tune: the body from {@code weights}, the head from there too when it has
     * one of the right shape (a model fine-tuned before), else freshly initialised from {@code seed}.
     */
    public static ElectraClassifier forTraining(Backend backend, Path weights, ElectraConfig config, GlueTask task,
                                                long seed, PrintStream log) throws IOException {
        ElectraClassifier model = new ElectraClassifier(backend, config, task.numOutputs());
        List<String> fresh = model.loadPretrained(weights);
        if (!fresh.isEmpty()) {
            Map<String, Parameter> named = model.namedParameters();
            List<Parameter> init = new ArrayList<>();
            for (String name : fresh) init.add(named.get(name));
            FreshWeights.initialise(init, config.initializerRange, seed);
            log.printf("initialised %d new parameter tensors (%s)%n", fresh.size(), String.join(", ", fresh));
        } else {
            log.println("continuing from the classifier head saved in " + weights);
        }
        return model;
    }

    /** A fine-tuned classifier for {@code task}; a folder without a trained head is an error. */
    public static ElectraClassifier forInference(Backend backend, Path dir, GlueTask task) throws IOException {
        ElectraConfig config = HfFolder.readConfig(dir);
        if (config.numLabels != null && config.numLabels != task.numOutputs()) {
            throw new IOException(dir + " was fine-tuned with " + config.numLabels + " output(s) but " + task.cliName()
                    + " needs " + task.numOutputs());
        }
        ElectraClassifier model = new ElectraClassifier(backend, config, task.numOutputs());
        List<String> fresh = model.loadPretrained(dir);
        if (!fresh.isEmpty()) {
            throw new IOException(dir + " has no trained classifier head (missing " + fresh
                    + "); evaluate and predict need a model from electra finetune");
        }
        return model;
    }

    /** A vocabulary with more ids than the model's embedding table would index past its end. */
    public static void checkVocab(Vocab vocab, ElectraConfig config, Path weights) {
        if (vocab.size() > config.vocabSize) {
            throw new IllegalArgumentException("vocab " + vocab.source() + " has " + vocab.size() + " tokens but the model "
                    + weights + " has vocab_size " + config.vocabSize + "; pass the vocab it was trained with (--vocab)");
        }
    }

    /**
     * Writes {@code model} as an HF folder at {@code dir} (replacing any previous one only once the
     * new one is complete), with {@code id2label}/{@code label2id} from the task.
     */
    public static void save(ElectraClassifier model, GlueTask task, Path vocab, TokenizerConfig tokenizer, Path dir)
            throws IOException {
        ElectraConfig c = model.config.copy();
        Map<String, String> id2label = new LinkedHashMap<>();
        Map<String, Integer> label2id = new LinkedHashMap<>();
        for (int i = 0; i < task.numOutputs(); i++) {
            // HF names regression outputs LABEL_0; class outputs carry the task's label strings
            String label = task.isRegression() ? "LABEL_" + i : task.labels().get(i);
            id2label.put(Integer.toString(i), label);
            label2id.put(label, i);
        }
        c.id2label = id2label;
        c.label2id = label2id;
        AtomicFiles.replaceFolder(dir, tmp -> {
            HfFolder.save(model, c, tmp);
            Files.copy(vocab, tmp.resolve(ModelLocation.VOCAB));
            tokenizer.write(tmp);
        });
    }
}
