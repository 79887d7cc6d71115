package io.electra.finetune;

import io.electra.glue.GlueTask;
import io.electra.model.ElectraConfig;
import io.electra.model.HfFolder;
import io.electra.tokenizer.Vocab;

import java.io.IOException;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Everything the runs of one {@code electra finetune} share, prepared once: where the model is, its
 * shape, the resolved recipe, and the tokenized data.
 */
public record FinetuneJob(FinetuneOptions options, ModelLocation location, ElectraConfig config,
                          TokenizerConfig tokenizer, Recipe recipe, FinetuneData data) {

    public GlueTask task() {
        return options.task();
    }

    /** Resolves the model and vocabulary, checks they fit, fixes the recipe, and reads and tokenizes the data. */
    public static FinetuneJob prepare(FinetuneOptions o, PrintStream log) throws IOException {
        ModelLocation location = ModelLocation.resolve(o.model(), o.vocab());
        ElectraConfig config = HfFolder.readConfig(location.weights());
        Vocab vocab = Vocab.load(location.vocab());
        ClassifierFolder.checkVocab(vocab, config, location.weights());
        Recipe recipe = Recipe.resolve(o, config, log);
        TokenizerConfig tokenizer = new TokenizerConfig(TokenizerConfig.read(location.weights()).lowerCase(),
                recipe.maxLength());
        log.printf("model %s (hidden %d, %d layers), vocab %s (%d tokens, %s)%n", location.weights(), config.hiddenSize,
                config.numHiddenLayers, location.vocab(), vocab.size(), tokenizer.lowerCase() ? "uncased" : "cased");
        log.printf("recipe: lr %.1e, layer-wise decay %.2f, %d epochs, batch %d, max length %d, warmup %.0f%%, "
                        + "weight decay %.3f%n", recipe.learningRate(), recipe.layerwiseDecay(), recipe.epochs(),
                recipe.batch(), recipe.maxLength(), 100 * recipe.warmupProportion(), recipe.weightDecay());
        FinetuneData data = FinetuneData.load(o.task(), o.data(), o.skipBadRows(), o.maxTrainExamples(),
                new ExampleEncoder(vocab, tokenizer, recipe.maxLength()), log);
        return new FinetuneJob(o, location, config, tokenizer, recipe, data);
    }

    /** The {@code config} block of {@code metrics.json}. */
    Map<String, Object> describe(long seed, String device) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("task", task().cliName());
        m.put("model", location.weights().toString());
        m.put("vocab", location.vocab().toString());
        m.put("data", options.data().toAbsolutePath().toString());
        m.put("device", device);
        m.put("seed", seed);
        m.put("hidden_size", config.hiddenSize);
        m.put("num_hidden_layers", config.numHiddenLayers);
        m.put("learning_rate", recipe.learningRate());
        m.put("layerwise_decay", recipe.layerwiseDecay());
        m.put("epochs", recipe.epochs());
        m.put("batch", recipe.batch());
        m.put("max_length", recipe.maxLength());
        m.put("warmup_proportion", recipe.warmupProportion());
        m.put("weight_decay", recipe.weightDecay());
        m.put("train_rows", data.trainFileRows());
        m.put("train_examples", data.train().size());
        m.put("skip_bad_rows", options.skipBadRows());
        return m;
    }
}
