package io.electra.engine.autograd;

import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.nn.Parameter;
import io.electra.engine.nn.StackedLinear;
import io.electra.engine.testing.GradCheck;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The F64 attention block the finite-difference checks share: a fused query/key/value projection
 * [3C, C] named as HF's {@code self}, an input x [B, T, C], a key mask and an MSE target [B*T*C], all
 * uniform in [-1, 1) from {@code rnd}.
 */
record F64QkvFixture(StackedLinear qkv, Parameter x, Tensor mask, Tensor target) {

    static F64QkvFixture of(CpuBackend cpu, Random rnd, int b, int t, int c, int[] mask) {
        StackedLinear qkv = new StackedLinear(cpu, DType.F64, c, c, true, "query", "key", "value");
        qkv.assignNames("self");
        Parameter x = new Parameter(cpu, DType.F64, "x", true, b, t, c);
        for (Tensor p : new Tensor[] {qkv.weight.value(), qkv.bias.value(), x.value()}) {
            cpu.upload(p, GradCheck.uniform(rnd, p.size(), -1, 1));
        }
        Tensor m = cpu.allocate(DType.I32, b, t);
        cpu.upload(m, mask);
        Tensor target = cpu.allocate(DType.F64, b * t * c);
        cpu.upload(target, GradCheck.uniform(rnd, target.size(), -1, 1));
        return new F64QkvFixture(qkv, x, m, target);
    }

    /** The three parts' weights and biases, then x: what the checks differentiate. */
    List<Parameter> parameters() {
        List<Parameter> all = new ArrayList<>(qkv.parameters());
        all.add(x);
        return all;
    }
}
