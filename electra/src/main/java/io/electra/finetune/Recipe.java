package io.electra.finetune;

import io.electra.glue.GlueTask;
import io.electra.model.ElectraConfig;

import java.io.PrintStream;

/**
 * The hyper-parameters one run trains with: the options where given, else ELECTRA's published
 * fine-tuning recipe (Clark et al. 2020, appendix; google-research/electra {@code configure_finetuning.py}):
 * learning rate 3e-4 for Small (hidden 256), 1e-4 for Base (768), 5e-5 for Large (1024); layer-wise
 * decay 0.8, or 0.9 for Large's 24 layers; 3 epochs, 10 for RTE and STS-B.
 */
public record Recipe(double learningRate, double layerwiseDecay, int epochs, int batch, int maxLength,
                     double warmupProportion, double weightDecay) {

    static final double UNKNOWN_SIZE_LR = 1e-4;

    /** Fills what the options leave open from the model's size and the task; notes guesses on {@code log}. */
    public static Recipe resolve(FinetuneOptions o, ElectraConfig model, PrintStream log) {
        double lr = o.learningRate() != null ? o.learningRate() : defaultLearningRate(model.hiddenSize, log);
        double decay = o.layerwiseDecay() != null ? o.layerwiseDecay() : defaultLayerwiseDecay(model.numHiddenLayers);
        int epochs = o.epochs() != null ? o.epochs() : o.task().defaultEpochs();
        if (o.maxLength() > model.maxPositionEmbeddings) {
            throw new IllegalArgumentException("--max-length " + o.maxLength() + " exceeds the model's max_position_embeddings "
                    + model.maxPositionEmbeddings);
        }
        return new Recipe(lr, decay, epochs, o.batch(), o.maxLength(), o.warmupProportion(), o.weightDecay());
    }

    static double defaultLearningRate(int hiddenSize, PrintStream log) {
        return switch (hiddenSize) {
            case 256 -> 3e-4;
            case 768 -> 1e-4;
            case 1024 -> 5e-5;
            default -> {
                log.printf("note: no published learning rate for hidden size %d; using %.0e (pass --lr to choose)%n",
                        hiddenSize, UNKNOWN_SIZE_LR);
                yield UNKNOWN_SIZE_LR;
            }
        };
    }

    static double defaultLayerwiseDecay(int layers) {
        return layers == 24 ? 0.9 : 0.8;
    }

    /** Optimizer updates in the whole run: the last, partial batch of an epoch is a step too. */
    public long totalSteps(int trainExamples) {
        return (long) epochs * stepsPerEpoch(trainExamples);
    }

    public int stepsPerEpoch(int trainExamples) {
        return (trainExamples + batch - 1) / batch;
    }
}
