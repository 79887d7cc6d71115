package io.electra.kernels.gpu;

import io.electra.engine.DType;
import io.electra.engine.RngKey;
import io.electra.engine.StepCapture;
import io.electra.engine.StepGraph;
import io.electra.engine.Tensor;
import io.electra.kernels.CudaBackend;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CUDA graph capture of a step of backend calls: a replay computes bit for bit what the eager
 * calls compute (the kernels are deterministic), reads the inputs' current contents, and a step
 * that synchronizes fails the capture with a reason, leaving the backend usable.
 */
@Tag("gpu")
class CudaGraphGpuTest {

    @Test
    void replayComputesWhatTheEagerStepComputes() {
        CudaBackend gpu = Gpu.backend();
        List<Tensor> owned = new ArrayList<>();
        Random random = new Random(3);
        int N = 256, C = 128, F = 512, B = 2, H = 2, T = 64, D = 64;
        Tensor x = upload(gpu, owned, random, DType.BF16, N, C), w = upload(gpu, owned, random, DType.BF16, F, C);
        Tensor bias = upload(gpu, owned, random, DType.F32, F), y = alloc(gpu, owned, DType.F32, N, F);
        Tensor pre = alloc(gpu, owned, DType.BF16, N, F), act = alloc(gpu, owned, DType.BF16, N, F);
        Tensor q = upload(gpu, owned, random, DType.F32, B, H, T, D), k = upload(gpu, owned, random, DType.F32, B, H, T, D);
        Tensor v = upload(gpu, owned, random, DType.F32, B, H, T, D), dOut = upload(gpu, owned, random, DType.F32, B, H, T, D);
        Tensor out = alloc(gpu, owned, DType.F32, B, H, T, D), lse = alloc(gpu, owned, DType.F32, B, H, T);
        Tensor dq = alloc(gpu, owned, DType.F32, B, H, T, D), dk = alloc(gpu, owned, DType.F32, B, H, T, D);
        Tensor dv = alloc(gpu, owned, DType.F32, B, H, T, D), mask = alloc(gpu, owned, DType.I32, B, T);
        gpu.fill(mask, 1);
        RngKey key = new RngKey(5, 1, RngKey.DROPOUT_BASE);
        Runnable step = () -> {
            gpu.matmulBias(y, x, false, w, true, bias);
            gpu.matmulBiasGelu(act, pre, x, false, w, true, bias);
            gpu.attentionForward(out, lse, q, k, v, mask, 0.125f, 0.1f, key);
            for (Tensor g : new Tensor[] {dq, dk, dv}) gpu.fill(g, 0);
            gpu.attentionBackward(dq, dk, dv, dOut, q, k, v, mask, lse, out, 0.125f, 0.1f, key);
        };
        Tensor[] results = {y, act, pre, out, lse, dq, dk, dv};
        try {
            step.run();  // eager, and warms every buffer to its final size
            float[][] eager = download(gpu, results);
            StepCapture capture = gpu.captureStep(step);
            assertTrue(capture.isCaptured(), capture.reason());
            try (StepGraph graph = capture.graph().orElseThrow()) {
                for (Tensor r : results) gpu.fill(r, -1);
                graph.replay();
                float[][] replayed = download(gpu, results);
                for (int i = 0; i < results.length; i++) assertArrayEquals(eager[i], replayed[i], "replayed " + results[i].describe());

                gpu.upload(q, gaussian(random, B * H * T * D));  // new inputs go in outside the graph
                step.run();
                float[][] eagerAgain = download(gpu, results);
                graph.replay();
                graph.replay();  // replays are idempotent: the step overwrites before it accumulates
                float[][] replayedAgain = download(gpu, results);
                for (int i = 0; i < results.length; i++) {
                    assertArrayEquals(eagerAgain[i], replayedAgain[i], "replayed after new inputs " + results[i].describe());
                }
            }
        } finally {
            for (Tensor t : owned) gpu.free(t);
        }
    }

    @Test
    void aStepThatSynchronizesCannotBeCapturedAndSaysWhy() {
        CudaBackend gpu = Gpu.backend();
        Tensor t = gpu.allocate(DType.F32, 1000);
        try {
            gpu.fill(t, 2);
            StepCapture capture = gpu.captureStep(() -> {
                gpu.scale(t, t, 3f);
                gpu.synchronize();
            });
            assertFalse(capture.isCaptured());
            assertTrue(capture.reason().contains("may not synchronize"), capture.reason());
            gpu.scale(t, t, 3f);  // the stream is out of capture mode and works
            float[] got = gpu.downloadFloat(t);
            for (float g : got) assertTrue(g == 6f, "after a failed capture the eager scale gave " + g);
        } finally {
            gpu.free(t);
        }
    }

    private static Tensor alloc(CudaBackend gpu, List<Tensor> owned, DType type, int... shape) {
        Tensor t = gpu.allocate(type, shape);
        owned.add(t);
        return t;
    }

    private static Tensor upload(CudaBackend gpu, List<Tensor> owned, Random random, DType type, int... shape) {
        Tensor t = alloc(gpu, owned, type, shape);
        gpu.upload(t, gaussian(random, Math.toIntExact(t.size())));
        return t;
    }

    private static float[] gaussian(Random random, int n) {
        float[] data = new float[n];
        for (int i = 0; i < n; i++) data[i] = (float) random.nextGaussian();
        return data;
    }

    private static float[][] download(CudaBackend gpu, Tensor[] tensors) {
        float[][] out = new float[tensors.length][];
        for (int i = 0; i < tensors.length; i++) out[i] = gpu.downloadFloat(tensors[i]);
        return out;
    }
}
