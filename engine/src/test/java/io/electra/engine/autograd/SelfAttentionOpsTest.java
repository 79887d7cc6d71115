package io.electra.engine.autograd;

import io.electra.engine.DType;
import io.electra.engine.Precision;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.HalfFloats;
import io.electra.engine.nn.Linear;
import io.electra.engine.nn.Parameter;
import io.electra.engine.nn.StackedLinear;
import io.electra.engine.testing.GradCheck;
import io.electra.engine.testing.TapeGradCheck;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import static io.electra.engine.testing.Approx.assertSameBits;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static io.electra.engine.testing.TestValues.gaussian;

/**
 * {@link Ops#selfAttention} and {@link Ops#attentionQkv}, attention over the fused projection with the
 * heads never copied out, against the ops they replace: the projection, {@link Ops#splitHeadsQkv},
 * {@link Ops#attention} and {@link Ops#mergeHeads}. In both precisions every value and gradient is the
 * same to the bit: in mixed precision the projection's bf16 output is the f32 sum rounded once, as the
 * split rounded it, and its bf16 gradient holds the values the split's F32 one held (the attention
 * rounds them to bf16 either way), summed for the bias in the same order. The F64 run checks the
 * gradients against central finite differences, with the projection's output also used elsewhere so
 * that the attention's backward adds into a gradient already there.
 */
class SelfAttentionOpsTest {
    private static final CpuBackend cpu = new CpuBackend(2);

    @AfterAll
    static void close() {
        cpu.close();
    }

    @Test
    void selfAttentionIsTheProjectionSplitAttentionAndMergeBitForBit() {
        Random rnd = new Random(41);
        int b = 2, t = 6, heads = 2, c = 16;
        StackedLinear qkv = new StackedLinear(cpu, c, c, true, "query", "key", "value");
        Linear out = new Linear(cpu, c, c, true);
        for (Tensor p : new Tensor[] {qkv.weight.value(), qkv.bias.value(), out.weight.value(), out.bias.value()}) {
            cpu.upload(p, gaussian(rnd, (int) p.size(), 0.5));
        }
        float[] x = gaussian(rnd, b * t * c, 1), target = gaussian(rnd, b * t * c, 1);
        Tensor mask = cpu.allocate(DType.I32, b, t);
        cpu.upload(mask, new int[] {1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1});
        for (Precision precision : Precision.values()) {
            if (precision == Precision.BF16) for (Linear part : qkv.parts()) part.weight.enableBf16Copy();
            Run fused = run(qkv, out, x, target, mask, precision, true);
            Run composed = run(qkv, out, x, target, mask, precision, false);
            assertSameBits(precision + ": context", composed.context, fused.context);
            assertSameBits(precision + ": loss", composed.loss, fused.loss);
            assertSameBits(precision + ": x gradient", composed.dx, fused.dx);
            assertSameBits(precision + ": projection weight gradient", composed.dWeight, fused.dWeight);
            assertSameBits(precision + ": projection bias gradient", composed.dBias, fused.dBias);
            assertEquals(precision == Precision.BF16 ? DType.BF16 : DType.F32, fused.contextType, "the context's dtype");
        }
        for (Linear part : qkv.parts()) part.weight.disableBf16Copy();
    }

    /** One forward and backward: the context, the loss and the gradients of x and the projection's parameters. */
    private record Run(float[] context, DType contextType, float[] loss, float[] dx, float[] dWeight, float[] dBias) {
    }

    private static Run run(StackedLinear qkv, Linear out, float[] x, float[] target, Tensor mask, Precision precision, boolean fused) {
        Tape tape = new Tape(cpu);
        Ops ops = new Ops(tape);
        ops.setPrecision(precision);
        ops.setRng(99, 3);
        int b = mask.dim(0), t = mask.dim(1), c = out.in(), heads = 2;
        qkv.zeroGrad();
        out.zeroGrad();
        Tensor xt = cpu.allocateTemp(DType.F32, b, t, c);
        cpu.upload(xt, x);
        Var xv = ops.scale(new Var(xt, true), 1f);
        Var context;
        if (fused) {
            context = ops.selfAttention(xv, qkv.weight, qkv.bias, heads, mask, 0.2f, 5).context();
        } else {
            Ops.QkvHeads split = ops.splitHeadsQkv(qkv.forward(ops, xv), heads);
            context = ops.mergeHeads(ops.attention(split.q(), split.k(), split.v(), mask, 0.2f, 5).context());
        }
        Tensor targetT = cpu.allocateTemp(DType.F32, b * t * c);
        cpu.upload(targetT, target);
        Var loss = ops.mse(ops.view(out.forward(ops, context), b * t * c), targetT);
        tape.backward(loss);
        Run r = new Run(cpu.downloadFloat(context.value()), context.value().dtype(), cpu.downloadFloat(loss.value()),
                cpu.downloadFloat(xv.grad()), cpu.downloadFloat(qkv.weight.grad()), cpu.downloadFloat(qkv.bias.grad()));
        tape.reset();
        cpu.resetArena();
        return r;
    }

