package io.electra.engine.autograd;

import io.electra.engine.DType;
import io.electra.engine.Precision;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.nn.Parameter;
import io.electra.engine.testing.TapeGradCheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static io.electra.engine.testing.Approx.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static io.electra.engine.testing.TestValues.gaussian;
import static io.electra.engine.testing.TestValues.trainable;

/**
 * {@link Ops#linearCrossEntropy}, the masked-LM head and its loss as one op, against
 * {@code crossEntropy(linear(x, w, bias), targets)}: the same logits, loss and gradients of x, w and the
 * bias to the bit in both precisions (one target ignored), the logits returned without a gradient of
 * their own; and central finite differences in F64.
 */
class LinearCrossEntropyOpsTest {
    private static final CpuBackend cpu = new CpuBackend(2);

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Test
    void fusedHeadAndLossAreTheLinearThenTheLossBitForBit() {
        Random rnd = new Random(61);
        int k = 6, c = 8, v = 37;
        float[] xs = gaussian(rnd, k * c, 1), ws = gaussian(rnd, v * c, 0.5), bs = gaussian(rnd, v, 0.5);
        Tensor targets = cpu.allocate(DType.I32, k);
        cpu.upload(targets, new int[] {3, 36, -100, 0, 17, 3});
        for (Precision precision : Precision.values()) {
            float[][][] runs = new float[2][][];
            for (int fused = 0; fused < 2; fused++) {
                Tape tape = new Tape(cpu);
                Ops ops = new Ops(tape);
                ops.setPrecision(precision);
                Var x0 = trainable(cpu, xs, k, c), w = trainable(cpu, ws, v, c), bias = trainable(cpu, bs, v);
                Var x = ops.scale(x0, 1f);
                Var logits, loss;
                if (fused == 1) {
                    Ops.LogitsAndLoss r = ops.linearCrossEntropy(x, w, bias, targets);
                    logits = r.logits();
                    loss = r.loss();
                    assertFalse(logits.requiresGrad(), "the logits carry no gradient of their own");
                } else {
                    logits = ops.linear(x, w, bias);
                    loss = ops.crossEntropy(logits, targets);
                }
                tape.backward(ops.scale(loss, 1.5f));
                runs[fused] = new float[][] {cpu.downloadFloat(logits.value()), cpu.downloadFloat(loss.value()),
                        cpu.downloadFloat(x0.grad()), cpu.downloadFloat(w.grad()), cpu.downloadFloat(bias.grad())};
                tape.reset();
                cpu.resetArena();
            }
            String[] names = {"logits", "loss", "dx", "dW", "dBias"};
            for (int i = 0; i < names.length; i++) assertSameBits(precision + ": " + names[i], runs[0][i], runs[1][i]);
        }
    }

    @Test
    void gradientsMatchFiniteDifferencesInF64() {
        Random rnd = new Random(67);
        int k = 4, c = 3, v = 7;
        Parameter x = TapeGradCheck.randomParameter(cpu, rnd, "x", k, c), w = TapeGradCheck.randomParameter(cpu, rnd, "w", v, c);
        Parameter bias = TapeGradCheck.randomParameter(cpu, rnd, "bias", v);
        Tensor targets = cpu.allocate(DType.I32, k);
        cpu.upload(targets, new int[] {6, -1, 0, 2});
        TapeGradCheck.assertGradients(new Ops(new Tape(cpu)), ops -> ops.linearCrossEntropy(ops.gelu(x), w, bias, targets).loss(),
                List.of(x, w, bias), "");
    }
}
