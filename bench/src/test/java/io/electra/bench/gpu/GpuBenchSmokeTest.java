package io.electra.bench.gpu;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.electra.kernels.CudaBackend;
import io.electra.kernels.CudaProbe;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The GPU benchmarks' harness, end to end at smoke size (--smoke): every case runs, the JSON holds
 * what the report reads, and PyTorch's column joins by case name. The GPU bundle's run-all.sh gets
 * one call of device time; this is what keeps a harness bug from spending it. It runs wherever
 * the gpu tests run, the CUDA emulator included; the timings it sees mean nothing.
 */
@Tag("gpu")
class GpuBenchSmokeTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void device() {
        CudaProbe probe = CudaBackend.tryCreate();
        Assumptions.assumeTrue(probe.isAvailable(), () -> "no CUDA device (" + probe.reason() + ")");
        probe.backend().orElseThrow().close();
    }

    @Test
    void gemmBenchJoinsTorchByCaseName() throws Exception {
        Path shapes = tmp.resolve("shapes.json"), torch = tmp.resolve("torch.json"), out = tmp.resolve("gemm.json");
        GemmBench.main(new String[] {"--list-shapes", shapes.toString(), "--smoke"});
        int cases = fakeTorch(shapes, torch);
        GemmBench.main(new String[] {out.toString(), "--torch", torch.toString(), "--smoke", "--sweep"});
        JsonNode root = GpuBenchRun.JSON.readTree(out.toFile());
        assertEquals(cases, root.get("cases").size());
        for (JsonNode c : root.get("cases")) {
            String kernel = c.get("kernel").asText();
            boolean hopper = kernel.startsWith("gemm_wgmma_forward_");  // the emulator, like an H200, is compute capability 9.0
            assertTrue(c.get("tflops").asDouble() > 0 && (hopper || kernel.startsWith("gemm_tc_forward_")), c.toString());
            double flops = 2.0 * c.get("m").asInt() * c.get("n").asInt() * c.get("k").asInt(), torchTflops = flops / (1.5 * 1e9);
            assertEquals(torchTflops, c.get("torchTflops").asDouble(), 1e-9 * torchTflops, "torch's 1.5 ms at this case: " + c);
            assertEquals(c.get("tflops").asDouble() / torchTflops, c.get("fractionOfTorch").asDouble(), 1e-9, c.toString());
            assertEquals(hopper ? 6 : 3, c.get("tiles").size(), "--sweep times every tile of both kernels: " + c);
        }
        assertTrue(root.has("gpu") && root.has("driver") && root.has("commit") && root.has("cublas"), root.toString());
    }

    @Test
    void attentionBenchJoinsTorchByCaseName() throws Exception {
        Path shapes = tmp.resolve("shapes.json"), torch = tmp.resolve("torch.json"), out = tmp.resolve("attention.json");
        AttentionBench.main(new String[] {"--list-shapes", shapes.toString(), "--smoke"});
        int cases = fakeTorch(shapes, torch);
        AttentionBench.main(new String[] {out.toString(), "--torch", torch.toString(), "--smoke"});
        JsonNode root = GpuBenchRun.JSON.readTree(out.toFile());
        assertEquals(cases, root.get("cases").size());
        for (JsonNode c : root.get("cases")) {
            double ms = c.get("ms").asDouble();
            assertEquals(c.get("forwardMs").asDouble() + c.get("backwardMs").asDouble(), ms, 1e-9 * ms, c.toString());
            assertEquals(c.get("torchMs").asDouble() / ms, c.get("speedup").asDouble(), 1e-9, c.toString());
        }
    }

    @Test
    void kernelBandwidthBenchMeasuresEveryMemoryBoundKernel() throws Exception {
        Path out = tmp.resolve("bandwidth.json");
        KernelBandwidthBench.main(new String[] {out.toString(), "--smoke"});
        JsonNode root = GpuBenchRun.JSON.readTree(out.toFile());
        assertTrue(root.get("copyBandwidthGBs").asDouble() > 0, root.toString());
        assertEquals(31, root.get("results").size(), "the kernels KernelCases lists");
        for (JsonNode r : root.get("results")) {
            assertTrue(r.get("GBs").asDouble() > 0 && r.get("shape").asText().startsWith("smoke"), r.toString());
        }
    }

    /** A torch column as bench/scripts/*_torch.py writes it: every listed case, 1.5 ms each. */
    private static int fakeTorch(Path shapes, Path torch) throws Exception {
        ObjectNode root = GpuBenchRun.JSON.createObjectNode();
        ArrayNode cases = root.putArray("cases");
        for (JsonNode c : GpuBenchRun.JSON.readTree(shapes.toFile()).get("cases")) {
            cases.addObject().put("name", c.get("name").asText()).put("ms", 1.5);
        }
        GpuBenchRun.write(torch, root);
        return cases.size();
    }
}
