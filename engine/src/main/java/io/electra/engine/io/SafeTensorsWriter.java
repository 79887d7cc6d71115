package io.electra.engine.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.electra.engine.Tensor;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Collects named tensors and writes them as one safetensors file, the way HuggingFace does: header
 * keys sorted, the header padded with spaces so the data starts 8-byte aligned, and the data laid out
 * by element size (largest first) then name, so every tensor is aligned to its element size.
 *
 * <p>{@link #write} goes to {@code <file>.tmp}, forces it to disk, then renames it over the target
 * atomically: a crash leaves either the old file or the new one, never half of one.
 * Backend tensors are downloaded during {@link #write}, so they must still be alive then.
 */
public final class SafeTensorsWriter {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int CHUNK_BYTES = 1 << 20; // a multiple of every element size

    /** Writes a tensor's elements {@code [from, from+n)} into a little-endian buffer. */
    private interface Encoder {
        void encode(ByteBuffer dst, int from, int n);
    }

    private record Pending(String name, SafeTensorsDType dtype, int[] shape, long elements, Encoder encoder,
                           Tensor deferred) {
    }

    private final Map<String, Pending> tensors = new LinkedHashMap<>();
    private final Map<String, String> metadata = new TreeMap<>();

    public SafeTensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    public SafeTensorsWriter add(String name, float[] data, int... shape) {
        return put(name, SafeTensorsDType.F32, shape, data.length,
                (dst, from, n) -> dst.asFloatBuffer().put(data, from, n));
    }

    public SafeTensorsWriter add(String name, double[] data, int... shape) {
        return put(name, SafeTensorsDType.F64, shape, data.length,
                (dst, from, n) -> dst.asDoubleBuffer().put(data, from, n));
    }

    public SafeTensorsWriter add(String name, int[] data, int... shape) {
        return put(name, SafeTensorsDType.I32, shape, data.length,
                (dst, from, n) -> dst.asIntBuffer().put(data, from, n));
    }

    public SafeTensorsWriter add(String name, long[] data, int... shape) {
        return put(name, SafeTensorsDType.I64, shape, data.length,
                (dst, from, n) -> dst.asLongBuffer().put(data, from, n));
    }

    /** 16-bit floats given as raw bit patterns; {@code dtype} is BF16 or F16. */
    public SafeTensorsWriter addBits(String name, SafeTensorsDType dtype, short[] bits, int... shape) {
        if (dtype != SafeTensorsDType.BF16 && dtype != SafeTensorsDType.F16) {
            throw new IllegalArgumentException("tensor '" + name + "': 16-bit data must be BF16 or F16, not " + dtype);
        }
        return put(name, dtype, shape, bits.length, (dst, from, n) -> dst.asShortBuffer().put(bits, from, n));
    }

    /** Any dtype as its raw little-endian bytes (for types with no Java counterpart, such as U8 or BOOL). */
    public SafeTensorsWriter addRaw(String name, SafeTensorsDType dtype, byte[] littleEndian, int... shape) {
        if (littleEndian.length % dtype.bytes != 0) {
            throw new IllegalArgumentException("tensor '" + name + "': " + littleEndian.length
                    + " bytes is not a whole number of " + dtype + " elements");
        }
        return put(name, dtype, shape, littleEndian.length / dtype.bytes,
                (dst, from, n) -> dst.put(littleEndian, from * dtype.bytes, n * dtype.bytes));
    }

    /** A backend tensor, stored with its own dtype and downloaded when the file is written. */
    public SafeTensorsWriter add(String name, Tensor t) {
        SafeTensorsDType dtype = switch (t.dtype()) {
            case F32 -> SafeTensorsDType.F32;
            case BF16 -> SafeTensorsDType.BF16;
            case I32 -> SafeTensorsDType.I32;
            case F64 -> SafeTensorsDType.F64;
        };
        checkNew(name);
        long elements = checkShape(name, t.shape(), t.size());
        tensors.put(name, new Pending(name, dtype, t.shape(), elements, null, t));
        return this;
    }

    private SafeTensorsWriter put(String name, SafeTensorsDType dtype, int[] shape, long length, Encoder encoder) {
        checkNew(name);
        long elements = checkShape(name, shape, length);
        tensors.put(name, new Pending(name, dtype, shape.clone(), elements, encoder, null));
        return this;
    }

    private void checkNew(String name) {
        if (name == null || name.isEmpty() || name.equals(SafeTensorsHeader.METADATA_KEY)) {
            throw new IllegalArgumentException("invalid tensor name '" + name + "'");
        }
        if (tensors.containsKey(name)) throw new IllegalArgumentException("tensor '" + name + "' added twice");
    }

    private static long checkShape(String name, int[] shape, long length) {
        long n = Tensor.sizeOf(shape);
        if (n != length) {
            throw new IllegalArgumentException("tensor '" + name + "': shape " + Arrays.toString(shape) + " holds "
                    + n + " elements but the data has " + length);
        }
        return n;
    }

    /** Writes every collected tensor to {@code file}, replacing it atomically. */
    public void write(Path file) throws IOException {
        List<Pending> layout = new ArrayList<>(tensors.values());
        layout.sort(Comparator.comparingInt((Pending p) -> -p.dtype.bytes).thenComparing(Pending::name));
        Map<String, Object> header = new LinkedHashMap<>();
        if (!metadata.isEmpty()) header.put(SafeTensorsHeader.METADATA_KEY, metadata);
        Map<String, Object> sorted = new TreeMap<>();
        long offset = 0;
        for (Pending p : layout) {
            long bytes = p.elements * p.dtype.bytes;
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("dtype", p.dtype.name());
            e.put("shape", p.shape);
            e.put("data_offsets", new long[] {offset, offset + bytes});
            sorted.put(p.name, e);
            offset += bytes;
        }
        header.putAll(sorted);
        byte[] headerBytes = paddedHeader(header);

        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, headerBytes.length);
            writeFully(out, length);
            writeFully(out, ByteBuffer.wrap(headerBytes));
            ByteBuffer chunk = ByteBuffer.allocate(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (Pending p : layout) writeData(out, p, chunk);
            out.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(file.toAbsolutePath().getParent());
    }

    private static byte[] paddedHeader(Map<String, Object> header) throws JsonProcessingException {
        byte[] json = JSON.writeValueAsString(header).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8; // 8 + header then starts the data 8-byte aligned
        byte[] out = Arrays.copyOf(json, padded);
        Arrays.fill(out, json.length, padded, (byte) ' ');
        return out;
    }

    private static void writeData(FileChannel out, Pending p, ByteBuffer chunk) throws IOException {
        Encoder encoder = p.encoder != null ? p.encoder : download(p);
        int perChunk = CHUNK_BYTES / p.dtype.bytes;
        for (long from = 0; from < p.elements; from += perChunk) {
            int n = (int) Math.min(perChunk, p.elements - from);
            chunk.clear();
            encoder.encode(chunk.slice().order(ByteOrder.LITTLE_ENDIAN), (int) from, n);
            chunk.limit(n * p.dtype.bytes);
            writeFully(out, chunk);
        }
    }

    private static Encoder download(Pending p) {
        Tensor t = p.deferred;
        return switch (t.dtype()) {
            case F32 -> {
                float[] d = t.backend().downloadFloat(t);
                yield (dst, from, n) -> dst.asFloatBuffer().put(d, from, n);
            }
            case BF16 -> {
                // widening bf16 to float and rounding back is exact, so the bits survive the download
                float[] d = t.backend().downloadFloat(t);
                yield (dst, from, n) -> {
                    for (int i = 0; i < n; i++) dst.putShort(2 * i, HalfFloats.floatToBf16(d[from + i]));
                };
            }
            case I32 -> {
                int[] d = t.backend().downloadInt(t);
                yield (dst, from, n) -> dst.asIntBuffer().put(d, from, n);
            }
            case F64 -> {
                double[] d = t.backend().downloadDouble(t);
                yield (dst, from, n) -> dst.asDoubleBuffer().put(d, from, n);
            }
        };
    }

    private static void writeFully(FileChannel out, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) out.write(buf);
    }

    /** Makes the rename itself durable; some platforms cannot open a directory, which only loses that guarantee. */
    private static void syncDirectory(Path dir) throws IOException {
        if (dir == null) return;
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (AccessDeniedException | UnsupportedOperationException e) {
            // Windows refuses to open directories; the data itself is already on disk
        }
    }
}