    @Test
    void anF32ProjectionInMixedPrecisionIsRoundedAndItsGradientWidened() {
        Random rnd = new Random(43);
        int b = 2, t = 5, heads = 2, d = 4, c = heads * d;
        float[] values = gaussian(rnd, b * t * 3 * c, 1), target = gaussian(rnd, b * t * c, 1);
        Linear out = new Linear(cpu, c, c, true);
        cpu.upload(out.weight.value(), gaussian(rnd, c * c, 0.5));
        Tensor mask = cpu.allocate(DType.I32, b, t);
        cpu.upload(mask, new int[] {1, 1, 1, 0, 0, 1, 1, 1, 1, 1});
        float[][] grads = new float[2][];
        float[][] contexts = new float[2][];
        for (int fused = 0; fused < 2; fused++) {
            Tape tape = new Tape(cpu);
            Ops ops = new Ops(tape);
            ops.setPrecision(Precision.BF16);
            Tensor qkvT = cpu.allocateTemp(DType.F32, b, t, 3 * c);
            cpu.upload(qkvT, values);
            Var qkv = ops.scale(new Var(qkvT, true), 1f);
            // used elsewhere too, and first: the attention's backward adds its widened gradient into what is there
            Var other = ops.sum(qkv, 0.25f);
            Var context = fused == 1 ? ops.attentionQkv(qkv, heads, mask, 0f, 2).context() : composed(ops, qkv, heads, mask);
            Tensor targetT = cpu.allocateTemp(DType.F32, b * t * c);
            cpu.upload(targetT, target);
            tape.backward(ops.add(ops.mse(ops.view(out.forward(ops, context), b * t * c), targetT), 1, other, 1));
            contexts[fused] = cpu.downloadFloat(context.value());
            grads[fused] = cpu.downloadFloat(qkv.grad());
            tape.reset();
            cpu.resetArena();
        }
        for (float v : contexts[1]) assertEquals(v, HalfFloats.roundToBf16(v), "the context is bf16");
        assertSameBits("context", contexts[0], contexts[1]);
        assertSameBits("qkv gradient", grads[0], grads[1]);
    }

    private static Var composed(Ops ops, Var qkv, int heads, Tensor mask) {
        Ops.QkvHeads split = ops.splitHeadsQkv(qkv, heads);
        return ops.mergeHeads(ops.attention(split.q(), split.k(), split.v(), mask, 0f, 2).context());
    }

    @Test
    void gradientsMatchFiniteDifferencesInF64() {
        Random rnd = new Random(47);
        int b = 2, t = 3, heads = 2, d = 3, c = heads * d;
        F64QkvFixture f = F64QkvFixture.of(cpu, rnd, b, t, c, new int[] {1, 0, 1, 1, 1, 1});
        StackedLinear qkv = f.qkv();
        Parameter xp = f.x();
        Tensor mask = f.mask(), target = f.target();
        for (boolean shared : new boolean[] {false, true}) {
            Function<Ops, Var> loss = ops -> {
                Var x = ops.gelu(xp);
                Var context;
                Var extra = null;
                if (shared) {  // the projection also feeds another term, recorded later: its backward comes first
                    Var y = qkv.forward(ops, x);
                    context = ops.attentionQkv(y, heads, mask, 0f, 1).context();
                    extra = ops.sum(ops.gelu(y), 0.3f);
                } else {
                    context = ops.selfAttention(x, qkv.weight, qkv.bias, heads, mask, 0f, 1).context();
                }
                Var l = ops.mse(ops.view(context, b * t * c), target);
                return extra == null ? l : ops.add(l, 1, extra, 1);
            };
            List<Parameter> checked = f.parameters();
            TapeGradCheck.assertGradients(new Ops(new Tape(cpu)), loss, checked, shared ? ", shared" : "");
        }
    }

    @Test
    void aProjectionThatIsNotThreeThirdsOfHeadsIsRefusedNamingIt() {
        Tape tape = new Tape(cpu);
        Ops ops = new Ops(tape);
        Var qkv = new Var(cpu.allocate(DType.F32, 2, 3, 20).named("qkv"), false);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ops.attentionQkv(qkv, 3, cpu.allocate(DType.I32, 2, 3), 0f, 1));
        assertTrue(e.getMessage().contains("qkv F32[2, 3, 20]") && e.getMessage().contains("3 * 3 heads"), e.getMessage());
    }
}
