package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Tape;
import io.electra.engine.autograd.Var;
import io.electra.tokenizer.Encoding;
import io.electra.tokenizer.WordPieceTokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** A trained discriminator asked, token by token, how likely each one was replaced. */
public final class ReplacedTokenDetector {
    private final Backend backend;
    private final ElectraDiscriminator discriminator;
    private final WordPieceTokenizer tokenizer;

    /** One token and the probability that it was replaced. */
    public record Scored(String token, double replacedProbability) {
    }

    public ReplacedTokenDetector(Backend backend, Path model, WordPieceTokenizer tokenizer) throws IOException {
        Path dir = discriminatorFolder(model);
        ElectraConfig c = HfFolder.readConfig(dir);
        if (tokenizer.vocab().size() > c.vocabSize) {
            throw new IllegalArgumentException("vocab has " + tokenizer.vocab().size() + " tokens but " + dir
                    + " has vocab_size " + c.vocabSize);
        }
        this.backend = backend;
        this.tokenizer = tokenizer;
        this.discriminator = new ElectraDiscriminator(backend, c, null);
        discriminator.assignNames("");
        HfFolder.LoadReport r = HfFolder.load(discriminator.namedParameters(), dir, Set.of());
        HfFolder.requireComplete(r, dir);
    }

    /** A discriminator folder, or a pre-training checkpoint / output folder that holds one. */
    public static Path discriminatorFolder(Path model) throws IOException {
        if (Files.isRegularFile(model.resolve(HfFolder.CONFIG))) return model;
        if (Files.isRegularFile(model.resolve("discriminator").resolve(HfFolder.CONFIG))) return model.resolve("discriminator");
        throw new IOException(model + " is neither an HF discriminator folder nor a checkpoint with discriminator/");
    }

    /** Scores every token of {@code text} (with [CLS] and [SEP]). */
    public List<Scored> score(String text) {
        int max = discriminator.config.maxPositionEmbeddings;
        Encoding e = tokenizer.encode(text, null, max);
        int t = e.ids().length;
        int[] mask = new int[t];
        java.util.Arrays.fill(mask, 1);
        ElectraInputs in = ElectraInputs.upload(backend, 1, t, e.ids(), e.typeIds(), mask);
        Tape tape = new Tape(backend);
        Ops ops = new Ops(tape);
        ops.setTraining(false);
        List<Scored> out = new ArrayList<>();
        try (var s = tape.noGrad()) {
            Var logits = discriminator.logits(ops, in, null);
            float[] l = backend.downloadFloat(logits.value());
            List<String> tokens = e.tokens();
            for (int i = 0; i < t; i++) out.add(new Scored(tokens.get(i), 1 / (1 + Math.exp(-l[i]))));
        } finally {
            tape.reset();
            backend.resetArena();
            for (var x : new io.electra.engine.Tensor[]{in.ids(), in.tokenTypes(), in.positions(), in.attentionMask()}) {
                backend.free(x);
            }
        }
        return out;
    }
}
