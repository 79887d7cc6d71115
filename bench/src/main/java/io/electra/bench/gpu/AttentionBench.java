package io.electra.bench.gpu;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.Tensor;
import io.electra.kernels.CudaBackend;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Our bf16 flash attention, forward + backward, against
 * torch.nn.functional.scaled_dot_product_attention at sequence lengths 128 and 512 (goal: at
 * least as fast), side by side in one run. Ours always applies the key padding mask (all ones
 * here) and, at p > 0, dropout; SDPA runs without a mask so that it may pick its flash kernel.
 * {@code inPlaceQkvMs} times the same work as the model runs it, the heads read and written in place
 * in the fused projection [B, T, 3C] and the context [B, T, C] (attentionForwardQkv/BackwardQkv).
 *
 * <p>Usage:
 * <pre>
 *   AttentionBench --list-shapes SHAPES.json            (no GPU: the cases, for attention_torch.py)
 *   AttentionBench OUT.json [--torch TORCH.json] [--reps N] [--smoke]
 * </pre>
 * {@code --smoke} (with {@code --list-shapes} too): the same lengths at batch 1 and 2 heads, two
 * repetitions; it checks the harness (also on the CUDA emulator) and measures nothing worth reporting.
 */
public final class AttentionBench {
    record Case(String name, int b, int h, int t, int d, float p) {
    }

    static List<Case> cases(boolean smoke) {
        List<Case> cases = new ArrayList<>();
        for (float p : new float[] {0f, 0.1f}) {
            cases.add(new Case("small T128 p" + p, smoke ? 1 : 128, smoke ? 2 : 4, 128, 64, p));   // ELECTRA-Small: 256 / 4 heads
            cases.add(new Case("base T128 p" + p, smoke ? 1 : 128, smoke ? 2 : 12, 128, 64, p));
            cases.add(new Case("base T512 p" + p, smoke ? 1 : 32, smoke ? 2 : 12, 512, 64, p));    // ELECTRA-Base pre-training
        }
        return cases;
    }

    public static void main(String[] args) throws IOException {
        boolean smoke = java.util.Arrays.asList(args).contains("--smoke");
        if (args.length >= 2 && args[0].equals("--list-shapes")) {
            ObjectNode root = GpuBenchRun.JSON.createObjectNode();
            ArrayNode list = root.putArray("cases");
            for (Case c : cases(smoke)) {
                list.addObject().put("name", c.name()).put("b", c.b()).put("h", c.h()).put("t", c.t()).put("d", c.d()).put("p", c.p());
            }
            GpuBenchRun.write(Path.of(args[1]), root);
            return;
        }
        if (args.length < 1) {
            System.err.println("usage: AttentionBench --list-shapes SHAPES.json | AttentionBench OUT.json [--torch TORCH.json] [--reps N]");
            System.exit(64);
        }
        Path out = Path.of(args[0]), torch = null;
        int reps = 20;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--torch" -> torch = Path.of(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--smoke" -> reps = Math.min(reps, 2);
                default -> throw new IllegalArgumentException("AttentionBench: unknown argument '" + args[i] + "'");
            }
        }
        Map<String, Double> torchMs = GpuBenchRun.torchMillis(torch);
        try (CudaBackend gpu = GpuBenchRun.backendOrExit("AttentionBench")) {
            ObjectNode root = GpuBenchRun.stamp(gpu, AttentionBench.class, args, "forward + backward, median of " + reps
                    + " CUDA-event timings after 3 warm-ups; SDPA timed by bench/scripts/attention_torch.py");
            ArrayNode results = root.putArray("cases");
            for (Case c : cases(smoke)) {
                run(gpu, c, reps, torchMs.get(c.name()), results.addObject());
                gpu.resetArena();
            }
            GpuBenchRun.write(out, root);
        }
    }

    private static void run(CudaBackend gpu, Case c, int reps, Double torchMs, ObjectNode r) {
        int[] shape = {c.b(), c.h(), c.t(), c.d()};
        Tensor q = gpu.allocateTemp(DType.BF16, shape), k = gpu.allocateTemp(DType.BF16, shape);
        Tensor v = gpu.allocateTemp(DType.BF16, shape), dOut = gpu.allocateTemp(DType.BF16, shape);
        Tensor out = gpu.allocateTemp(DType.BF16, shape), dq = gpu.allocateTemp(DType.BF16, shape);
        Tensor dk = gpu.allocateTemp(DType.BF16, shape), dv = gpu.allocateTemp(DType.BF16, shape);
        Tensor lse = gpu.allocateTemp(DType.F32, gpu.attentionSavedShape(c.b(), c.h(), c.t(), c.d()));
        Tensor mask = gpu.allocateTemp(DType.I32, c.b(), c.t());
        long seed = 1;  // random, not constant (METHOD: constant data can time faster than real data)
        for (Tensor t : new Tensor[] {q, k, v, dOut}) gpu.upload(t, GpuBenchRun.randomBf16(t.size(), seed++));
        gpu.fill(mask, 1);
        RngKey key = new RngKey(7, 1, RngKey.DROPOUT_BASE);
        float scale = (float) (1 / Math.sqrt(c.d()));
        double fwd = GpuBenchRun.medianMillis(gpu, reps, () -> gpu.attentionForward(out, lse, q, k, v, mask, scale, c.p(), key));
        double bwd = GpuBenchRun.medianMillis(gpu, reps,
                () -> gpu.attentionBackward(dq, dk, dv, dOut, q, k, v, mask, lse, out, scale, c.p(), key));
        double total = fwd + bwd;
        // the model's own layout: heads read in place from the fused projection [B, T, 3C], the context [B, T, C]
        int C = c.h() * c.d();
        Tensor qkv = gpu.allocateTemp(DType.BF16, c.b(), c.t(), 3 * C), dQkv = gpu.allocateTemp(DType.BF16, c.b(), c.t(), 3 * C);
        Tensor ctx = gpu.allocateTemp(DType.BF16, c.b(), c.t(), C), dCtx = gpu.allocateTemp(DType.BF16, c.b(), c.t(), C);
        gpu.upload(qkv, GpuBenchRun.randomBf16(qkv.size(), seed++));
        gpu.upload(dCtx, GpuBenchRun.randomBf16(dCtx.size(), seed++));
        double inPlace = GpuBenchRun.medianMillis(gpu, reps, () -> gpu.attentionForwardQkv(ctx, lse, qkv, c.h(), mask, scale, c.p(), key))
                + GpuBenchRun.medianMillis(gpu, reps,
                        () -> gpu.attentionBackwardQkv(dQkv, false, dCtx, qkv, c.h(), mask, lse, ctx, scale, c.p(), key));
        r.put("name", c.name()).put("b", c.b()).put("h", c.h()).put("t", c.t()).put("d", c.d()).put("p", c.p());
        r.put("forwardMs", fwd).put("backwardMs", bwd).put("ms", total).put("inPlaceQkvMs", inPlace);
        String vs = "";
        if (torchMs != null) {
            r.put("torchMs", torchMs).put("speedup", torchMs / total);
            vs = String.format("  SDPA %8.3f ms  speedup %.2fx", torchMs, torchMs / total);
        }
        System.out.printf("%-18s fwd %8.3f ms  bwd %8.3f ms  total %8.3f ms  in place (qkv) %8.3f ms%s%n", c.name(), fwd, bwd,
                total, inPlace, vs);
    }
}
