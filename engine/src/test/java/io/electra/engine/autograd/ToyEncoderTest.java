package io.electra.engine.autograd;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.engine.cpu.CpuBackend;
import io.electra.engine.nn.Embedding;
import io.electra.engine.nn.Init;
import io.electra.engine.nn.LayerNorm;
import io.electra.engine.nn.Linear;
import io.electra.engine.nn.Module;
import io.electra.engine.nn.Parameter;
import io.electra.engine.optim.AdamW;
import io.electra.engine.optim.AdamWConfig;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A sanity test of the whole engine: a two-layer post-LN BERT-style encoder built from the ops learns
 * a task that needs attention (predict the previous token), and its loss falls well below chance.
 */
class ToyEncoderTest {
    static final int VOCAB = 12, SEQ = 8, C = 32, HEADS = 4, BATCH = 16;

    static final class Layer extends Module {
        final Linear q, k, v, o, ff1, ff2;
        final LayerNorm ln1, ln2;

        Layer(Backend b) {
            super(b);
            q = child("q", new Linear(b, C, C, true));
            k = child("k", new Linear(b, C, C, true));
            v = child("v", new Linear(b, C, C, true));
            o = child("o", new Linear(b, C, C, true));
            ln1 = child("ln1", new LayerNorm(b, C, 1e-12));
            ff1 = child("ff1", new Linear(b, C, 4 * C, true));
            ff2 = child("ff2", new Linear(b, 4 * C, C, true));
            ln2 = child("ln2", new LayerNorm(b, C, 1e-12));
        }

        Var forward(Ops ops, Var h, Tensor mask) {
            Var ctx = ops.attention(ops.splitHeads(q.forward(ops, h), HEADS), ops.splitHeads(k.forward(ops, h), HEADS),
                    ops.splitHeads(v.forward(ops, h), HEADS), mask, 0f, 1).context();
            Var a = ln1.forward(ops, ops.add(o.forward(ops, ops.mergeHeads(ctx)), h));
            return ln2.forward(ops, ops.add(ff2.forward(ops, ops.gelu(ff1.forward(ops, a))), a));
        }
    }

    static final class Encoder extends Module {
        final Embedding tokens, positions;
        final Layer[] layers = new Layer[2];
        final Linear out;

        Encoder(Backend b) {
            super(b);
            tokens = child("tokens", new Embedding(b, VOCAB, C));
            positions = child("positions", new Embedding(b, SEQ, C));
            for (int i = 0; i < layers.length; i++) layers[i] = child("layer" + i, new Layer(b));
            out = child("out", new Linear(b, C, VOCAB, true));
        }
    }

    @Test
    void twoLayerEncoderLearnsToAttendToThePreviousToken() {
        try (CpuBackend b = new CpuBackend(2)) {
            Encoder m = new Encoder(b);
            m.assignNames("");
            for (Parameter p : m.parameters()) {
                if (p.name().endsWith("ln1.weight") || p.name().endsWith("ln2.weight")) Init.ones(p);
                else if (p.name().endsWith(".bias")) Init.zeros(p);
                else Init.truncatedNormal(p, 0.1, 7);
            }
            AdamW opt = new AdamW(b, m.parameters(), AdamWConfig.electra().withWeightDecay(0));
            Tape tape = new Tape(b);
            Ops ops = new Ops(tape);
            Tensor ids = b.allocate(DType.I32, BATCH, SEQ), pos = b.allocate(DType.I32, BATCH, SEQ);
            Tensor mask = b.allocate(DType.I32, BATCH, SEQ), targets = b.allocate(DType.I32, BATCH * SEQ);
            int[] p = new int[BATCH * SEQ], ones = new int[BATCH * SEQ];
            for (int i = 0; i < p.length; i++) { p[i] = i % SEQ; ones[i] = 1; }
            b.upload(pos, p);
            b.upload(mask, ones);
            SplittableRandom rng = new SplittableRandom(3);
            double first = 0, last = 0;
            int steps = 150;
            for (int step = 0; step < steps; step++) {
                int[] x = new int[BATCH * SEQ], y = new int[BATCH * SEQ];
                for (int i = 0; i < x.length; i++) x[i] = rng.nextInt(VOCAB);
                for (int i = 0; i < x.length; i++) y[i] = i % SEQ == 0 ? -1 : x[i - 1];
                b.upload(ids, x);
                b.upload(targets, y);
                Var h = ops.add(m.tokens.forward(ops, ids), m.positions.forward(ops, pos));
                for (Layer layer : m.layers) h = layer.forward(ops, h, mask);
                Var loss = ops.crossEntropy(ops.view(m.out.forward(ops, h), BATCH * SEQ, VOCAB), targets);
                tape.backward(loss);
                double l = b.downloadFloat(loss.value())[0];
                if (step < 10) first += l / 10;
                if (step >= steps - 10) last += l / 10;
                opt.step(3e-3);
                tape.reset();
                b.resetArena();
            }
            assertTrue(first > 2.0, "starts near chance, ln 12 = 2.48: " + first);
            assertTrue(last < 0.5, "learns to copy the previous token: loss " + first + " -> " + last);
        }
    }
}
