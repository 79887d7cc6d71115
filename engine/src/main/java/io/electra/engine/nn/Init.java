package io.electra.engine.nn;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Parameter initialisation as ELECTRA's official code does it: weights from a normal distribution with
 * standard deviation {@code initializer_range} (0.02) truncated at two standard deviations (TensorFlow's
 * {@code truncated_normal_initializer}: out-of-range draws are redrawn), biases zero, LayerNorm weights one.
 *
 * <p>Random numbers come from {@link SplittableRandom} (SplitMix64), one stream per parameter derived
 * from (seed, full parameter name), so adding a parameter does not change the others' values. Only its
 * {@code nextLong} is used; doubles ({@code (bits >>> 11) * 2^-53}) and normals (Box-Muller) are computed
 * here, not by {@code nextDouble}/{@code nextGaussian}, whose algorithms the JDK may change.
 */
public final class Init {
    /** TensorFlow's truncated normal keeps draws within this many standard deviations. */
    public static final double TRUNCATION = 2.0;

    private Init() {
    }

    /** The stream for one parameter: the seed mixed with a 64-bit FNV-1a hash of the name's UTF-8 bytes. */
    public static SplittableRandom stream(long seed, String name) {
        long h = 0xcbf29ce484222325L;
        for (byte b : name.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xFF;
            h *= 0x100000001b3L;
        }
        return new SplittableRandom(seed ^ h);
    }

    /** Fills {@code p} with N(0, std^2) truncated to [-2 std, 2 std]. */
    public static void truncatedNormal(Parameter p, double std, SplittableRandom rng) {
        HostValues.upload(p.value(), truncatedNormal(Math.toIntExact(p.value().size()), std, rng));
        p.refreshBf16Copy();
    }

    /** {@link #truncatedNormal(Parameter, double, SplittableRandom)} with the stream of (seed, p.name()). */
    public static void truncatedNormal(Parameter p, double std, long seed) {
        truncatedNormal(p, std, stream(seed, p.name()));
    }

    public static void zeros(Parameter p) {
        p.value().backend().fill(p.value(), 0);
        p.refreshBf16Copy();
    }

    public static void ones(Parameter p) {
        p.value().backend().fill(p.value(), 1);
        p.refreshBf16Copy();
    }

    /** {@code n} draws of N(0, std^2) truncated at {@link #TRUNCATION} standard deviations. */
    static double[] truncatedNormal(int n, double std, SplittableRandom rng) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            double z;
            do {
                z = standardNormal(rng);
            } while (Math.abs(z) > TRUNCATION);
            out[i] = z * std;
        }
        return out;
    }

    /** Uniform in [0, 1) with 53 random bits. */
    static double uniform(SplittableRandom rng) {
        return (rng.nextLong() >>> 11) * 0x1.0p-53;
    }

    /** Box-Muller: two uniforms, one normal (the sine twin is discarded to keep the stream stateless). */
    static double standardNormal(SplittableRandom rng) {
        double u1 = 1.0 - uniform(rng); // (0, 1]: log stays finite
        double u2 = uniform(rng);
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2.0 * Math.PI * u2);
    }
}
