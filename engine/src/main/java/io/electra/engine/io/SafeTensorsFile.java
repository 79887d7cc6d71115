package io.electra.engine.io;

import io.electra.engine.Backend;
import io.electra.engine.DType;
import io.electra.engine.Tensor;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A safetensors file opened for reading. The header is parsed and validated on open; tensor data is
 * read on demand through memory-mapped windows, so files larger than 2 GiB work.
 *
 * <p>F32, F16, BF16, F64, I32 and I64 convert to Java numbers; every other dtype the format defines is
 * listed but reading it as numbers is refused with an error naming the tensor.
 */
public final class SafeTensorsFile implements AutoCloseable {
    /** The format's own limit on the header (it guards against allocating absurd sizes). */
    static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;
    static final long DEFAULT_WINDOW_BYTES = 1L << 30;
    static final int STAGE_BYTES = 1 << 20; // a multiple of every element size

    private final Path file;
    private final FileChannel channel;
    private final Map<String, SafeTensorsEntry> entries; // header order
    private final Map<String, String> metadata;
    private final MappedWindows data;

    private SafeTensorsFile(Path file, FileChannel channel, SafeTensorsHeader header, MappedWindows data) {
        this.file = file;
        this.channel = channel;
        this.metadata = header.metadata;
        this.data = data;
        this.entries = new LinkedHashMap<>();
        for (SafeTensorsEntry e : header.entries) entries.put(e.name(), e);
    }

    public static SafeTensorsFile open(Path file) throws IOException {
        return open(file, DEFAULT_WINDOW_BYTES);
    }

