/**
 * GPU benchmarks: {@link io.electra.bench.gpu.KernelBandwidthBench} (achieved bandwidth of each
 * memory-bound kernel against a device-to-device copy, timed with CUDA events) and
 * {@link io.electra.bench.gpu.LaunchOverheadBench} (JMH: kernel launches per second).
 */
package io.electra.bench.gpu;
