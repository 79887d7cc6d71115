package io.electra.engine.cpu;

import io.electra.engine.Tensor;

/**
 * Split and merge attention heads: [B,T,H*D] and [B,H,T,D] hold the same numbers in two layouts.
 * Each (b, t) row moves H runs of D contiguous elements.
 */
final class HeadsCpu {
    private final Parallel parallel;

    HeadsCpu(Parallel parallel) {
        this.parallel = parallel;
    }

    /** in [B,T,H*D] to out [B,H,T,D] (+= when accumulate). */
    void split(Tensor out, Tensor in, boolean accumulate) {
        move(in, out, out.dim(1), out.dim(2), out.dim(3), true, accumulate);
    }

    /** in [B,H,T,D] to out [B,T,H*D] (+= when accumulate). */
    void merge(Tensor out, Tensor in, boolean accumulate) {
        move(in, out, in.dim(1), in.dim(2), in.dim(3), false, accumulate);
    }

    private void move(Tensor from, Tensor to, int heads, int seq, int headDim, boolean split, boolean accumulate) {
        int batch = from.dim(0);
        parallel.parallelFor(batch * seq, (long) heads * headDim, (r0, r1) -> {
            double[] x = Scratch.get(0, headDim);
            for (int r = r0; r < r1; r++) {
                int b = r / seq, t = r % seq;
                for (int h = 0; h < heads; h++) {
                    long merged = ((long) r * heads + h) * headDim;
                    long perHead = (((long) b * heads + h) * seq + t) * headDim;
                    Elements.load(from, split ? merged : perHead, x, 0, headDim);
                    long dst = split ? perHead : merged;
                    if (accumulate) Elements.addTo(to, dst, x, 0, headDim);
                    else Elements.store(to, dst, x, 0, headDim);
                }
            }
        });
    }
}
