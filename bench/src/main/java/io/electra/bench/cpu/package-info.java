/**
 * JMH benchmarks of the CPU reference backend: matmul in GFLOP/s at ELECTRA-Small shapes, and the
 * row-wise kernels (LayerNorm, GELU, softmax) in GB/s.
 */
package io.electra.bench.cpu;
