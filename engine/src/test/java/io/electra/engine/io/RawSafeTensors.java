package io.electra.engine.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds safetensors files byte by byte, so tests can write malformed ones the writer never would. */
final class RawSafeTensors {
    private RawSafeTensors() {
    }

    /** An 8-byte length (as given), the header text, then {@code data}. */
    static Path write(Path file, long declaredHeaderLength, String header, byte[] data) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer buf = ByteBuffer.allocate(8 + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        buf.putLong(declaredHeaderLength).put(h).put(data);
        Files.write(file, buf.array());
        return file;
    }

    /** A well-formed length prefix for {@code header}. */
    static Path write(Path file, String header, byte[] data) throws IOException {
        return write(file, header.getBytes(StandardCharsets.UTF_8).length, header, data);
    }

    static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    static byte[] longs(long... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) b.putLong(x);
        return b.array();
    }
}
