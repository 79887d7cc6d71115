package io.electra.engine.cpu;

import io.electra.engine.Tensor;

/**
 * The three losses, each a mean over the rows that count:
 * cross-entropy over rows with a target (>= 0), binary cross-entropy with logits over unmasked
 * positions, and mean squared error. A loss with nothing to count is 0 with zero gradient.
 * Per-row terms are summed in row order, so the loss does not depend on the thread count.
 */
final class LossCpu {
    private final Parallel parallel;

    LossCpu(Parallel parallel) {
        this.parallel = parallel;
    }

    /** loss[] = mean over counted rows of lse(logits[k]) - logits[k, t]; saves lse [K]. */
    void crossEntropyForward(Tensor loss, Tensor lse, Tensor logits, Tensor targets) {
        int rows = logits.rowsFlat(), vocab = logits.cols();
        double[] perRow = new double[rows];
        if (logits.storage() instanceof float[]) {
            parallel.parallelFor(rows, 20L * vocab, (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int t = Elements.getInt(targets, r);
                    double l = CrossEntropyF32.logSumExp(logits, r);
                    Elements.set(lse, r, l);
                    perRow[r] = t >= 0 ? l - Elements.get(logits, (long) r * vocab + t) : 0;
                }
            });
        } else parallel.parallelFor(rows, 20L * vocab, (r0, r1) -> {
            double[] x = Scratch.get(0, vocab);
            for (int r = r0; r < r1; r++) {
                Elements.load(logits, (long) r * vocab, x, 0, vocab);
                double max = Double.NEGATIVE_INFINITY;
                for (int v = 0; v < vocab; v++) max = Math.max(max, x[v]);
                int t = Elements.getInt(targets, r);
                double target = t >= 0 ? x[t] : 0;
                double l = max + Math.log(Exp.expShifted(x, 0, vocab, max));
                Elements.set(lse, r, l);
                perRow[r] = t >= 0 ? l - target : 0;
            }
        });
        int count = 0;
        double total = 0;
        for (int r = 0; r < rows; r++) {
            if (Elements.getInt(targets, r) >= 0) count++;
            total += perRow[r];
        }
        Elements.set(loss, 0, count == 0 ? 0 : total / count);
    }

    /** dLogits += dLoss * (softmax(logits) - onehot(target)) / count on counted rows. */
    void crossEntropyBackward(Tensor dLogits, Tensor dLoss, Tensor logits, Tensor lse, Tensor targets) {
        int rows = logits.rowsFlat(), vocab = logits.cols();
        int count = 0;
        for (int r = 0; r < rows; r++) if (Elements.getInt(targets, r) >= 0) count++;
        if (count == 0) return;
        double g = Elements.get(dLoss, 0) / count;
        if (logits.storage() instanceof float[]) {
            parallel.parallelFor(rows, 20L * vocab, (r0, r1) -> {
                for (int r = r0; r < r1; r++) {
                    int t = Elements.getInt(targets, r);
                    if (t >= 0) CrossEntropyF32.addGradient(dLogits, logits, r, t, (float) Elements.get(lse, r), (float) g);
                }
            });
            return;
        }
        parallel.parallelFor(rows, 20L * vocab, (r0, r1) -> {
            double[] x = Scratch.get(0, vocab);
            for (int r = r0; r < r1; r++) {
                int t = Elements.getInt(targets, r);
                if (t < 0) continue;
                Elements.load(logits, (long) r * vocab, x, 0, vocab);
                double l = Elements.get(lse, r);
                Exp.expShifted(x, 0, vocab, l);
                for (int v = 0; v < vocab; v++) x[v] *= g;
                x[t] -= g;
                Elements.addTo(dLogits, (long) r * vocab, x, 0, vocab);
            }
        });
    }

    /** loss[] = mean over mask != 0 of max(x,0) - x y + log1p(exp(-|x|)). */
    void bceWithLogitsForward(Tensor loss, Tensor logits, Tensor labels, Tensor mask) {
        long n = logits.size();
        int count = 0;
        double total = 0;
        for (long i = 0; i < n; i++) {
            if (Elements.getInt(mask, i) == 0) continue;
            double x = Elements.get(logits, i), y = Elements.get(labels, i);
            total += Math.max(x, 0) - x * y + Math.log1p(Math.exp(-Math.abs(x)));
            count++;
        }
        Elements.set(loss, 0, count == 0 ? 0 : total / count);
    }

    /** dLogits += dLoss * (sigmoid(x) - y) / count where mask != 0. */
    void bceWithLogitsBackward(Tensor dLogits, Tensor dLoss, Tensor logits, Tensor labels, Tensor mask) {
        long n = logits.size();
        int count = 0;
        for (long i = 0; i < n; i++) if (Elements.getInt(mask, i) != 0) count++;
        if (count == 0) return;
        double g = Elements.get(dLoss, 0) / count;
        for (long i = 0; i < n; i++) {
            if (Elements.getInt(mask, i) == 0) continue;
            double x = Elements.get(logits, i), y = Elements.get(labels, i);
            Elements.add(dLogits, i, g * (sigmoid(x) - y));
        }
    }

    /** loss[] = mean((pred - target)^2). */
    void mseForward(Tensor loss, Tensor pred, Tensor target) {
        long n = pred.size();
        double total = 0;
        for (long i = 0; i < n; i++) {
            double d = Elements.get(pred, i) - Elements.get(target, i);
            total += d * d;
        }
        Elements.set(loss, 0, n == 0 ? 0 : total / n);
    }

    /** dPred += dLoss * 2 (pred - target) / N. */
    void mseBackward(Tensor dPred, Tensor dLoss, Tensor pred, Tensor target) {
        long n = pred.size();
        if (n == 0) return;
        double g = 2 * Elements.get(dLoss, 0) / n;
        for (long i = 0; i < n; i++) Elements.add(dPred, i, g * (Elements.get(pred, i) - Elements.get(target, i)));
    }

    /** 1 / (1 + e^-x) without overflow for large |x|. */
    static double sigmoid(double x) {
        if (x >= 0) return 1 / (1 + Math.exp(-x));
        double e = Math.exp(x);
        return e / (1 + e);
    }
}
