/**
 * Reading and writing tensors in the safetensors format (HuggingFace's): an 8-byte little-endian
 * header length, a JSON header naming every tensor's dtype, shape and byte range, then the raw
 * little-endian data. Checkpoints are HuggingFace folders, so this is the engine's only file format
 * for weights and optimizer state.
 */
package io.electra.engine.io;
