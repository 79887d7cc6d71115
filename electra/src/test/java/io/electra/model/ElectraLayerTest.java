package io.electra.model;

import io.electra.engine.DType;
import io.electra.engine.Precision;
import io.electra.engine.Tensor;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Tape;
import io.electra.engine.autograd.Var;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.io.HalfFloats;
import io.electra.engine.nn.Bf16Copies;
import io.electra.engine.nn.Parameter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static io.electra.engine.testing.Approx.assertSameBits;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The layer with its query, key and value projections fused (one GEMM, one heads split) against the
 * computation it replaced, written out here as it was: three projections each split into heads, in
 * training mode with dropout, in fp32 and bf16. The output and every parameter gradient are the same
 * bits; the input gradient sums the 3C projection terms in one f32 sum instead of three, so the two
 * differ by at most 2 gamma_n (n = 3C + 1, gamma_n = n 2^-24 / (1 - n 2^-24)) times the sum of the
 * terms' magnitudes, bounded here by |dh| + 2 sum_j |dy_j W_j| (the gradient already in dh is dh minus the
 * projection terms). QkvProjectionTest derives the bound; this shows the layer uses the fused op as it
 * should and changes nothing else.
 */
class ElectraLayerTest {
    private static final CpuBackend cpu = new CpuBackend(2);
    private static final String SELF = "attention.self.";
    private static final String[] NAMES = {"query", "key", "value"};

