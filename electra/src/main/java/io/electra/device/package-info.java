/**
 * Choosing the backend a command runs on: {@code cpu}, {@code cuda} (an error without a device) or
 * {@code auto} (CUDA when a device answers, else the CPU, saying why).
 */
package io.electra.device;
