package io.electra.bench.gpu;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.electra.engine.DType;
import io.electra.engine.Tensor;
import io.electra.kernels.CublasGemm;
import io.electra.kernels.CudaBackend;
import io.electra.kernels.ops.GemmTcKernels;
import io.electra.kernels.ops.GemmTcTile;
import io.electra.kernels.ops.GemmWgmmaTile;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Our bf16 tensor-core GEMM against torch.matmul (cuBLAS) at the model's shapes, in TFLOP/s, side
 * by side in one run (goal: at least 80% of cuBLAS). The shapes are the linear layers of
 * ELECTRA-Small and -Base at N = 16384 rows: forward x W^T (nt), input gradient dy W (nn), weight
 * gradient dy^T x (tn), and the vocabulary projection (f32 logits; 30522 = 2 mod 8 takes the 4-byte
 * copies in its backward). Inputs are constant-filled on both sides (same data, same power draw).
 *
 * <p>Usage:
 * <pre>
 *   GemmBench --list-shapes SHAPES.json                     (no GPU: the cases, for gemm_torch.py)
 *   GemmBench OUT.json [--torch TORCH.json] [--sweep] [--reps N] [--smoke]
 * </pre>
 * {@code --sweep} also times every tile at every shape: the measurements the tile table
 * (GemmTcTile.choose) should be corrected with. Where JCublas loads (libcublas.so.12 on the
 * library path; see {@link CublasGemm}) cuBLAS is timed in the same JVM on the same tensors as a
 * second column; otherwise the JSON and the first line say why not. Exits with status 2 where no
 * CUDA device answers. {@code --smoke} (with {@code --list-shapes} too) runs the same cases at 64
 * rows and a 1002-token vocabulary (still 2 mod 8), two repetitions: it checks the harness, on the
 * CUDA emulator as well, and measures nothing worth reporting.
 */
public final class GemmBench {
    record Case(String name, String layout, int m, int n, int k, boolean f32Out) {
        double flops() {
            return 2.0 * m * n * k;
        }
    }

    static List<Case> cases(boolean smoke) {
        List<Case> cases = new ArrayList<>();
        int rows = smoke ? 64 : 16384, vocab = smoke ? 1002 : 30522;
        for (int[] model : new int[][] {{256, 1024}, {768, 3072}}) {
            int c = model[0], ffn = model[1];
            String tag = c == 256 ? "small" : "base";
            cases.add(new Case(tag + " attn proj x W^T", "nt", rows, c, c, false));
            cases.add(new Case(tag + " ffn up x W^T", "nt", rows, ffn, c, false));
            cases.add(new Case(tag + " ffn down x W^T", "nt", rows, c, ffn, false));
            cases.add(new Case(tag + " ffn down dx = dy W", "nn", rows, ffn, c, false));
            cases.add(new Case(tag + " ffn up dW = dy^T x", "tn", ffn, c, rows, false));
            cases.add(new Case(tag + " logits x E^T (f32 out)", "nt", rows, vocab, c, true));
            cases.add(new Case(tag + " logits dx = dlogits E", "nn", rows, c, vocab, false));
            cases.add(new Case(tag + " logits dE = dlogits^T x", "tn", vocab, c, rows, false));
        }
        return cases;
    }

