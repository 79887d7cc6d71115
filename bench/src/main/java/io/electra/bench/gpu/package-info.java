/**
 * GPU benchmarks: {@link io.electra.bench.gpu.KernelBandwidthBench} (achieved bandwidth of each
 * memory-bound kernel against a device-to-device copy, timed with CUDA events),
 * {@link io.electra.bench.gpu.LaunchOverheadBench} (JMH: kernel launches per second),
 * {@link io.electra.bench.gpu.GemmBench} (the bf16 tensor-core GEMM against torch.matmul, TFLOP/s)
 * and {@link io.electra.bench.gpu.AttentionBench} (flash attention forward + backward against
 * PyTorch's scaled_dot_product_attention). The PyTorch sides are bench/scripts/*_torch.py, run in
 * the same session by the GPU bundle's run-gpu-bench.sh.
 */
package io.electra.bench.gpu;
