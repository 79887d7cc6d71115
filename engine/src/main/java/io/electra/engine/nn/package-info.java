/**
 * The module tree (named children and {@link io.electra.engine.nn.Parameter}s whose full names are
 * HuggingFace's state-dict keys), parameter initialisation, and loading and saving a module's
 * parameters by name. Linear layers that read one input can run as one
 * ({@link io.electra.engine.nn.StackedLinear}), their parameters rows of shared tensors
 * ({@link io.electra.engine.nn.ParameterStack}).
 */
package io.electra.engine.nn;
