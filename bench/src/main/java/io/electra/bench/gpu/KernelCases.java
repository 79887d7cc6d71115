package io.electra.bench.gpu;

import io.electra.engine.DType;
import io.electra.engine.ParameterTable;
import io.electra.engine.Tensor;
import io.electra.kernels.CudaBackend;

import java.util.Collections;
import java.util.List;

/** The memory-bound kernels at one model shape, with the bytes each must move. */
final class KernelCases {
    interface Measure {
        void run(String kernel, BenchShape shape, String tensors, long bytes, Runnable call);
    }

    private final CudaBackend gpu;
    private final BenchShape s;
    private final Measure measure;

    KernelCases(CudaBackend gpu, BenchShape shape, Measure measure) {
        this.gpu = gpu;
        this.s = shape;
        this.measure = measure;
    }

    void runAll() {
        int n = s.rows(), c = s.channels(), f = s.ffn();
        long nc = (long) n * c, nf = (long) n * f;
        Tensor x = temp(n, c), y = temp(n, c), z = temp(n, c), bias = temp(c), h = temp(n, f), h2 = temp(n, f), biasF = temp(f);
        Tensor mean = temp(n), rstd = temp(n), w = temp(c);
        gpu.fill(w, 1);
        gpu.fill(rstd, 1);
        measure.run("elementwise_forward_bias", s, "[N, FFN]", 4 * (2 * nf + f), () -> gpu.biasAdd(h2, h, biasF));
        measure.run("elementwise_forward_bias_gelu", s, "[N, FFN]", 4 * (2 * nf + f), () -> gpu.biasGeluForward(h2, h, biasF));
        measure.run("elementwise_forward_gelu", s, "[N, FFN]", 4 * 2 * nf, () -> gpu.geluForward(h2, h));
        measure.run("elementwise_backward_gelu", s, "[N, FFN] +=", 4 * 4 * nf, () -> gpu.geluBackward(h2, h, h));
        measure.run("elementwise_forward_add", s, "[N, C] residual", 4 * 3 * nc, () -> gpu.add(z, x, 1f, y, 1f));
        measure.run("elementwise_forward_scale", s, "[N, FFN]", 4 * 2 * nf, () -> gpu.scale(h2, h, 0.5f));
        measure.run("elementwise_backward_bias", s, "[N, FFN] -> [FFN]", 4 * (nf + 2 * f), () -> gpu.biasBackward(biasF, h));
        measure.run("layernorm_forward", s, "[N, C]", 4 * (2 * nc + 2L * n + 2 * c), () -> gpu.layerNormForward(z, mean, rstd, x, w, bias, 1e-12f));
        Tensor sum = temp(n, c), dX = temp(n, c);
        measure.run("layernorm_forward_dropout_residual", s, "[N, C] p 0.1", 4 * (4 * nc + 2L * n + 2 * c),
                () -> gpu.dropoutAddLayerNormForward(z, null, sum, mean, rstd, x, y, w, bias, 1e-12f, 0.1f, KernelBandwidthBench.KEY));
        Tensor dW = temp(c), dB = temp(c);
        measure.run("layernorm_backward", s, "[N, C] +=", 4 * (4 * nc + 2L * n + c),
                () -> gpu.layerNormBackward(z, dW, dB, y, x, mean, rstd, w));
        measure.run("layernorm_backward_dropout_residual", s, "[N, C] p 0.1, = both", 4 * (4 * nc + 2L * n + c),
                () -> gpu.dropoutAddLayerNormBackward(dX, false, z, false, dW, dB, y, sum, mean, rstd, w, 0.1f,
                        KernelBandwidthBench.KEY));
        // the tail's backward into a linear's output, as mixed precision runs it: bf16 dX and the linear's bias sums
        Tensor dXHalf = gpu.allocateTemp(DType.BF16, n, c), dXBias = temp(c);
        measure.run("layernorm_backward_dropout_residual_linear", s, "[N, C] p 0.1, bf16 dX", 4 * (3 * nc + 2L * n + c) + 2 * nc,
                () -> gpu.dropoutAddLayerNormBackwardToLinear(dXHalf, dXBias, z, false, dW, dB, y, sum, mean, rstd, w, 0.1f,
                        KernelBandwidthBench.KEY));
        measure.run("dropout_forward", s, "[N, FFN]", 4 * 2 * nf, () -> gpu.dropoutForward(h2, h, 0.1f, KernelBandwidthBench.KEY));
        measure.run("dropout_backward", s, "[N, FFN] +=", 4 * 3 * nf, () -> gpu.dropoutBackward(h2, h, 0.1f, KernelBandwidthBench.KEY));
        Tensor half = gpu.allocateTemp(DType.BF16, n, f), sumSquares = temp(1);
        measure.run("copy_forward_f32_to_bf16", s, "[N, FFN]", 6 * nf, () -> gpu.copy(half, h));
        // a linear's output gradient: GELU's derivative, the bf16 rounding and the bias gradient in one pass
        measure.run("elementwise_backward_linear_grad_bf16", s, "[N, FFN] -> bf16, [FFN] +=", 10 * nf + 8L * f,
                () -> gpu.linearOutputGrad(half, biasF, h2, h));
        measure.run("elementwise_backward_bias_bf16", s, "bf16 [N, FFN] -> [FFN]", 2 * nf + 8L * f, () -> gpu.biasBackward(biasF, half));
        measure.run("reduce_forward_partial", s, "sum [N, FFN]", 4 * nf, () -> gpu.sumSquaresAccumulate(sumSquares, h));
        int bht = s.batch() * s.heads() * s.seq();
        Tensor scores = temp(bht, s.seq()), probs = temp(bht, s.seq());
        long att = (long) bht * s.seq();
        measure.run("softmax_forward", s, "[B*H*T, T]", 4 * 2 * att, () -> gpu.softmaxForward(probs, scores));
        measure.run("softmax_backward", s, "[B*H*T, T] +=", 4 * 4 * att, () -> gpu.softmaxBackward(scores, probs, probs));
        Tensor split = temp(s.batch(), s.heads(), s.seq(), c / s.heads());
        measure.run("heads_forward_split", s, "[B, T, C]", 4 * 2 * nc, () -> gpu.splitHeads(split, x.view(s.batch(), s.seq(), c), s.heads(), false));
        // the fused query, key and value projection's heads as mixed precision moves them: f32 -> bf16 q, k, v, and back
        Tensor qkv = temp(s.batch(), s.seq(), 3 * c), q = gpu.allocateTemp(DType.BF16, split.shape());
        Tensor kHeads = gpu.allocateTemp(DType.BF16, split.shape()), vHeads = gpu.allocateTemp(DType.BF16, split.shape());
        measure.run("heads_forward_split_qkv_f32_to_bf16", s, "[B, T, 3C] -> bf16", 3 * (4 + 2) * nc,
                () -> gpu.splitHeadsQkv(q, kHeads, vHeads, qkv, s.heads()));
        measure.run("heads_forward_merge_qkv_bf16_to_f32", s, "bf16 -> [B, T, 3C] =", 3 * (2 + 4) * nc,
                () -> gpu.mergeHeadsQkv(qkv, q, kHeads, vHeads, false));
        Tensor table = temp(s.vocab(), c), ids = gpu.allocateTemp(DType.I32, n);
        int[] randomIds = new int[n];
        java.util.Random random = new java.util.Random(1);
        for (int i = 0; i < n; i++) randomIds[i] = random.nextInt(s.vocab());  // scattered rows, as real text gives
        gpu.upload(ids, randomIds);
        measure.run("embedding_forward", s, "[V, C] -> [N, C]", 4 * (2 * nc + n), () -> gpu.embeddingForward(x, table, ids));
        // the word, position and token-type rows summed as they are read (positions 0..T-1, one token type)
        Tensor positionTable = temp(s.seq(), c), typeTable = temp(2, c);
        Tensor positions = gpu.allocateTemp(DType.I32, n), types = gpu.allocateTemp(DType.I32, n);
        int[] positionIds = new int[n];
        for (int i = 0; i < n; i++) positionIds[i] = i % s.seq();
        gpu.upload(positions, positionIds);
        gpu.fill(types, 0);
        measure.run("embedding_forward_sum3", s, "3 x [V, C] -> [N, C]", 4 * (4 * nc + 3L * n),
                () -> gpu.embeddingSumForward(x, table, ids, positionTable, positions, typeTable, types));
        int k = s.selected();
        Tensor logits = temp(k, s.vocab()), lse = temp(k), targets = gpu.allocateTemp(DType.I32, k), loss = temp(1);
        long kv = (long) k * s.vocab();
        measure.run("crossentropy_forward", s, "[K, V]", 4 * kv, () -> gpu.crossEntropyForward(loss, lse, logits, targets));
        Tensor dLogits = temp(k, s.vocab()), dLoss = temp(1);
        measure.run("crossentropy_backward", s, "[K, V] +=", 4 * 3 * kv, () -> gpu.crossEntropyBackward(dLogits, dLoss, logits, lse, targets));
        // as the masked-LM head's loss runs it in mixed precision: bf16 logits gradient and the head's bias sums
        Tensor dLogitsHalf = gpu.allocateTemp(DType.BF16, k, s.vocab()), dVocabBias = temp(s.vocab());
        measure.run("crossentropy_backward_linear", s, "[K, V] -> bf16, [V] +=", 6 * kv + 8L * s.vocab(),
                () -> gpu.crossEntropyBackwardToLinear(dLogitsHalf, dVocabBias, dLoss, logits, lse, targets));
        Tensor grad = temp(n, f), m = temp(n, f), v = temp(n, f), scale = temp(1), hyper = temp(3);
        gpu.fill(hyper, 1);
        measure.run("adamw_update", s, "param [N, FFN]", 4 * 7 * nf, () -> gpu.adamwStep(h2, grad, m, v, scale, hyper, 0.9f, 0.999f, 1e-6f, 0.01f));
        // the optimizer's table path over one tensor of that size: the chunked kernels AdamW launches once per step
        try (ParameterTable one = gpu.parameterTable(List.of(h2), List.of(grad), List.of(m), List.of(v),
                Collections.singletonList(null), new float[] {0.01f}, new int[] {0})) {
            measure.run("adamw_grad_sumsq_multi", s, "grads [N, FFN]", 4 * nf, () -> gpu.gradSumSquares(sumSquares, one));
            measure.run("adamw_update_multi", s, "param [N, FFN], grad zeroed", 4 * 8 * nf,
                    () -> gpu.adamwStepAll(one, scale, hyper, 0.9f, 0.999f, 1e-6f));
        }
    }

    private Tensor temp(int... shape) {
        return gpu.allocateTemp(DType.F32, shape);
    }
}
