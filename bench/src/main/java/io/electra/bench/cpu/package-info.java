/**
 * Benchmarks of the CPU reference backend: whole ELECTRA training steps with a per-kernel breakdown
 * ({@link io.electra.bench.cpu.CpuStepProfile}, a plain main), and JMH benchmarks of matmul in
 * GFLOP/s at ELECTRA-Small shapes and of the row-wise kernels (LayerNorm, GELU, softmax) in GB/s.
 */
package io.electra.bench.cpu;