    public static void main(String[] args) throws IOException {
        boolean smoke = Arrays.asList(args).contains("--smoke");
        if (args.length >= 2 && args[0].equals("--list-shapes")) {
            listShapes(Path.of(args[1]), smoke);
            return;
        }
        if (args.length < 1) {
            System.err.println("usage: GemmBench --list-shapes SHAPES.json | GemmBench OUT.json [--torch TORCH.json] [--sweep] [--reps N]");
            System.exit(64);
        }
        Path out = Path.of(args[0]), torch = null;
        boolean sweep = false;
        int reps = 20;
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--torch" -> torch = Path.of(args[++i]);
                case "--sweep" -> sweep = true;
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--smoke" -> reps = Math.min(reps, 2);
                default -> throw new IllegalArgumentException("GemmBench: unknown argument '" + args[i] + "'");
            }
        }
        Map<String, Double> torchMs = GpuBenchRun.torchMillis(torch);
        try (CudaBackend gpu = GpuBenchRun.backendOrExit("GemmBench")) {
            ObjectNode root = GpuBenchRun.stamp(gpu, GemmBench.class, args, "median of " + reps
                    + " CUDA-event timings after 3 warm-ups; constant inputs; torch.matmul timed by bench/scripts/gemm_torch.py");
            CublasGemm.Detection cublas = CublasGemm.open();
            String cublasInfo = cublas.gemm().map(CublasGemm::version).orElse("unavailable: " + cublas.reason());
            root.put("cublas", cublasInfo);
            System.out.println("cuBLAS column: " + cublasInfo);
            try {
                ArrayNode results = root.putArray("cases");
                for (Case c : cases(smoke)) {
                    run(gpu, cublas.gemm().orElse(null), c, reps, sweep, torchMs.get(c.name()), results.addObject());
                    gpu.resetArena();
                }
            } finally {
                cublas.gemm().ifPresent(CublasGemm::close);
            }
            GpuBenchRun.write(out, root);
        }
    }

    private static void run(CudaBackend gpu, CublasGemm cublas, Case c, int reps, boolean sweep, Double torchMs, ObjectNode r) {
        boolean ta = c.layout().charAt(0) == 't', tb = c.layout().charAt(1) == 't';
        Tensor a = gpu.allocateTemp(DType.BF16, ta ? new int[] {c.k(), c.m()} : new int[] {c.m(), c.k()});
        Tensor b = gpu.allocateTemp(DType.BF16, tb ? new int[] {c.n(), c.k()} : new int[] {c.k(), c.n()});
        Tensor out = gpu.allocateTemp(c.f32Out() ? DType.F32 : DType.BF16, c.m(), c.n());
        gpu.upload(a, GpuBenchRun.randomBf16(a.size(), 1));  // random, not constant: the tensor cores' power (and so
        gpu.upload(b, GpuBenchRun.randomBf16(b.size(), 2));  // their clock) depends on the bits they toggle
        double ms = GpuBenchRun.medianMillis(gpu, reps, () -> gpu.matmul(out, a, ta, b, tb, 1f, false));
        double tflops = c.flops() / (ms * 1e9);
        r.put("name", c.name());
        r.put("layout", c.layout());
        r.put("m", c.m());
        r.put("n", c.n());
        r.put("k", c.k());
        r.put("out", c.f32Out() ? "F32" : "BF16");
        r.put("kernel", gpu.tensorCoreGemm().kernelFor(out, a, ta, b, tb));
        r.put("ms", ms);
        r.put("tflops", tflops);
        String vs = "";
        if (torchMs != null) {
            double torchTflops = c.flops() / (torchMs * 1e9);
            r.put("torchMs", torchMs);
            r.put("torchTflops", torchTflops);
            r.put("fractionOfTorch", tflops / torchTflops);
            vs = String.format("  torch %7.1f TFLOP/s  ours/torch %5.1f%%", torchTflops, 100 * tflops / torchTflops);
        }
        if (cublas != null) {
            gpu.synchronize();  // the fills ran on the backend's stream; cuBLAS has its own
            try {
                double cublasMs = cublasMedianMillis(cublas, reps, () -> cublas.matmul(out, a, ta, b, tb));
                double cublasTflops = c.flops() / (cublasMs * 1e9);
                r.put("cublasMs", cublasMs);
                r.put("cublasTflops", cublasTflops);
                r.put("fractionOfCublas", tflops / cublasTflops);
                vs += String.format("  cuBLAS %7.1f TFLOP/s  ours/cuBLAS %5.1f%%", cublasTflops, 100 * tflops / cublasTflops);
            } catch (RuntimeException e) {  // a reference that refuses one case must not lose our numbers
                r.put("cublasError", String.valueOf(e.getMessage()));
                vs += "  cuBLAS failed: " + e.getMessage();
            }
        }
        System.out.printf("%-34s %-44s %8.3f ms %7.1f TFLOP/s%s%n", c.name(), r.get("kernel").asText(), ms, tflops, vs);
        if (sweep) {
            ObjectNode tiles = r.putObject("tiles");
            for (GemmTcTile tile : GemmTcTile.values()) {
                double t = GpuBenchRun.medianMillis(gpu, reps, () -> gpu.tensorCoreGemm().matmulWithTile(out, a, ta, b, tb, tile));
                tiles.put(tile.id(), c.flops() / (t * 1e9));
                System.out.printf("    tile %-12s %7.1f TFLOP/s%n", tile.id(), c.flops() / (t * 1e9));
            }
            GemmTcKernels gemm = gpu.tensorCoreGemm();
            if (gemm.usesWgmma() && gemm.kernelFor(out, a, ta, b, tb).startsWith("gemm_wgmma")) {
                for (GemmWgmmaTile tile : GemmWgmmaTile.values()) {
                    double t = GpuBenchRun.medianMillis(gpu, reps, () -> gemm.matmulWgmma(out, a, ta, b, tb, 1f, false,
                            GemmTcKernels.Epilogue.NONE, null, null, tile));
                    tiles.put("wgmma_" + tile.id(), c.flops() / (t * 1e9));
                    System.out.printf("    tile wgmma_%-6s %7.1f TFLOP/s%n", tile.id(), c.flops() / (t * 1e9));
                }
            }
        }
    }

    /** As GpuBenchRun.medianMillis, on the provider's stream. */
    private static double cublasMedianMillis(CublasGemm cublas, int reps, Runnable call) {
        for (int i = 0; i < 3; i++) call.run();
        double[] ms = new double[reps];
        for (int r = 0; r < reps; r++) ms[r] = cublas.timeMillis(call);
        Arrays.sort(ms);
        return ms[reps / 2];
    }

    private static void listShapes(Path file, boolean smoke) throws IOException {
        ObjectNode root = GpuBenchRun.JSON.createObjectNode();
        ArrayNode list = root.putArray("cases");
        for (Case c : cases(smoke)) {
            ObjectNode o = list.addObject();
            o.put("name", c.name());
            o.put("layout", c.layout());
            o.put("m", c.m());
            o.put("n", c.n());
            o.put("k", c.k());
            o.put("f32Out", c.f32Out());
        }
        GpuBenchRun.write(file, root);
    }
}
