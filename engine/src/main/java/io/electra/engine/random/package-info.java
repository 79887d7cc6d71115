/** Philox4x32-10, the one counter-based generator behind masking, dropout and Gumbel noise on every backend. */
package io.electra.engine.random;