    @AfterAll
    static void close() {
        cpu.close();
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void fusedProjectionLayerEqualsTheThreeProjectionLayer(Precision precision) {
        ElectraConfig c = new ElectraConfig();
        c.hiddenSize = 48;
        c.numAttentionHeads = 3;
        c.intermediateSize = 80;
        ElectraLayer layer = new ElectraLayer(cpu, c);
        layer.assignNames("");
        Random rnd = new Random(41);
        for (Parameter p : layer.parameters()) cpu.upload(p.value(), gaussian(rnd, (int) p.value().size(), 0.3));
        if (precision == Precision.BF16) Bf16Copies.enableLinearWeights(layer);
        int b = 2, t = 7, ch = c.hiddenSize;
        float[] h = gaussian(rnd, b * t * ch, 1), target = gaussian(rnd, b * t * ch, 1);
        Tensor mask = cpu.allocate(DType.I32, b, t);
        cpu.upload(mask, new int[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0});
        Result fused = run(layer, c, h, target, mask, precision, true);
        Result apart = run(layer, c, h, target, mask, precision, false);
        assertSameBits(precision + " output", apart.out, fused.out);
        for (String name : apart.grads.keySet()) assertSameBits(precision + " gradient of " + name, apart.grads.get(name), fused.grads.get(name));
        Map<String, Parameter> p = layer.namedParameters();
        int n = 3 * ch + 1;
        double gamma = n * 0x1p-24 / (1 - n * 0x1p-24);
        float[][] w = new float[3][];
        for (int part = 0; part < 3; part++) w[part] = weight(p.get(SELF + NAMES[part] + ".weight"), precision);
        for (int r = 0; r < b * t; r++) {
            for (int col = 0; col < ch; col++) {
                double terms = 0;
                for (int part = 0; part < 3; part++) {
                    float[] dy = apart.projectionGrads[part];
                    for (int j = 0; j < ch; j++) terms += Math.abs((double) dy[r * ch + j] * w[part][j * ch + col]);
                }
                double dh = apart.dh[r * ch + col], bound = 2 * gamma * (Math.abs(dh) + 2 * terms);
                double diff = Math.abs((double) fused.dh[r * ch + col] - dh);
                if (diff > bound) fail(precision + ": dh[" + r + ", " + col + "] fused " + fused.dh[r * ch + col] + ", apart " + dh
                        + ", difference " + diff + " > " + bound);
            }
        }
        if (precision == Precision.BF16) Bf16Copies.disableAll(layer);
    }

    /** The output, every parameter gradient, h's gradient and (apart) the projections' output gradients as their GEMMs read them. */
    private record Result(float[] out, Map<String, float[]> grads, float[] dh, float[][] projectionGrads) {
    }

    private static Result run(ElectraLayer layer, ElectraConfig c, float[] h, float[] target, Tensor mask, Precision precision,
                              boolean fused) {
        Tape tape = new Tape(cpu);
        Ops ops = new Ops(tape);
        ops.setPrecision(precision);
        ops.setRng(5, 9);
        layer.zeroGrad();
        int b = mask.dim(0), t = mask.dim(1), ch = c.hiddenSize;
        Tensor ht = cpu.allocateTemp(DType.F32, b, t, ch);
        cpu.upload(ht, h);
        Var hv = ops.scale(new Var(ht, true), 1f);
        Var[] projections = new Var[3];
        Var out = fused ? layer.forward(ops, hv, mask, 20, null, null) : threeProjections(layer, c, ops, hv, mask, 20, projections);
        Tensor targetT = cpu.allocateTemp(DType.F32, b * t * ch);
        cpu.upload(targetT, target);
        tape.backward(ops.mse(ops.view(out, b * t * ch), targetT));
        Map<String, float[]> grads = new LinkedHashMap<>();
        layer.namedParameters().forEach((name, p) -> grads.put(name, cpu.downloadFloat(p.grad())));
        float[][] dy = new float[3][];
        for (int part = 0; part < 3 && !fused; part++) {
            dy[part] = cpu.downloadFloat(projections[part].grad());
            if (precision == Precision.BF16) for (int i = 0; i < dy[part].length; i++) dy[part][i] = HalfFloats.roundToBf16(dy[part][i]);
        }
        Result r = new Result(cpu.downloadFloat(out.value()), grads, cpu.downloadFloat(hv.grad()), dy);
        tape.reset();
        cpu.resetArena();
        return r;
    }

    /** ElectraLayer.forward before the fusion, on the layer's own parameters. */
    private static Var threeProjections(ElectraLayer layer, ElectraConfig c, Ops ops, Var h, Tensor mask, int purpose,
                                        Var[] projections) {
        Map<String, Parameter> p = layer.namedParameters();
        Var[] heads = new Var[3];
        for (int part = 0; part < 3; part++) {
            projections[part] = ops.linear(h, p.get(SELF + NAMES[part] + ".weight"), p.get(SELF + NAMES[part] + ".bias"));
            heads[part] = ops.splitHeads(projections[part], c.numAttentionHeads);
        }
        float hiddenDropout = (float) c.hiddenDropoutProb, eps = (float) c.layerNormEps;
        Var context = ops.mergeHeads(ops.attention(heads[0], heads[1], heads[2], mask, (float) c.attentionProbsDropoutProb,
                purpose).context());
        Var a = ops.dropoutAddLayerNorm(ops.linear(context, p.get("attention.output.dense.weight"), p.get("attention.output.dense.bias")),
                h, hiddenDropout, purpose + 1, p.get("attention.output.LayerNorm.weight"), p.get("attention.output.LayerNorm.bias"), eps);
        Var inner = ops.linearGelu(a, p.get("intermediate.dense.weight"), p.get("intermediate.dense.bias"));
        return ops.dropoutAddLayerNorm(ops.linear(inner, p.get("output.dense.weight"), p.get("output.dense.bias")), a, hiddenDropout,
                purpose + 2, p.get("output.LayerNorm.weight"), p.get("output.LayerNorm.bias"), eps);
    }

    /** W as the GEMMs read it: the F32 master, or its bf16 rounding. */
    private static float[] weight(Parameter w, Precision precision) {
        float[] v = cpu.downloadFloat(w.value());
        if (precision == Precision.BF16) for (int i = 0; i < v.length; i++) v[i] = HalfFloats.roundToBf16(v[i]);
        return v;
    }

    private static float[] gaussian(Random rnd, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (scale * rnd.nextGaussian());
        return v;
    }
}
