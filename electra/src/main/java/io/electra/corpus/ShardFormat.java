package io.electra.corpus;

/** File names and the row layout shared by the writer and {@link ShardDataset}; see package-info. */
final class ShardFormat {
    static final String FORMAT = "electra-shards";
    static final int VERSION = 1;
    static final String INDEX = "index.json";
    static final String TMP_SUFFIX = ".tmp";

    private ShardFormat() {
    }

    static String shardName(int index) {
        return String.format("shard-%05d.bin", index);
    }

    static boolean isOurs(String fileName) {
        return fileName.equals(INDEX) || fileName.equals("vocab.txt") || fileName.endsWith(TMP_SUFFIX) || fileName.matches("shard-\\d{5,}\\.bin");
    }

    /** Bytes per row: {@code maxLength} uint16 ids, then the uint16 start of segment B. */
    static int rowBytes(int maxLength) {
        return 2 * (maxLength + 1);
    }
}
