/**
 * Corpus text to pre-training rows, and the reader for them.
 *
 * <h2>Input</h2>
 * Text files or directories of them, plain or gzip, UTF-8, one paragraph or sentence per line; a
 * blank line ends a document, and so does the end of a file. {@link io.electra.corpus.CorpusPreparer}
 * tokenizes with {@link io.electra.tokenizer.WordPieceTokenizer} (literal special tokens are plain
 * text) and packs rows as ELECTRA's {@code build_pretraining_dataset.py} does
 * ({@link io.electra.corpus.ExampleBuilder}).
 *
 * <h2>Dataset directory</h2>
 * <pre>
 * index.json          written last; without it the directory is not a dataset
 * shard-00000.bin     rows 0 .. rows_per_shard-1
 * shard-00001.bin     ...
 * </pre>
 * A shard is a sequence of fixed-size rows, {@code 2 * (max_length + 1)} bytes each, all
 * little-endian unsigned 16-bit integers:
 * <pre>
 * ids[0 .. max_length)   [CLS] A [SEP] B [SEP] then 0 (= [PAD]) to the end
 * start_b                index of B's first token; the row's real length when there is no B
 * </pre>
 * Token type ids are 1 for positions {@code j >= start_b} with {@code ids[j] != 0} and 0 elsewhere;
 * the attention mask is {@code ids[j] != 0} (corpus text cannot produce id 0: the tokenizer runs
 * with {@link io.electra.tokenizer.SpecialTokens#NEVER}).
 *
 * <p>{@code index.json} ({@link io.electra.corpus.ShardIndex}, snake_case): {@code format}
 * ("electra-shards"), {@code version} (1), {@code vocab_sha256} ({@link io.electra.tokenizer.Vocab#sha256()}),
 * {@code vocab_size}, {@code lower_case}, {@code max_length}, {@code rows_per_shard}, {@code rows},
 * {@code tokens} (real tokens in the rows, special tokens included), {@code corpus_tokens} (all
 * tokens of the text, including those ELECTRA's packing drops), {@code seed}, {@code documents},
 * {@code lines}, {@code replaced_invalid_utf8}, {@code shards} (file, rows, bytes), {@code sources}
 * (path, bytes on disk, invalid UTF-8 replaced) and {@code skipped_binary_files}.
 *
 * <h2>Reading</h2>
 * {@code ShardDataset.open(dir, vocab)} checks the vocabulary hash, then {@code rows()},
 * {@code maxLength()}, {@code readRow(i, ids, tokenTypeIds)} and {@code epochOrder(seed, epoch).row(k)}
 * (a deterministic shuffle per epoch).
 */
package io.electra.corpus;
