/**
 * The module tree (named children and {@link io.electra.engine.nn.Parameter}s whose full names are
 * HuggingFace's state-dict keys), parameter initialisation, and loading and saving a module's
 * parameters by name.
 */
package io.electra.engine.nn;
