/**
 * The pure-Java reference backend. {@link io.electra.engine.cpu.CpuBackend} validates every call and
 * delegates to one class per kernel family ({@code MatmulCpu}, {@code LayerNormCpu}, ...); those
 * plain loops define what each kernel means, and every other backend is tested against them.
 */
package io.electra.engine.cpu;
