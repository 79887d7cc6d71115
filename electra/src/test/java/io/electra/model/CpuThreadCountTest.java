package io.electra.model;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.autograd.Ops;
import io.electra.engine.autograd.Tape;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.nn.Init;
import io.electra.engine.nn.Parameter;
import io.electra.engine.optim.AdamW;
import io.electra.engine.optim.AdamWConfig;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Whole ELECTRA training steps (masking, both networks with dropout, Gumbel sampling, backward,
 * AdamW) give the same bits on 1 and on 3 CPU threads: the kernels split work only where the split
 * cannot change an order of additions. Resuming a run on a machine with another core count relies
 * on it. The shapes are large enough that every kernel does split its work.
 */
class CpuThreadCountTest {
    private static final int BATCH = 4, SEQ = 48, VOCAB = 1500;

    @Test
    void trainingStepsAreBitIdenticalOnOneAndThreeThreads() {
        List<float[]> one = train(1), three = train(3);
        assertEquals(one.size(), three.size());
        for (int t = 0; t < one.size(); t++) {
            float[] a = one.get(t), b = three.get(t);
            for (int i = 0; i < a.length; i++) {
                if (Float.floatToRawIntBits(a[i]) != Float.floatToRawIntBits(b[i])) {
                    fail("tensor " + t + " (losses first, then parameters) element " + i + ": 1 thread " + a[i]
                            + ", 3 threads " + b[i]);
                }
            }
        }
    }

    /** Per step the three losses, then every parameter after the last step. */
    private static List<float[]> train(int threads) {
        List<float[]> out = new ArrayList<>();
        try (Backend b = new CpuBackend(threads)) {
            ElectraConfig d = Preset.named("tiny").discriminator().copy();
            d.vocabSize = VOCAB;
            d.maxPositionEmbeddings = SEQ;
            ElectraPretraining model = new ElectraPretraining(b, Preset.generatorOf(d, 0.5), d, 50f);
            for (Parameter p : model.parameters()) {
                if (p.name().endsWith("LayerNorm.weight")) Init.ones(p);
                else if (p.name().endsWith(".bias")) Init.zeros(p);
                else Init.truncatedNormal(p, 0.02, 7);
            }
            AdamW opt = new AdamW(b, model.parameters(), AdamWConfig.electra());
            Masking masking = new Masking(Masking.defaultMaxPredictions(0.15, SEQ), 0.15, 101, 102, 103, 0, VOCAB,
                    Masking.Style.ELECTRA);
            Tape tape = new Tape(b);
            Ops ops = new Ops(tape);
            int n = BATCH * SEQ, k = BATCH * masking.maxPredictions();
            int[] ids = new int[n], types = new int[n], mask = new int[n];
            SplittableRandom rnd = new SplittableRandom(3);
            for (int r = 0; r < BATCH; r++) {
                int len = SEQ - 9 * r;
                for (int t = 0; t < SEQ; t++) {
                    ids[r * SEQ + t] = t >= len ? 0 : t == 0 ? 101 : t == len - 1 ? 102 : 200 + rnd.nextInt(VOCAB - 200);
                    mask[r * SEQ + t] = t < len ? 1 : 0;
                }
            }
            ElectraInputs inputs = ElectraInputs.upload(b, BATCH, SEQ, ids, types, mask);
            var dm = new ElectraPretraining.DeviceMasking(b.allocate(DType.I32, BATCH, SEQ), b.allocate(DType.I32, k),
                    b.allocate(DType.I32, k), b.allocate(DType.I32, k));
            for (long step = 0; step < 2; step++) {
                Masking.Batch m = masking.apply(ids, mask, BATCH, SEQ, new RngKey(9, step, RngKey.MASKING));
                b.upload(dm.generatorIds(), m.maskedIds());
                b.upload(dm.rows(), m.rows());
                b.upload(dm.targets(), m.targets());
                b.upload(dm.replaceAt(), m.replaceAt());
                ops.setRng(9, step);
                var o = model.forward(ops, inputs, dm, null, new RngKey(9, step, RngKey.GUMBEL), null);
                tape.backward(o.total());
                out.add(new float[]{b.downloadFloat(o.generatorLoss().value())[0],
                        b.downloadFloat(o.discriminatorLoss().value())[0], b.downloadFloat(o.total().value())[0]});
                tape.reset();
                b.resetArena();
                opt.step(1e-3);
            }
            for (Parameter p : model.parameters()) out.add(b.downloadFloat(p.value()));
        }
        return out;
    }
}
