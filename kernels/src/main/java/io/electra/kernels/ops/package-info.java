/**
 * One launcher class per kernel family: the only code that knows a family's kernel names,
 * argument order and launch configuration. Each typed method checks shapes and dtypes, computes
 * the grid and launches, and names the module and kernel in every error.
 */
package io.electra.kernels.ops;
