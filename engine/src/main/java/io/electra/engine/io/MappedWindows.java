package io.electra.engine.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A read-only byte range of a file mapped as consecutive windows, because one Java 17 buffer maps at
 * most 2 GiB. A read may straddle windows; reads use absolute positions only, so they are thread-safe.
 * The mappings are released by the garbage collector (Java 17 has no explicit unmap).
 */
final class MappedWindows {
    private final MappedByteBuffer[] windows;
    private final long windowBytes;
    private final long length;

    MappedWindows(FileChannel channel, long start, long length, long windowBytes) throws IOException {
        if (windowBytes <= 0 || windowBytes > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("window size " + windowBytes + " outside (0, 2^31-1]");
        }
        this.windowBytes = windowBytes;
        this.length = length;
        int count = Math.toIntExact((length + windowBytes - 1) / windowBytes);
        windows = new MappedByteBuffer[count];
        for (int i = 0; i < count; i++) {
            long from = (long) i * windowBytes;
            windows[i] = channel.map(FileChannel.MapMode.READ_ONLY, start + from, Math.min(windowBytes, length - from));
        }
    }

    long length() {
        return length;
    }

    /** Fills {@code dst} from its position to its limit with the bytes starting at {@code pos}. */
    void read(long pos, ByteBuffer dst) {
        if (pos < 0 || pos + dst.remaining() > length) {
            throw new IndexOutOfBoundsException("read [" + pos + ", " + (pos + dst.remaining()) + ") outside [0, "
                    + length + ")");
        }
        while (dst.hasRemaining()) {
            int w = (int) (pos / windowBytes);
            int within = (int) (pos % windowBytes);
            int n = Math.min(dst.remaining(), windows[w].capacity() - within);
            dst.put(dst.position(), windows[w], within, n);
            dst.position(dst.position() + n);
            pos += n;
        }
    }
}
