package io.electra.pretrain;

import java.io.IOException;
import java.nio.file.Path;

/** Rows from the shards written by {@code electra prepare}. */
final class ShardSource {
    private ShardSource() {
    }

    static ExampleSource open(Path dir, Path vocab) throws IOException {
        throw new IOException("reading shards from " + dir + " needs the corpus reader, which this build lacks");
    }
}
