package io.electra.finetune;

import io.electra.model.HfFolder;
import io.electra.pretrain.CheckpointStore;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Where a {@code --model} argument's weights and vocabulary are. Accepted:
 * <ul>
 *   <li>a HuggingFace folder ({@code config.json} + {@code model.safetensors}): a downloaded or saved
 *       discriminator, or a model fine-tuned here;</li>
 *   <li>one of our pre-training checkpoints ({@code checkpoint-<step>/}), whose {@code discriminator/}
 *       subfolder is used;</li>
 *   <li>a pre-training output folder holding checkpoints: the newest complete one.</li>
 * </ul>
 * The vocabulary is {@code --vocab} when given, else {@code vocab.txt} in the model folder, else in
 * the checkpoint folder around it.
 *
 * @param weights the HF folder to load
 * @param vocab   the vocab.txt to tokenize with
 */
public record ModelLocation(Path weights, Path vocab) {
    static final String DISCRIMINATOR = "discriminator";
    static final String VOCAB = "vocab.txt";

    public static ModelLocation resolve(Path model, Path vocabOverride) throws IOException {
        if (!Files.isDirectory(model)) throw new IOException("--model " + model + " is not a folder");
        Path dir = model.toAbsolutePath().normalize();
        Path weights = weightsFolder(dir);
        if (vocabOverride != null) {
            if (!Files.isRegularFile(vocabOverride)) throw new IOException("--vocab " + vocabOverride + " is not a file");
            return new ModelLocation(weights, vocabOverride);
        }
        if (Files.isRegularFile(weights.resolve(VOCAB))) return new ModelLocation(weights, weights.resolve(VOCAB));
        // a checkpoint keeps one vocab.txt beside its generator/ and discriminator/ folders
        Path checkpoint = weights.equals(dir) ? null : weights.getParent();
        if (checkpoint != null && Files.isRegularFile(checkpoint.resolve(VOCAB))) {
            return new ModelLocation(weights, checkpoint.resolve(VOCAB));
        }
        throw new IOException("no " + VOCAB + " in " + weights + (checkpoint != null ? " or " + checkpoint : "")
                + "; pass --vocab FILE");
    }

    private static Path weightsFolder(Path dir) throws IOException {
        if (Files.isRegularFile(dir.resolve(HfFolder.CONFIG))) return dir;
        if (Files.isRegularFile(dir.resolve(DISCRIMINATOR).resolve(HfFolder.CONFIG))) return dir.resolve(DISCRIMINATOR);
        Path newest = newestCheckpoint(dir);
        if (newest != null && Files.isRegularFile(newest.resolve(DISCRIMINATOR).resolve(HfFolder.CONFIG))) {
            return newest.resolve(DISCRIMINATOR);
        }
        throw new IOException(dir + " holds neither " + HfFolder.CONFIG + " (a HuggingFace discriminator folder) nor "
                + DISCRIMINATOR + "/" + HfFolder.CONFIG + " (a pre-training checkpoint) nor complete checkpoint-* folders");
    }

    private static Path newestCheckpoint(Path dir) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().matches("checkpoint-\\d+"))
                    .filter(p -> Files.isRegularFile(p.resolve(CheckpointStore.MARKER)))
                    .max(Comparator.comparing(p -> p.getFileName().toString()))
                    .orElse(null);
        }
    }
}
