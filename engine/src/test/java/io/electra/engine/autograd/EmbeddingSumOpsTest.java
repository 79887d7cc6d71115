package io.electra.engine.autograd;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.nn.Parameter;
import io.electra.engine.testing.TapeGradCheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static io.electra.engine.testing.Approx.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.electra.engine.testing.TestValues.gaussian;
import static io.electra.engine.testing.TestValues.trainable;
import static io.electra.engine.testing.TestValues.ids;

/**
 * {@link Ops#embeddingSum}, the word, position and token-type lookups summed as one op, against
 * {@code add(add(embedding, embedding), embedding)}: the same values and table gradients to the bit,
 * with ids repeated within and across tables and the word table also used by a tied output projection
 * (as the generator's decoder uses it); central finite differences in F64; ids out of range named.
 */
class EmbeddingSumOpsTest {
    private static final CpuBackend cpu = new CpuBackend(2);

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Test
    void fusedSumIsTheLookupsThenTwoAddsBitForBit() {
        Random rnd = new Random(71);
        int b = 3, t = 5, c = 6, v = 11, positions = 8;
        float[] wordValues = gaussian(rnd, v * c), posValues = gaussian(rnd, positions * c), typeValues = gaussian(rnd, 2 * c);
        Tensor wordIds = ids(cpu, rnd, v, b, t), pos = ids(cpu, rnd, positions, b, t), types = ids(cpu, rnd, 2, b, t);
        float[][][] runs = new float[2][][];
        for (int fused = 0; fused < 2; fused++) {
            Tape tape = new Tape(cpu);
            Ops ops = new Ops(tape);
            Var words = trainable(cpu, wordValues, v, c), posTable = trainable(cpu, posValues, positions, c);
            Var typeTable = trainable(cpu, typeValues, 2, c);
            Var sum = fused == 1 ? ops.embeddingSum(words, wordIds, posTable, pos, typeTable, types)
                    : ops.add(ops.add(ops.embedding(words, wordIds), ops.embedding(posTable, pos)), ops.embedding(typeTable, types));
            // a tied projection reads the word table too, so its gradient has two contributions
            Var logits = ops.linear(ops.gelu(sum), words, null);
            tape.backward(ops.sum(ops.gelu(logits), 1f));
            runs[fused] = new float[][] {cpu.downloadFloat(sum.value()), cpu.downloadFloat(words.grad()),
                    cpu.downloadFloat(posTable.grad()), cpu.downloadFloat(typeTable.grad())};
            tape.reset();
            cpu.resetArena();
        }
        String[] names = {"sum", "dWords", "dPositions", "dTypes"};
        for (int i = 0; i < names.length; i++) assertSameBits(names[i], runs[0][i], runs[1][i]);
    }

    @Test
    void gradientsMatchFiniteDifferencesInF64() {
        Random rnd = new Random(73);
        Parameter words = TapeGradCheck.randomParameter(cpu, rnd, "words", 5, 3);
        Parameter positions = TapeGradCheck.randomParameter(cpu, rnd, "positions", 4, 3);
        Parameter types = TapeGradCheck.randomParameter(cpu, rnd, "types", 2, 3);
        Tensor wordIds = ids(cpu, rnd, 5, 2, 4), pos = ids(cpu, rnd, 4, 2, 4), tt = ids(cpu, rnd, 2, 2, 4);
        TapeGradCheck.assertGradients(new Ops(new Tape(cpu)),
                ops -> ops.sum(ops.gelu(ops.embeddingSum(words, wordIds, positions, pos, types, tt)), 1f),
                List.of(words, positions, types), "");
    }

    @Test
    void anIdOutsideItsTableIsNamed() {
        Random rnd = new Random(79);
        Ops ops = new Ops(new Tape(cpu));
        Var a = trainable(cpu, gaussian(rnd, 12), 4, 3), p = trainable(cpu, gaussian(rnd, 6), 2, 3);
        Var t = trainable(cpu, gaussian(rnd, 6), 2, 3);
        Tensor ok = cpu.allocate(DType.I32, 2), bad = cpu.allocate(DType.I32, 2);
        cpu.upload(ok, new int[] {0, 1});
        cpu.upload(bad, new int[] {1, 2});
        var e = assertThrows(IllegalArgumentException.class, () -> ops.embeddingSum(a, ok, p, bad, t, ok));
        assertTrue(e.getMessage().contains("embeddingSumForward") && e.getMessage().contains("2"), e.getMessage());
    }
}
