package io.electra.glue;

/**
 * Scores of class predictions against gold classes, as GLUE computes them (through scikit-learn),
 * including its choices for undefined cases: a score whose denominator is zero is 0.
 */
public final class ClassificationMetrics {
    private ClassificationMetrics() {
    }

    /** Fraction of predictions equal to the gold class. */
    public static double accuracy(int[] predicted, int[] gold) {
        checkLengths(predicted, gold);
        int correct = 0;
        for (int i = 0; i < gold.length; i++) {
            if (predicted[i] == gold[i]) correct++;
        }
        return (double) correct / gold.length;
    }

    /**
     * F1 of one class, {@code 2TP / (2TP + FP + FN)}: the harmonic mean of its precision and recall
     * without dividing twice. With no predictions and no gold labels of that class it is 0.
     */
    public static double f1(int[] predicted, int[] gold, int positive) {
        checkLengths(predicted, gold);
        long truePositive = 0;
        long falsePositive = 0;
        long falseNegative = 0;
        for (int i = 0; i < gold.length; i++) {
            boolean p = predicted[i] == positive;
            boolean g = gold[i] == positive;
            if (p && g) truePositive++;
            else if (p) falsePositive++;
            else if (g) falseNegative++;
        }
        long denominator = 2 * truePositive + falsePositive + falseNegative;
        return denominator == 0 ? 0 : 2.0 * truePositive / denominator;
    }

    /**
     * Matthews correlation coefficient over {@code numClasses} classes (Gorodkin's generalisation,
     * equal to {@code (TP*TN - FP*FN) / sqrt((TP+FP)(TP+FN)(TN+FP)(TN+FN))} for two). A constant
     * prediction or constant gold labels make the denominator zero; the score is then 0, the
     * correlation of a predictor that carries no information.
     */
    public static double matthews(int[] predicted, int[] gold, int numClasses) {
        checkLengths(predicted, gold);
        long[] predictedCount = new long[numClasses];
        long[] goldCount = new long[numClasses];
        long correct = 0;
        checkClasses("predicted", predicted, numClasses);
        checkClasses("gold", gold, numClasses);
        for (int i = 0; i < gold.length; i++) {
            predictedCount[predicted[i]]++;
            goldCount[gold[i]]++;
            if (predicted[i] == gold[i]) correct++;
        }
        double n = gold.length;
        double predictedDotGold = 0;
        double predictedSquares = 0;
        double goldSquares = 0;
        for (int k = 0; k < numClasses; k++) {
            predictedDotGold += (double) predictedCount[k] * goldCount[k];
            predictedSquares += (double) predictedCount[k] * predictedCount[k];
            goldSquares += (double) goldCount[k] * goldCount[k];
        }
        double denominator = Math.sqrt((n * n - predictedSquares) * (n * n - goldSquares));
        return denominator == 0 ? 0 : (correct * n - predictedDotGold) / denominator;
    }

    static void checkLengths(int[] predicted, int[] gold) {
        if (predicted.length != gold.length) {
            throw new IllegalArgumentException("predicted has " + predicted.length + " entries, gold " + gold.length);
        }
        if (gold.length == 0) throw new IllegalArgumentException("no predictions to score");
    }

    static void checkClasses(String name, int[] classes, int numClasses) {
        for (int i = 0; i < classes.length; i++) {
            if (classes[i] < 0 || classes[i] >= numClasses) {
                throw new IllegalArgumentException(name + "[" + i + "] = " + classes[i] + " is not a class in [0, "
                        + numClasses + ")");
            }
        }
    }
}