    /** Tests use small windows to make tensors straddle window boundaries without writing 2 GiB. */
    static SafeTensorsFile open(Path file, long windowBytes) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw new SafeTensorsFormatException(file, "truncated file: " + fileSize
                        + " bytes, fewer than the 8-byte header length");
            }
            ByteBuffer lengthBytes = readFully(file, channel, 0, 8);
            long headerBytes = lengthBytes.order(ByteOrder.LITTLE_ENDIAN).getLong(0);
            if (headerBytes < 0 || headerBytes > MAX_HEADER_BYTES) {
                throw new SafeTensorsFormatException(file, "header length " + Long.toUnsignedString(headerBytes)
                        + " exceeds the format's limit of " + MAX_HEADER_BYTES + " bytes");
            }
            if (8 + headerBytes > fileSize) {
                throw new SafeTensorsFormatException(file, "header length " + headerBytes
                        + " reaches past the end of the file (" + fileSize + " bytes)");
            }
            byte[] json = readFully(file, channel, 8, (int) headerBytes).array();
            long dataStart = 8 + headerBytes;
            SafeTensorsHeader header = SafeTensorsHeader.parse(file, json, fileSize - dataStart);
            MappedWindows data = new MappedWindows(channel, dataStart, fileSize - dataStart, windowBytes);
            return new SafeTensorsFile(file, channel, header, data);
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    private static ByteBuffer readFully(Path file, FileChannel channel, long pos, int n) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(n);
        while (buf.hasRemaining()) {
            if (channel.read(buf, pos + buf.position()) < 0) throw new EOFException(file + ": unexpected end of file");
        }
        return buf;
    }

    public Path path() {
        return file;
    }

    /** Every tensor, in header order. */
    public List<SafeTensorsEntry> entries() {
        return List.copyOf(entries.values());
    }

    public List<String> names() {
        return new ArrayList<>(entries.keySet());
    }

    public boolean contains(String name) {
        return entries.containsKey(name);
    }

    /** The entry named {@code name}; an error naming the file when it is absent. */
    public SafeTensorsEntry entry(String name) {
        SafeTensorsEntry e = entries.get(name);
        if (e == null) throw new IllegalArgumentException(file + ": no tensor named '" + name + "'");
        return e;
    }

    /** The {@code __metadata__} strings (empty when the header has none). */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The tensor's raw little-endian bytes, whatever its dtype. */
    public byte[] readRaw(String name) {
        SafeTensorsEntry e = entry(name);
        ByteBuffer dst = ByteBuffer.allocate(checkedLength(e, 1));
        data.read(e.begin(), dst);
        return dst.array();
    }

    /** The tensor as floats: F32 exactly, F16/BF16 widened, F64/I32/I64 rounded to nearest float. */
    public float[] readFloat(String name) {
        SafeTensorsEntry e = convertible(name, "float", SafeTensorsDType.F32, SafeTensorsDType.F16,
                SafeTensorsDType.BF16, SafeTensorsDType.F64, SafeTensorsDType.I32, SafeTensorsDType.I64);
        float[] out = new float[checkedLength(e, e.dtype().bytes)];
        forEachChunk(e, (buf, at, n) -> {
            switch (e.dtype()) {
                case F32 -> buf.asFloatBuffer().get(out, at, n);
                case F16 -> { for (int i = 0; i < n; i++) out[at + i] = HalfFloats.f16ToFloat(buf.getShort(2 * i)); }
                case BF16 -> { for (int i = 0; i < n; i++) out[at + i] = HalfFloats.bf16ToFloat(buf.getShort(2 * i)); }
                case F64 -> { for (int i = 0; i < n; i++) out[at + i] = (float) buf.getDouble(8 * i); }
                case I32 -> { for (int i = 0; i < n; i++) out[at + i] = buf.getInt(4 * i); }
                case I64 -> { for (int i = 0; i < n; i++) out[at + i] = buf.getLong(8 * i); }
                default -> throw new AssertionError(e.dtype());
            }
        });
        return out;
    }

    /** The tensor as doubles: exact for every convertible dtype except I64 beyond 2^53. */
    public double[] readDouble(String name) {
        SafeTensorsEntry e = convertible(name, "double", SafeTensorsDType.F32, SafeTensorsDType.F16,
                SafeTensorsDType.BF16, SafeTensorsDType.F64, SafeTensorsDType.I32, SafeTensorsDType.I64);
        double[] out = new double[checkedLength(e, e.dtype().bytes)];
        forEachChunk(e, (buf, at, n) -> {
            switch (e.dtype()) {
                case F32 -> { for (int i = 0; i < n; i++) out[at + i] = buf.getFloat(4 * i); }
                case F16 -> { for (int i = 0; i < n; i++) out[at + i] = HalfFloats.f16ToFloat(buf.getShort(2 * i)); }
                case BF16 -> { for (int i = 0; i < n; i++) out[at + i] = HalfFloats.bf16ToFloat(buf.getShort(2 * i)); }
                case F64 -> buf.asDoubleBuffer().get(out, at, n);
                case I32 -> { for (int i = 0; i < n; i++) out[at + i] = buf.getInt(4 * i); }
                case I64 -> { for (int i = 0; i < n; i++) out[at + i] = buf.getLong(8 * i); }
                default -> throw new AssertionError(e.dtype());
            }
        });
        return out;
    }

    /** An I32 tensor, or an I64 one whose every value fits an int (else an error naming the index). */
    public int[] readInt(String name) {
        SafeTensorsEntry e = convertible(name, "int", SafeTensorsDType.I32, SafeTensorsDType.I64);
        int[] out = new int[checkedLength(e, e.dtype().bytes)];
        forEachChunk(e, (buf, at, n) -> {
            if (e.dtype() == SafeTensorsDType.I32) {
                buf.asIntBuffer().get(out, at, n);
                return;
            }
            for (int i = 0; i < n; i++) {
                long v = buf.getLong(8 * i);
                if (v != (int) v) {
                    throw new IllegalArgumentException(file + ": tensor '" + name + "': I64 value " + v
                            + " at element " + (at + i) + " does not fit in an int");
                }
                out[at + i] = (int) v;
            }
        });
        return out;
    }

    /** An I64 or I32 tensor as longs. */
    public long[] readLong(String name) {
        SafeTensorsEntry e = convertible(name, "long", SafeTensorsDType.I64, SafeTensorsDType.I32);
        long[] out = new long[checkedLength(e, e.dtype().bytes)];
        forEachChunk(e, (buf, at, n) -> {
            if (e.dtype() == SafeTensorsDType.I64) buf.asLongBuffer().get(out, at, n);
            else for (int i = 0; i < n; i++) out[at + i] = buf.getInt(4 * i);
        });
        return out;
    }

    /**
     * Uploads the tensor into a new persistent tensor of {@code backend} with element type
     * {@code dtype}, converting on the host; the caller owns (and frees) the result.
     */
    public Tensor load(String name, Backend backend, DType dtype) {
        SafeTensorsEntry e = entry(name);
        Tensor t = backend.allocate(dtype, e.shape()).named(name);
        try {
            switch (dtype) {
                case F32 -> backend.upload(t, readFloat(name));
                case F64 -> backend.upload(t, readDouble(name));
                case I32 -> backend.upload(t, readInt(name));
                case BF16 -> backend.upload(t, readBf16Bits(e));
            }
        } catch (RuntimeException ex) {
            backend.free(t);
            throw ex;
        }
        return t;
    }

    /** BF16 data as its own bits; anything else rounded from float. */
    private short[] readBf16Bits(SafeTensorsEntry e) {
        if (e.dtype() != SafeTensorsDType.BF16) {
            float[] f = readFloat(e.name());
            short[] out = new short[f.length];
            for (int i = 0; i < f.length; i++) out[i] = HalfFloats.floatToBf16(f[i]);
            return out;
        }
        short[] out = new short[checkedLength(e, 2)];
        forEachChunk(e, (buf, at, n) -> buf.asShortBuffer().get(out, at, n));
        return out;
    }

    private SafeTensorsEntry convertible(String name, String target, SafeTensorsDType... accepted) {
        SafeTensorsEntry e = entry(name);
        if (!Arrays.asList(accepted).contains(e.dtype())) {
            String why = e.dtype().convertible ? "" : " (" + e.dtype() + " is listed but not supported for conversion)";
            throw new IllegalArgumentException(file + ": tensor '" + name + "' has dtype " + e.dtype()
                    + ", which cannot be read as " + target + " (accepted: " + Arrays.toString(accepted) + ")" + why);
        }
        return e;
    }

    private int checkedLength(SafeTensorsEntry e, int elementBytes) {
        long n = e.byteCount() / elementBytes;
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(file + ": tensor '" + e.name() + "' has " + n
                    + " elements, more than a Java array holds");
        }
        return (int) n;
    }

    /** Receives {@code n} whole elements, starting at element {@code at}, in a little-endian buffer at position 0. */
    private interface Chunk {
        void accept(ByteBuffer buf, int at, int n);
    }

    /** Streams a tensor's bytes through a staging buffer, so straddling a window needs no special case. */
    private void forEachChunk(SafeTensorsEntry e, Chunk chunk) {
        if (!channel.isOpen()) throw new IllegalStateException(file + " is closed");
        int elem = e.dtype().bytes;
        long total = e.byteCount();
        ByteBuffer stage = ByteBuffer.allocate((int) Math.min(STAGE_BYTES, Math.max(total, 1)))
                .order(ByteOrder.LITTLE_ENDIAN);
        long done = 0;
        while (done < total) {
            int n = (int) Math.min(stage.capacity(), total - done);
            stage.clear().limit(n);
            data.read(e.begin() + done, stage);
            stage.flip();
            chunk.accept(stage.slice().order(ByteOrder.LITTLE_ENDIAN), (int) (done / elem), n / elem);
            done += n;
        }
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }

    @Override
    public String toString() {
        return "SafeTensorsFile(" + file + ", " + entries.size() + " tensors)";
    }
}
