/**
 * Reverse-mode autodiff in two classes: {@link io.electra.engine.autograd.Tape} records each op's
 * backward closure in execution order and replays them in reverse; {@link io.electra.engine.autograd.Ops}
 * holds the differentiable operations, each a backend forward plus the closure that accumulates its
 * inputs' gradients.
 */
package io.electra.engine.autograd;
