/** Tokenizer and corpus-preparation benchmarks: ours against HuggingFace tokenizers (Rust, through DJL). */
package io.electra.bench.tokenizer;
