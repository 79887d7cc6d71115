package io.electra.cli;

import io.electra.engine.Backend;
import io.electra.model.ReplacedTokenDetector;
import io.electra.device.Devices;
import io.electra.tokenizer.Vocab;
import io.electra.tokenizer.WordPieceTokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

/** The replaced-token-detection demo: each token with the discriminator's probability that it was replaced. */
@Command(name = "detect", mixinStandardHelpOptions = true,
        description = "Print each token of TEXT with the discriminator's probability that it was replaced.")
public final class DetectCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, description = "HF discriminator folder, or a checkpoint holding discriminator/")
    Path model;
    @Option(names = "--vocab", required = true, description = "BERT vocab.txt the model was trained with")
    Path vocab;
    @Option(names = "--cased", description = "keep case and accents (cased vocabularies)")
    boolean cased;
    @Option(names = "--device", defaultValue = "cpu", description = "cpu, cuda or auto (default ${DEFAULT-VALUE})")
    String device;
    @Parameters(arity = "1..*", paramLabel = "TEXT", description = "sentences to score")
    List<String> texts;

    @Override
    public Integer call() throws Exception {
        Vocab v = Vocab.load(vocab);
        WordPieceTokenizer tokenizer = cased ? new WordPieceTokenizer(v, false, WordPieceTokenizer.uncased(v).specialTokens())
                : WordPieceTokenizer.uncased(v);
        try (Backend b = Devices.select(device, System.err)) {
            ReplacedTokenDetector detector = new ReplacedTokenDetector(b, model, tokenizer);
            for (String text : texts) {
                System.out.println(text);
                for (ReplacedTokenDetector.Scored s : detector.score(text)) {
                    String bar = "#".repeat((int) Math.round(s.replacedProbability() * 20));
                    System.out.printf("  %-16s %5.3f %s%n", s.token(), s.replacedProbability(), bar);
                }
            }
        }
        return 0;
    }
}
